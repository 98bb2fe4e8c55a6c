#!/bin/bash
# t1100-deploy-refusals.sh - what deploy refuses, it refuses before the host changes: wrong
# architecture, missing user, port taken, bad manifest, a unit berth does not own.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth deploy refuses bad input with the host byte-for-byte unchanged'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

manifest good.ini guard 8111

test_expect_success 'a healthy service to guard' '
	"$BERTH" deploy good.ini &&
	host_snapshot guard.service >before
'

test_expect_success 'an arm64 binary is refused, saying how to rebuild (exit 3)' '
	test_must_fail_with 3 "$BERTH" deploy --binary "$HELLO_ARM64" good.ini 2>err &&
	cat err &&
	grep -q "GOARCH=amd64" err &&
	host_snapshot guard.service >after &&
	test_cmp before after
'

test_expect_success 'a user that does not exist is refused (exit 3)' '
	manifest nouser.ini guard 8111 "service.user = nosuchuser" &&
	test_must_fail_with 3 "$BERTH" deploy nouser.ini 2>err &&
	grep -q "user \"nosuchuser\" does not exist" err &&
	host_snapshot guard.service >after &&
	test_cmp before after
'

test_expect_success 'a port held by another process is refused (exit 3)' '
	test_when_finished "systemctl stop squatter.service 2>/dev/null; true" &&
	systemd-run --unit=squatter "$HELLO" -listen 127.0.0.1:8112 &&
	for i in $(seq 50); do curl -fs http://127.0.0.1:8112/healthz && break; sleep 0.1; done &&
	manifest taken.ini newsvc 8112 &&
	host_snapshot guard.service newsvc.service >before2 &&
	test_must_fail_with 3 "$BERTH" deploy taken.ini 2>err &&
	cat err &&
	grep -q "port 8112 is already in use by hello" err &&
	host_snapshot guard.service newsvc.service >after2 &&
	test_cmp before2 after2
'

test_expect_success 'its own port is not "in use" when the service itself holds it' '
	new_binary v2 2 &&
	"$BERTH" deploy --binary v2 good.ini &&
	host_snapshot guard.service >before
'

# One above the guest's own fs.nr_open: 1048576 on Debian 12, while Debian 13's systemd raises it
# to the kernel's maximum (1073741816) at boot.
test_expect_success 'nofile above fs.nr_open is refused, naming the value to raise (exit 3)' '
	nr_open=$(cat /proc/sys/fs/nr_open) &&
	manifest nofile.ini guard 8111 "resources.nofile = $((nr_open + 1))" &&
	test_must_fail_with 3 "$BERTH" deploy nofile.ini 2>err &&
	grep -q "fs.nr_open ($(cat /proc/sys/fs/nr_open))" err &&
	host_snapshot guard.service >after &&
	test_cmp before after
'

test_expect_success 'an invalid manifest is refused with file, line and key (exit 3)' '
	printf "[service]\nname = guard\nbinary = %s\n[resources]\nmemory = 512Q\n" "$HELLO" >bad.ini &&
	test_must_fail_with 3 "$BERTH" deploy bad.ini 2>err &&
	grep -q "bad.ini:5: \[resources\] memory" err &&
	host_snapshot guard.service >after &&
	test_cmp before after
'

test_expect_success 'an unknown key gets a suggestion' '
	printf "[service]\nname = guard\nbinary = %s\n[resources]\nmemroy = 64M\n" "$HELLO" >typo.ini &&
	test_must_fail_with 3 "$BERTH" deploy typo.ini 2>err &&
	grep -q "did you mean" err &&
	grep -q "memory" err
'

test_expect_success 'a unit berth did not write is never taken over' '
	test_when_finished "rm -f /etc/systemd/system/foreign.service; systemctl daemon-reload" &&
	printf "[Service]\nExecStart=/bin/sleep 1000\n" >/etc/systemd/system/foreign.service &&
	systemctl daemon-reload &&
	manifest foreign.ini foreign 8113 &&
	cp /etc/systemd/system/foreign.service foreign.before &&
	test_must_fail_with 3 "$BERTH" deploy foreign.ini 2>err &&
	grep -q "not managed by berth" err &&
	test_cmp foreign.before /etc/systemd/system/foreign.service &&
	test ! -e /var/lib/berth/foreign
'

test_expect_success 'a package unit of the same name is not shadowed' '
	manifest journald.ini systemd-journald 8114 &&
	test_must_fail_with 3 "$BERTH" deploy journald.ini 2>err &&
	grep -q "a unit named systemd-journald.service already exists" err &&
	test ! -e /etc/systemd/system/systemd-journald.service
'

test_expect_success 'the name of a system directory is refused before anything else (dbus: /var/lib/dbus)' '
	manifest dbus.ini dbus 8114 &&
	test_must_fail_with 3 "$BERTH" deploy dbus.ini 2>err &&
	grep -q "\"dbus\" is the name of a system directory (/var/lib/dbus)" err &&
	test ! -e /etc/systemd/system/dbus.service &&
	test ! -e /var/lib/berth/dbus
'

test_expect_success 'clean up' '
	remove_service guard
'

test_done
