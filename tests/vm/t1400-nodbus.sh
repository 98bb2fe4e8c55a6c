#!/bin/bash
# t1400-nodbus.sh - berth on a host without a D-Bus daemon (systemd only Recommends it; minimal
# images leave it out): as root berth talks to systemd over /run/systemd/private, job signals
# included. Meant for the image without dbus (BERTH_VM_VARIANT=nodbus); on an image with a bus,
# berth's way to it is cut (DBUS_SYSTEM_BUS_ADDRESS names no socket), so that only the private
# socket can work there too.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='deploy, status, limit, rollback and remove without a D-Bus daemon'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/berth-test-no-such-bus
if [ -S /run/dbus/system_bus_socket ]; then
	echo "# this image has a D-Bus daemon: berth is kept off it"
else
	echo "# this image has no D-Bus daemon"
fi

test_expect_success 'no system bus for berth; systemd'"'"'s private socket is there' '
	test -S /run/systemd/private &&
	test_must_fail busctl --system status &&
	if [ ! -S /run/dbus/system_bus_socket ]; then
		! command -v dbus-daemon && ! command -v dbus-broker
	fi
'

manifest v1.ini nd 8140 "environment.HELLO_VERSION = v1" "resources.memory = 64M"

test_expect_success 'deploy starts it and waits for its start job (JobRemoved on the private socket)' '
	"$BERTH" deploy --json --version v1 v1.ini >deploy.json 2>err &&
	cat deploy.json err &&
	json_get deploy.json ".ok" &&
	curl -fsS http://127.0.0.1:8140/ | grep -q "hello from v1" &&
	test "$(systemctl is-active nd)" = active
'

test_expect_success 'status as root' '
	"$BERTH" status nd >status.out &&
	cat status.out &&
	grep -q "active/running" status.out &&
	"$BERTH" status --json nd >status.json &&
	json_get status.json ".services[0].active_state == \"active\"" &&
	json_get status.json ".services[0].health.healthy"
'

test_expect_success 'status as another user needs the system bus: exit 75, saying why' '
	test_must_fail_with 75 setpriv --reuid=nobody --regid=nogroup --clear-groups "$BERTH" status nd 2>err &&
	cat err &&
	grep -q "cannot connect to systemd on the system bus" err &&
	grep -q "/run/systemd/private" err
'

test_expect_success 'limit changes memory live (SetUnitProperties)' '
	pid=$(main_pid nd) &&
	"$BERTH" limit --json nd --memory 96M >lim.json &&
	json_get lim.json ".ok" &&
	json_get lim.json ".limits.after.memory_max == 100663296" &&
	test "$(cat /sys/fs/cgroup/system.slice/nd.service/memory.max)" = 100663296 &&
	test "$(main_pid nd)" = "$pid"
'

test_expect_success 'a release that fails its health check is rolled back (failed job seen)' '
	new_binary v2bin 2 &&
	manifest v2.ini nd 8140 "environment.HELLO_VERSION = v2" "environment.HELLO_FAIL_HEALTH = 1" \
		"health.ready_timeout = 3s" &&
	test_must_fail_with 6 "$BERTH" deploy --version v2 --binary v2bin v2.ini 2>err &&
	cat err &&
	grep -q "rolled back to v1" err &&
	curl -fsS http://127.0.0.1:8140/ | grep -q "hello from v1"
'

test_expect_success 'a good release, then berth rollback back to v1' '
	new_binary v3bin 3 &&
	manifest v3.ini nd 8140 "environment.HELLO_VERSION = v3" &&
	"$BERTH" deploy --version v3 --binary v3bin v3.ini &&
	curl -fsS http://127.0.0.1:8140/ | grep -q "hello from v3" &&
	"$BERTH" rollback nd &&
	curl -fsS http://127.0.0.1:8140/ | grep -q "hello from v1" &&
	test "$(readlink /var/lib/berth/nd/current)" = releases/v1
'

test_expect_success 'remove stops it and leaves nothing behind' '
	"$BERTH" remove --purge nd &&
	test ! -e /etc/systemd/system/nd.service &&
	test ! -e /var/lib/berth/nd &&
	test "$(systemctl is-active nd)" != active &&
	test_must_fail curl -fsS http://127.0.0.1:8140/
'

test_done
