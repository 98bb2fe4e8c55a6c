#!/bin/bash
# t2210-interrupted-apply.sh - berth apply killed (kill -9, through the test-only fault injection
# points of berth-fault) at every step: both services end healthy after the next apply. Also a
# deploy interrupted by SIGINT, SIGHUP or SIGTERM during the health wait, a full disk during the
# copy, and systemd re-executing itself during the wait. (t2200: deploy and rollback.)
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='a killed or interrupted apply, SIGINT/SIGHUP/SIGTERM, a full disk and daemon-reexec leave no service half-deployed'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"
. "$(dirname "$0")/lib-txn.sh"

FAULTY=$TEST_ROOT/tests/berth-fault
PORT=8160
covered=0

test_expect_success 'v0 deployed and healthy' '
	manifest fi.ini fi $PORT "environment.HELLO_VERSION = v0" &&
	"$BERTH" deploy --version v0 fi.ini &&
	answers fi v0
'

# apply: two services converge together; killed at each step
mkdir -p apply.d
test_expect_success 'apply: a directory with two services' '
	manifest apply.d/a1.ini a1 8161 "environment.HELLO_VERSION = a0" &&
	manifest apply.d/a2.ini a2 8162 "environment.HELLO_VERSION = a0" &&
	"$BERTH" apply apply.d
'
n=1
for step in after-lock after-begin after-release-copy after-current-switch after-unit-write after-enable \
	after-reload after-job-queued during-health-wait; do
	test_expect_success "apply killed at $step: both services end healthy after the next apply" '
		new_binary bin-a$n $((n + 100)) &&
		manifest apply.d/a1.ini a1 8161 "environment.HELLO_VERSION = a$n" "service.binary = $PWD/bin-a$n" &&
		manifest apply.d/a2.ini a2 8162 "environment.HELLO_VERSION = a$n" "service.binary = $PWD/bin-a$n" &&
		test_must_fail_with 137 env BERTH_FAULT=apply:$step "$FAULTY" apply apply.d >out 2>err &&
		settle a1 && settle a2 &&
		"$BERTH" apply apply.d >out2 2>&1 && cat out2 &&
		curl -fsS http://127.0.0.1:8161/ | grep -q "hello from a$n" &&
		curl -fsS http://127.0.0.1:8162/ | grep -q "hello from a$n" &&
		test ! -e /var/lib/berth/a1/txn && test ! -e /var/lib/berth/a2/txn &&
		"$BERTH" apply apply.d >out3 && ! grep -q "yes" out3
	' && covered=$((covered + 1))
	n=$((n + 1))
done

test_expect_success "fault injection covered every step of apply ($covered points)" '
	echo "covered $covered injection points" &&
	test $covered -eq 9
'

# SIGINT and SIGHUP while berth waits for health: the release is put back before berth exits
for sig in INT HUP TERM; do
	test_expect_success "SIG$sig during the health wait: rolled back before exit, exit 6" '
		cur=$(readlink /var/lib/berth/fi/current) && cur=${cur#releases/} &&
		new_binary bin-sig$sig 200 &&
		manifest sig.ini fi $PORT "environment.HELLO_VERSION = sig$sig" "environment.HELLO_START_DELAY = 20s" \
			"health.ready_timeout = 40s" &&
		{ "$BERTH" deploy --version sig$sig --binary bin-sig$sig sig.ini >out 2>err & } &&
		pid=$! &&
		for _ in $(seq 100); do grep -q "waiting until healthy" out && break; sleep 0.1; done &&
		sleep 1 &&
		kill -$sig $pid &&
		{ wait $pid; rc=$?; true; } &&
		cat out err &&
		test $rc -eq 6 &&
		grep -q "interrupted by SIG$sig" err &&
		consistent fi $cur &&
		"$BERTH" releases --json fi >rel.json &&
		json_get rel.json "[.releases[] | select(.version == \"sig$sig\") | .status][0] != \"failed\""
	'
done

test_expect_success 'a full disk during the release copy changes nothing' '
	mkdir -p /var/lib/berth-small &&
	size=$(( $(du -sm /var/lib/berth/fi | cut -f1) + 3 )) &&
	mount -t tmpfs -o size=${size}M tmpfs /var/lib/berth-small &&
	test_when_finished "umount /var/lib/berth-small; rmdir /var/lib/berth-small" &&
	cp -a /var/lib/berth/fi /var/lib/berth-small/fi &&
	mount --bind /var/lib/berth-small/fi /var/lib/berth/fi &&
	test_when_finished "umount /var/lib/berth/fi" &&
	cur=$(readlink /var/lib/berth/fi/current) && cur=${cur#releases/} &&
	host_snapshot fi.service >before &&
	new_binary bin-big 300 && truncate -s +4M bin-big &&
	manifest big.ini fi $PORT "environment.HELLO_VERSION = big" &&
	test_must_fail "$BERTH" deploy --version big --binary bin-big big.ini >out 2>err &&
	cat out err &&
	grep -qi "no space left" err &&
	host_snapshot fi.service >after &&
	test_cmp before after &&
	consistent fi $cur
'

test_expect_success 'systemd re-executes itself during the wait: the deploy still finishes' '
	new_binary bin-reexec 400 &&
	manifest reexec.ini fi $PORT "environment.HELLO_VERSION = reexec" "environment.HELLO_START_DELAY = 3s" &&
	{ "$BERTH" deploy --version reexec --binary bin-reexec reexec.ini >out 2>err & } &&
	pid=$! &&
	for _ in $(seq 100); do grep -q "waiting until healthy" out && break; sleep 0.1; done &&
	systemctl daemon-reexec &&
	{ wait $pid; rc=$?; true; } &&
	cat out err &&
	test $rc -eq 0 &&
	consistent fi reexec
'

test_expect_success 'clean up' '
	remove_service fi && remove_service a1 && remove_service a2
'

test_done
