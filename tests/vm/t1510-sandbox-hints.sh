#!/bin/bash
# t1510-sandbox-hints.sh - when the sandbox refuses a program something it needs, the program
# reports it in its own words and neither systemd nor the kernel records why (t1500 shows that).
# berth deploy, status and logs point at the part of the sandbox and the manifest key that relaxes
# it, from the program's own log lines and from how its main process ended (systemd's
# 226/NAMESPACE for a read_write_paths entry that does not exist).
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth deploy, status and logs: what the sandbox refused, and the key that allows it'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

# stays_stopped NAME: inactive (or failed) now and a second later: not in auto-restart, as a
# release that dies at start is unless berth stops it
stays_stopped() {
	local state
	for _ in 1 2; do
		state=$(systemctl show -p ActiveState --value "$1.service")
		case $state in inactive | failed) ;; *) echo "$1 is $state"; return 1 ;; esac
		sleep 1
	done
}

test_expect_success 'a first deploy that dies listing interfaces names address_families' '
	manifest sb.ini sb 8181 "service.args = -listen 127.0.0.1:8181 -list-interfaces" &&
	test_must_fail "$BERTH" deploy sb.ini >out 2>err &&
	cat out err &&
	grep -q "listing interfaces: .*address family not supported by protocol" err &&
	grep -q "the sandbox may have refused it: a socket family outside RestrictAddressFamilies=" err &&
	grep -q "fix: add it to \[hardening\] address_families: AF_NETLINK" err &&
	stays_stopped sb
'

test_expect_success 'the same in --json: the hint, and the line that shows it; again it stays stopped' '
	test_must_fail "$BERTH" deploy --json sb.ini >deploy.json 2>/dev/null &&
	stays_stopped sb &&
	json_get deploy.json ".sandbox.id == \"address-family\"" &&
	json_get deploy.json ".sandbox.line | test(\"address family not supported\")" &&
	json_get deploy.json ".sandbox.fix | test(\"address_families\")"
'

test_expect_success 'berth status shows it for the run that failed' '
	"$BERTH" status sb >status.out &&
	cat status.out &&
	grep -q "└ the sandbox may have refused it: a socket family" status.out &&
	grep -q "seen in: .*\[[0-9]*\]: hello: listing interfaces:" status.out &&
	"$BERTH" status --json sb >status.json &&
	json_get status.json ".services[0].sandbox.id == \"address-family\""
'

test_expect_success 'berth logs marks it once, on stderr; its --json lines carry it' '
	"$BERTH" logs sb >logs.out 2>logs.err &&
	cat logs.out logs.err &&
	test "$(grep -c "address family not supported" logs.out)" -ge 2 &&
	test "$(grep -c "berth: the sandbox may have refused it: a socket family" logs.err)" = 1 &&
	! grep -q "sandbox may have refused" logs.out &&
	"$BERTH" logs --json sb >logs.json &&
	jq -e -s "map(select(.sandbox != null)) | length >= 2 and all(.sandbox.id == \"address-family\")" logs.json &&
	jq -e -s "map(select(.sandbox == null)) | length > 0" logs.json
'

test_expect_success 'with address_families = AF_NETLINK it deploys, and status shows no hint' '
	manifest sb.ini sb 8181 "service.args = -listen 127.0.0.1:8181 -list-interfaces" \
		"hardening.address_families = AF_NETLINK" &&
	"$BERTH" deploy sb.ini &&
	"$BERTH" status --json sb >status.json &&
	json_get status.json ".services[0].sandbox == null" &&
	"$BERTH" status sb >status.out &&
	! grep -q "sandbox may have refused" status.out
'

test_expect_success 'a write outside its own directories: read_write_paths; the rollback keeps the good release' '
	manifest sb.ini sb 8181 "service.args = -listen 127.0.0.1:8181 -write-file /etc/sb.state" &&
	test_must_fail "$BERTH" deploy --json sb.ini >deploy.json 2>/dev/null &&
	json_get deploy.json ".sandbox.id == \"read-only\"" &&
	json_get deploy.json ".sandbox.line | test(\"/etc/sb.state: read-only file system\")" &&
	json_get deploy.json ".sandbox.fix | test(\"read_write_paths\")" &&
	json_get deploy.json ".rolled_back" &&
	systemctl is-active -q sb &&
	"$BERTH" status --json sb >status.json &&
	json_get status.json ".services[0].sandbox == null" &&
	test ! -e /etc/sb.state
'

test_expect_success 'its own state directory is writable without any key' '
	manifest sb.ini sb 8181 "service.args = -listen 127.0.0.1:8181 -write-file /var/lib/sb/state" &&
	"$BERTH" deploy sb.ini &&
	test "$(cat /var/lib/private/sb/state 2>/dev/null || cat /var/lib/sb/state)" = v1
'

test_expect_success 'a read_write_paths entry that does not exist: systemd exits 226/NAMESPACE, berth says which key' '
	manifest sb.ini sb 8181 "hardening.read_write_paths = /srv/sb-missing" &&
	test_must_fail "$BERTH" deploy --json sb.ini >deploy.json 2>/dev/null &&
	cat deploy.json &&
	json_get deploy.json ".sandbox.id == \"namespace\"" &&
	json_get deploy.json ".sandbox.fix | test(\"read_write_paths must exist\")" &&
	systemctl is-active -q sb &&
	mkdir -p /srv/sb-missing &&
	test_when_finished "rmdir /srv/sb-missing" &&
	"$BERTH" deploy sb.ini
'

test_expect_success 'a healthy service shows no hint, and its logs none either' '
	"$BERTH" status --json sb >status.json &&
	json_get status.json ".services[0].sandbox == null" &&
	"$BERTH" logs -n 5 sb >logs.out 2>logs.err &&
	! grep -q "sandbox" logs.err
'

test_expect_success 'clean up' '
	remove_service sb &&
	test ! -e /etc/systemd/system/sb.service
'

test_done
