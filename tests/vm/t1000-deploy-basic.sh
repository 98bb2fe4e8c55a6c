#!/bin/bash
# t1000-deploy-basic.sh - berth deploy on a real systemd: install, health-gated start, status,
# idempotence, manifest-only and binary-only changes, --check, --diff, releases and logs.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth deploy: releases, health-gated start, idempotence'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

manifest web.ini web 8101 "resources.memory = 96M"

test_expect_success 'deploy refuses to run as an unprivileged user' '
	test_must_fail_with 4 setpriv --reuid=65534 --regid=65534 --clear-groups "$BERTH" deploy web.ini 2>err &&
	grep -q "must run as root" err &&
	test ! -e /etc/systemd/system/web.service
'

test_expect_success 'first deploy installs, starts and waits until healthy' '
	"$BERTH" deploy web.ini >out &&
	cat out &&
	grep -q "ready .*healthy, ready in [0-9]* ms" out &&
	curl -fsS --max-time 2 http://127.0.0.1:8101/healthz &&
	test "$(systemctl is-active web)" = active &&
	test "$(systemctl is-enabled web)" = enabled
'

test_expect_success 'the release is a root-owned copy, and current points at it' '
	cur=$(readlink /var/lib/berth/web/current) &&
	case $cur in releases/*) ;; *) false ;; esac &&
	v=${cur#releases/} &&
	test ${#v} = 12 &&
	test "$(stat -c "%U %a" /var/lib/berth/web/releases/$v/web)" = "root 755" &&
	cmp "$HELLO" /var/lib/berth/web/releases/$v/web &&
	echo "$v" >version
'

test_expect_success 'status shows it active, healthy, with its release and ready time' '
	"$BERTH" status web >status.out &&
	cat status.out &&
	grep -q "active/running" status.out &&
	grep -q "healthy" status.out &&
	grep -q "$(cat version)" status.out &&
	"$BERTH" status --json web >status.json &&
	json_get status.json ".services[0].active_state == \"active\"" &&
	json_get status.json ".services[0].health.healthy" &&
	json_get status.json ".services[0].release == \"$(cat version)\"" &&
	json_get status.json ".services[0].ready_msec >= 0" &&
	json_get status.json ".services[0].main_pid > 0" &&
	json_get status.json ".services[0].memory_max == 100663296"
'

test_expect_success 'deploying the same thing again changes nothing and restarts nothing' '
	pid=$(main_pid web) &&
	"$BERTH" deploy --json web.ini >again.json &&
	json_get again.json ".changed == false" &&
	json_get again.json ".ok" &&
	test "$(main_pid web)" = "$pid"
'

test_expect_success '--check reports a change and changes nothing' '
	manifest web.ini web 8101 "resources.memory = 80M" &&
	host_snapshot web.service >before &&
	"$BERTH" deploy --check --json web.ini >check.json &&
	json_get check.json ".changed == true" &&
	host_snapshot web.service >after &&
	test_cmp before after
'

test_expect_success '--check --diff shows the unit diff' '
	"$BERTH" deploy --check --diff web.ini >diff.out &&
	grep -q "^-MemoryMax=96M" diff.out &&
	grep -q "^+MemoryMax=80M" diff.out
'

test_expect_success '--json --diff carries the same diff text in "diff"; without --diff it is null' '
	json_get check.json ".diff == null" &&
	"$BERTH" deploy --check --diff --json web.ini >diff.json &&
	json_get diff.json ".changed and .check" &&
	jq -j .diff diff.json >diff.json.txt &&
	sed -n "/^--- /,/^[^-+@ ]/{/^[-+@ ]/p}" diff.out >diff.txt &&
	grep -q "^+MemoryMax=80M" diff.txt &&
	test_cmp diff.txt diff.json.txt
'

test_expect_success 'a manifest-only change updates the unit and restarts once' '
	pid=$(main_pid web) &&
	"$BERTH" deploy --json --diff web.ini >mem.json &&
	json_get mem.json ".changed" &&
	jq -j .diff mem.json >mem.diff &&
	test_cmp diff.txt mem.diff &&
	json_get mem.json "[.steps[] | select(.step == \"reload\")] | length == 1" &&
	test "$(main_pid web)" != "$pid" &&
	test "$(systemctl show -p NRestarts --value web)" = 0 &&
	test "$(systemctl show -p MemoryMax --value web)" = 83886080 &&
	json_get mem.json ".version == \"$(cat version)\""
'

test_expect_success 'a binary-only change needs no daemon-reload' '
	new_binary v2bin 2 &&
	"$BERTH" deploy --json --binary v2bin web.ini >bin.json &&
	json_get bin.json ".changed" &&
	json_get bin.json "[.steps[] | select(.step == \"reload\")] | length == 0" &&
	json_get bin.json ".previous_version == \"$(cat version)\"" &&
	v2=$(json_get bin.json .version) &&
	test "$(readlink /var/lib/berth/web/current)" = "releases/$v2" &&
	test "$(readlink /var/lib/berth/web/previous)" = "releases/$(cat version)" &&
	curl -fsS http://127.0.0.1:8101/healthz
'

test_expect_success 'releases lists both, current marked, with the Go version' '
	"$BERTH" releases web >rel.out &&
	cat rel.out &&
	grep -q "^\* " rel.out &&
	grep -q "go1\." rel.out &&
	"$BERTH" releases --json web >rel.json &&
	json_get rel.json ".releases | length == 2" &&
	json_get rel.json "[.releases[] | select(.current)] | length == 1"
'

test_expect_success 'logs shows the service output; --release only that release'"'"'s runs' '
	"$BERTH" logs -n 200 web >logs.out &&
	grep -q "hello: version=" logs.out &&
	"$BERTH" logs --release "$(cat version)" web >logs1.out &&
	"$BERTH" logs --release "$(readlink /var/lib/berth/web/current | sed s,releases/,,)" web >logs2.out &&
	pid1=$(grep -o "pid=[0-9]*" logs1.out | sort -u) &&
	pid2=$(grep -o "pid=[0-9]*" logs2.out | sort -u) &&
	test -n "$pid1" && test -n "$pid2" &&
	! grep -qx "$pid2" <(echo "$pid1") &&
	"$BERTH" logs --json -n 5 web >logs.json &&
	jq -e .message logs.json >/dev/null
'

test_expect_success 'restart is health-gated and reports readiness' '
	"$BERTH" restart web >restart.out &&
	grep -q "restarted in [0-9]* ms, healthy" restart.out
'

test_expect_success 'stop and start' '
	"$BERTH" stop web &&
	test "$(systemctl is-active web)" != active &&
	"$BERTH" start web &&
	curl -fsS http://127.0.0.1:8101/healthz
'

test_expect_success 'deploy starts a stopped service (converges)' '
	"$BERTH" stop web &&
	"$BERTH" deploy --json --binary v2bin web.ini >conv.json &&
	json_get conv.json ".changed" &&
	test "$(systemctl is-active web)" = active
'

test_expect_success 'seven releases in a row: deliberate restarts do not trip the start limit' '
	for i in 1 2 3 4 5 6 7; do
		new_binary "burst$i" "burst$i" &&
		"$BERTH" deploy -q --binary "burst$i" web.ini >/dev/null || return 1
	done &&
	curl -fsS http://127.0.0.1:8101/healthz &&
	test "$(ls /var/lib/berth/web/releases | wc -l)" -le 5
'

# A service that stopped answering (here: SIGSTOP; the kernel still accepts its connections)
# costs its probe timeout; status probes all services side by side, so three cost one timeout.
test_expect_success 'status probes services side by side: three stuck services cost one timeout, not three' '
	for i in 1 2 3; do
		manifest "stuck$i.ini" "stuck$i" $((8110 + i)) "health.timeout = 4s" &&
		"$BERTH" deploy -q "stuck$i.ini" >/dev/null || return 1
	done &&
	for i in 1 2 3; do kill -STOP "$(systemctl show -p MainPID --value "stuck$i")" || return 1; done &&
	t0=$(date +%s%N) &&
	"$BERTH" status --json stuck1 stuck2 stuck3 >stuck.json &&
	t1=$(date +%s%N) &&
	for i in 1 2 3; do kill -CONT "$(systemctl show -p MainPID --value "stuck$i")" || return 1; done &&
	ms=$(((t1 - t0) / 1000000)) &&
	echo "status of three stuck services took $ms ms" &&
	json_get stuck.json "[.services[] | select(.health.healthy == false and (.health.reason | test(\"timed out\")))] | length == 3" &&
	test "$ms" -lt 8000 &&
	for i in 1 2 3; do "$BERTH" remove --purge "stuck$i" >/dev/null || return 1; done
'

test_expect_success 'remove stops and disables it and keeps the releases' '
	"$BERTH" remove web &&
	test ! -e /etc/systemd/system/web.service &&
	test -d /var/lib/berth/web/releases &&
	! systemctl is-active -q web
'

test_expect_success 'remove --purge deletes the releases too' '
	"$BERTH" deploy --binary v2bin web.ini &&
	"$BERTH" remove --purge web &&
	test ! -e /var/lib/berth/web &&
	test ! -e /etc/systemd/system/web.service
'

test_done
