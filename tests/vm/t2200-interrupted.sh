#!/bin/bash
# t2200-interrupted.sh - berth killed (kill -9, through the test-only fault injection points of
# berth-fault) at every step of a deploy and of a rollback: the host always runs the old or the
# new release, healthy, and the next berth command finishes or undoes what was left, and says so.
# (t2210: apply, signals, a full disk, daemon-reexec.)
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='a killed or interrupted berth never leaves a service half-deployed'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"
. "$(dirname "$0")/lib-txn.sh"

FAULTY=$TEST_ROOT/tests/berth-fault
PORT=8160
covered=0

test_expect_success 'berth-fault is here, and the installed berth has no fault injection' '
	test -x "$FAULTY" &&
	! grep -q "fault injection" "$BERTH" &&
	grep -q "fault injection" "$FAULTY"
'

test_expect_success 'v0 deployed and healthy' '
	manifest fi.ini fi $PORT "environment.HELLO_VERSION = v0" &&
	"$BERTH" deploy --version v0 fi.ini &&
	answers fi v0
'

# One round per step: berth-fault dies at STEP while deploying vN (a new binary, so that the
# release copy really happens), then berth deploy of the same vN finishes the job.
prev=v0
n=1
for step in after-lock after-begin after-release-copy after-current-switch after-unit-write after-enable \
	after-reload after-job-queued during-health-wait; do
	v=v$n
	test_expect_success "deploy killed at $step: one healthy release runs; the next deploy resolves it" '
		new_binary bin-$v $n &&
		manifest $v.ini fi $PORT "environment.HELLO_VERSION = $v" &&
		test_must_fail_with 137 env BERTH_FAULT=deploy:$step "$FAULTY" deploy --version $v --binary bin-$v $v.ini \
			>out 2>err &&
		grep -q "fault injection: killing myself at deploy:$step" err &&
		settle fi &&
		answers fi $prev $v &&
		{ "$BERTH" deploy --version $v --binary bin-$v $v.ini >out2 2>err2; rc=$?; true; } &&
		cat out2 err2 &&
		test $rc -eq 0 &&
		if [ $step != after-lock ]; then grep -q "an interrupted deploy of \"fi\" (at step" out2; fi &&
		consistent fi $v &&
		"$BERTH" deploy --version $v --binary bin-$v $v.ini >out3 &&
		grep -q "no change" out3
	' && covered=$((covered + 1))
	prev=$v
	n=$((n + 1))
done

test_expect_success 'a deploy killed during the wait for a release that then fails: the next command rolls back' '
	new_binary bin-bad 99 &&
	manifest bad.ini fi $PORT "environment.HELLO_VERSION = bad" "environment.HELLO_FAIL_HEALTH = 1" \
		"health.ready_timeout = 3s" &&
	test_must_fail_with 137 env BERTH_FAULT=deploy:during-health-wait "$FAULTY" deploy --version bad \
		--binary bin-bad bad.ini >out 2>err &&
	settle fi &&
	test -e /var/lib/berth/fi/txn &&
	{ "$BERTH" status fi >st 2>&1 || true; } &&
	cat st &&
	{ "$BERTH" rollback fi >out2 2>&1 || true; } &&
	cat out2 &&
	# status resolves it when the failed start has ended and systemd queued no restart yet, else
	# the rollback does, first
	cat st out2 | grep -q "an interrupted deploy of \"fi\" (at step .*) is undone: $prev" &&
	test ! -e /var/lib/berth/fi/txn
'

# rollback: killed at each step while going from the current release back to the one before
for step in after-lock after-begin after-current-switch after-unit-write after-enable after-reload \
	after-job-queued during-health-wait; do
	test_expect_success "rollback killed at $step: one healthy release runs; the next command resolves it" '
		from=$(readlink /var/lib/berth/fi/current) && from=${from#releases/} &&
		to=$(readlink /var/lib/berth/fi/previous) && to=${to#releases/} &&
		test -n "$to" &&
		test_must_fail_with 137 env BERTH_FAULT=rollback:$step "$FAULTY" rollback fi >out 2>err &&
		settle fi &&
		answers fi $from $to &&
		{ "$BERTH" rollback --to $to fi >out2 2>&1; rc=$?; true; } &&
		cat out2 &&
		{ test $rc -eq 0 || { test $rc -eq 2 && grep -q "is already the current release" out2; }; } &&
		consistent fi $to
	' && covered=$((covered + 1))
done

test_expect_success "fault injection covered every step of deploy and rollback ($covered points)" '
	echo "covered $covered injection points" &&
	test $covered -eq 17
'

test_expect_success 'clean up' '
	remove_service fi
'

test_done
