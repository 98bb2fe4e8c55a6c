#!/bin/bash
# t2200-interrupted.sh - berth killed (kill -9, through the test-only fault injection points of
# berth-fault) or interrupted (SIGINT, SIGHUP) at every step of deploy, rollback and apply: the
# host always runs the old or the new release, healthy, and the next berth command finishes or
# undoes what was left, and says so. Also: a full disk during the copy, and systemd re-executing
# itself during the wait.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='a killed or interrupted berth never leaves a service half-deployed'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

FAULTY=$TEST_ROOT/tests/berth-fault
PORT=8160
covered=0

# settle NAME: wait until systemd has no job for the unit (at most 60 s)
settle() {
	for _ in $(seq 300); do
		[ "$(systemctl show -p Job --value "$1.service")" = "" ] ||
			[ "$(systemctl show -p Job --value "$1.service")" = "0" ] && return 0
		sleep 0.2
	done
	return 1
}

# answers NAME VERSION...: the service answers healthy as one of the versions; prints which
answers() {
	local body want
	body=$(curl -fsS "http://127.0.0.1:$PORT/") || return 1
	shift
	for want in "$@"; do
		case $body in *"hello from $want"*) echo "$want"; return 0 ;; esac
	done
	echo "unexpected answer: $body" >&2
	return 1
}

# consistent NAME VERSION: after a resolution: VERSION is current, runs (its exe), answers,
# the unit on disk is the one saved with VERSION, no record and no temp file is left
consistent() {
	local name=$1 v=$2 pid
	test "$(readlink "/var/lib/berth/$name/current")" = "releases/$v" &&
	pid=$(main_pid "$name") && test "$pid" -gt 0 &&
	test "$(readlink "/proc/$pid/exe")" = "/var/lib/berth/$name/releases/$v/$name" &&
	answers "$name" "$v" >/dev/null &&
	cmp "/etc/systemd/system/$name.service" "/var/lib/berth/$name/releases/$v/$name.service" &&
	test ! -e "/var/lib/berth/$name/txn" &&
	test -z "$(find /etc/systemd/system /var/lib/berth -name '.#*' -o -name '.txn-*' -o -name '.tmp-*')" &&
	test "$(systemctl show -p NeedDaemonReload --value "$name.service")" = no
}

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
for step in after-lock after-begin after-release-copy after-current-switch after-unit-write after-reload \
	after-enable after-job-queued during-health-wait; do
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
	grep -q "an interrupted deploy of \"fi\" (at step .*) is undone: $prev" out2 &&
	test ! -e /var/lib/berth/fi/txn
'

# rollback: killed at each step while going from the current release back to the one before
for step in after-lock after-begin after-current-switch after-unit-write after-reload after-enable \
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
