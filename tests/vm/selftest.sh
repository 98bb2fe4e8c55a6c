#!/bin/bash
# selftest.sh - check on the host (no VM) that test-lib.sh can fail: a harness whose tests never
# fail proves nothing. Runs throw-away test scripts against test-lib.sh and checks their TAP and
# exit codes. Prints TAP itself (without test-lib.sh, which is what is under test).
set -euo pipefail

lib=$(dirname "$(realpath "${BASH_SOURCE[0]}")")/test-lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export TEST_RESULTS=$tmp/results TEST_ROOT=$tmp
unset TEST_VERBOSE

n=0 failed=0
check() { # check TITLE COMMAND...
	local title=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $title"
	else
		echo "not ok $n - $title"
		failed=$((failed + 1))
		sed 's/^/# /' "$tmp/out"
	fi
}

# run_script BODY: a test script made of BODY; its output in $tmp/out, its exit code in $rc.
run_script() {
	printf '. %q\n%s\ntest_done\n' "$lib" "$1" >"$tmp/t9999-selftest.sh"
	rc=0
	(cd "$tmp" && bash ./t9999-selftest.sh) >"$tmp/out" 2>&1 </dev/null || rc=$?
}
has() { grep -q -- "$1" "$tmp/out"; }
hasnt() { ! grep -q -- "$1" "$tmp/out"; }

run_script "
test_expect_success 'fails' 'echo the-output && test_when_finished \"echo cleaned >$tmp/cleaned\" && false'
test_expect_success 'passes' 'echo quiet-output && true'
"
check 'a failing test is reported as not ok' has '^not ok 1 - fails$'
check 'a passing test is reported as ok' has '^ok 2 - passes$'
check 'the plan comes last' test "$(tail -n 2 "$tmp/out" | head -n 1)" = 1..2
check 'a script with a failed test exits non-zero' test "$rc" -ne 0
check 'a failed test shows its output' has '^# the-output$'
check 'a passing test keeps quiet on stdout' hasnt quiet-output
check 'the output of a passing test is logged' grep -q quiet-output "$TEST_RESULTS/t9999-selftest.log"
check 'test_when_finished runs after a failed test' test -f "$tmp/cleaned"

run_script "
test_expect_success 'passes' 'x=1'
test_expect_success 'sees the previous test' 'test \$x = 1'
test_expect_failure 'known breakage' 'false'
test_skip 'skipped' 'no reason'
"
check 'a script whose tests pass exits 0' test "$rc" -eq 0
check 'tests share the script shell' has '^ok 2 - sees the previous test$'
check 'test_expect_failure is a TODO' has '^not ok 3 - known breakage # TODO'
check 'test_skip is a SKIP' has '^ok 4 - skipped # SKIP'

run_script "
test_expect_success 'must_fail: exit 1' 'test_must_fail false'
test_expect_success 'must_fail: success' 'test_must_fail true'
test_expect_success 'must_fail: signal' 'test_must_fail sh -c \"kill -KILL \\\$\\\$\"'
test_expect_success 'must_fail: not found' 'test_must_fail /nonexistent/cmd'
test_expect_success 'must_fail_with: right code' 'test_must_fail_with 3 sh -c \"exit 3\"'
test_expect_success 'must_fail_with: wrong code' 'test_must_fail_with 3 sh -c \"exit 4\"'
test_expect_success 'return 1 from a loop fails' 'for i in 1; do return 1; done'
test_expect_success 'test_cmp: differ' 'echo a >a && echo b >b && test_cmp a b'
"
check 'test_must_fail accepts a plain failure' has '^ok 1 - must_fail: exit 1$'
check 'test_must_fail rejects a success' has '^not ok 2 - must_fail: success$'
check 'test_must_fail rejects a death by signal' has '^not ok 3 - must_fail: signal$'
check 'test_must_fail rejects a command that cannot run' has '^not ok 4 - must_fail: not found$'
check 'test_must_fail_with accepts its code' has '^ok 5 - must_fail_with: right code$'
check 'test_must_fail_with rejects another code' has '^not ok 6 - must_fail_with: wrong code$'
check 'return 1 fails a test' has '^not ok 7 - return 1 from a loop fails$'
check 'test_cmp fails on a difference and shows it' has '^# +b$'
check 'the plan counts every test' has '^1\.\.8$'

run_script "
test_expect_success 'exits' 'exit 0'
"
check 'a script that dies mid-test leaves no plan' hasnt '^1\.\.'

echo "1..$n"
[ "$failed" -eq 0 ]
