#!/bin/bash
# t1300-apply.sh - berth apply DIR converges every manifest: one reload, parallel starts, a second
# run changes nothing, removed manifests are left alone unless --prune, failures are summarized.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth apply converges a directory of manifests'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

mkdir -p svc
manifest svc/one.ini one 8131
manifest svc/two.ini two 8132
manifest svc/three.ini three 8133 "environment.HELLO_START_DELAY = 1s"

test_expect_success 'apply starts every service, with one daemon-reload' '
	"$BERTH" apply --json svc >apply.json &&
	json_get apply.json ".ok" &&
	json_get apply.json ".services | length == 3" &&
	json_get apply.json "[.services[] | select(.ok)] | length == 3" &&
	json_get apply.json "[.host.steps[] | select(.step == \"reload\")] | length == 1" &&
	for p in 8131 8132 8133; do curl -fsS http://127.0.0.1:$p/healthz || return 1; done
'

test_expect_success 'the starts ran in parallel, not one after the other' '
	json_get apply.json "[.services[].ready_msec] | length == 3" &&
	json_get apply.json "[.services[] | select(.name == \"three\") | .ready_msec][0] >= 1000"
'

test_expect_success 'a second apply changes nothing' '
	p1=$(main_pid one) &&
	"$BERTH" apply --json svc >again.json &&
	json_get again.json ".changed == false" &&
	test "$(main_pid one)" = "$p1"
'

# At boot, an enabled service's start is queued when berth-apply.service plans: a plan made from
# that moment (inactive, or MainPID not yet exec()ed) started or restarted it and reported a change.
test_expect_success 'apply waits for a start systemd has queued (as at boot) and changes nothing' '
	printf "[Service]\nType=oneshot\nExecStart=/bin/sleep 3\n" >/etc/systemd/system/t1300-gate.service &&
	systemctl daemon-reload &&
	mkdir -p gated &&
	manifest gated/gated.ini gated 8135 "service.after = t1300-gate.service" &&
	"$BERTH" apply gated &&
	systemctl stop gated.service &&
	cursor=$(journalctl -n 0 --show-cursor | sed -n "s/^-- cursor: //p") &&
	systemctl start --no-block t1300-gate.service gated.service &&
	systemctl list-jobs --no-legend | grep -q "gated.service *start" &&
	test "$(systemctl show -p ActiveState --value gated.service)" = inactive &&
	"$BERTH" apply --json gated >gated.json &&
	cat gated.json &&
	json_get gated.json ".changed == false" &&
	systemctl is-active -q gated.service &&
	journalctl --after-cursor "$cursor" -u gated.service --no-pager >gated.log &&
	test "$(grep -c "Started gated.service" gated.log)" = 1 &&
	remove_service gated &&
	rm /etc/systemd/system/t1300-gate.service && systemctl daemon-reload
'

test_expect_success 'apply --check reports a pending change and changes nothing' '
	manifest svc/two.ini two 8132 "resources.memory = 64M" &&
	host_snapshot one.service two.service three.service >before &&
	"$BERTH" apply --check --json svc >check.json &&
	json_get check.json ".changed" &&
	json_get check.json "[.services[].diff] == [null, null, null]" &&
	"$BERTH" apply --check --diff --json svc >diff.json &&
	json_get diff.json "[.services[] | select(.name != \"two\") | .diff] == [\"\", \"\"]" &&
	json_get diff.json ".services[] | select(.name == \"two\") | .diff" >two.diff &&
	grep -q "^--- /etc/systemd/system/two.service" two.diff &&
	grep -q "^+MemoryMax=64M" two.diff &&
	host_snapshot one.service two.service three.service >after &&
	test_cmp before after
'

test_expect_success 'a failing service is summarized, the others converge, exit non-zero' '
	manifest svc/bad.ini bad 8134 "environment.HELLO_FAIL_HEALTH = 1" "health.ready_timeout = 3s" &&
	test_must_fail "$BERTH" apply svc >summary.out &&
	cat summary.out &&
	grep -q "^bad .*FAILED" summary.out &&
	grep -q "^two .*ok" summary.out &&
	test "$(systemctl show -p MemoryMax --value two)" = 67108864 &&
	rm svc/bad.ini && remove_service bad
'

test_expect_success 'a manifest removed from DIR is left alone, unless --prune' '
	rm svc/three.ini &&
	"$BERTH" apply svc &&
	systemctl is-active -q three &&
	"$BERTH" apply --prune svc &&
	state=$(systemctl show -p ActiveState --value three.service) &&
	echo "three is $state" &&
	test "$state" = inactive &&
	test ! -e /etc/systemd/system/three.service
'

test_expect_success 'clean up' '
	remove_service one && remove_service two && remove_service three
'

test_done
