# test-lib.sh - a small git-style TAP test library for berth's VM tests (bash).
#
# Each tNNNN-<verb>-<detail>.sh sets test_description, sources this file, runs steps with
# test_expect_success 'title' 'body' (&&-chained bodies, eval'ed in the script's own shell so that
# variables carry over) and ends with test_done. TAP goes to stdout; the output of every step goes
# to $TEST_RESULTS/$TEST_NAME.log, and is shown (as "# " comments) only when the step fails.
# TEST_VERBOSE=1 (or -v) shows it always.
#
# Variables for tests: BERTH TEST_ROOT FIXTURES HELLO HELLO_ARM64 EXAMPLES TEST_RESULTS TEST_NAME
# TEST_DIRECTORY (tests/vm) TEST_TMP (a scratch directory, also the working directory).
# shellcheck shell=bash disable=SC2034

set +e
case ${1:-} in -v | --verbose) TEST_VERBOSE=1 ;; esac

TEST_NAME=$(basename "$0" .sh)
TEST_DIRECTORY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_ROOT=${TEST_ROOT:-$(cd "$TEST_DIRECTORY/../.." && pwd)}
FIXTURES=${FIXTURES:-$TEST_ROOT/tests/fixtures}
HELLO=${HELLO:-$FIXTURES/hello/hello}
HELLO_ARM64=${HELLO_ARM64:-$FIXTURES/hello/hello-arm64}
EXAMPLES=${EXAMPLES:-$TEST_ROOT/contrib/examples}
TEST_RESULTS=${TEST_RESULTS:-$TEST_ROOT/results}
BERTH=${BERTH:-$(command -v berth || echo /usr/local/bin/berth)}
export BERTH TEST_ROOT TEST_DIRECTORY FIXTURES HELLO HELLO_ARM64 EXAMPLES TEST_RESULTS TEST_NAME

mkdir -p "$TEST_RESULTS" || exit 1
TEST_LOG=$TEST_RESULTS/$TEST_NAME.log
: >"$TEST_LOG"
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$TEST_NAME.XXXXXX") || exit 1
export TEST_TMP
cd "$TEST_TMP" || exit 1
[ -z "${test_description:-}" ] || echo "# $TEST_NAME: $test_description"

test_count=0
test_failed=0
_test_out=$TEST_TMP/.out
_test_cleanup=

# A function of its own, so that a body may `return 1` (from inside a loop, say).
_test_eval() {
	eval "$1"
}

# _test_run BODY TITLE: eval BODY, then the test_when_finished commands; output to $_test_out.
_test_run() {
	local rc crc
	_test_cleanup=
	_test_eval "$1" >"$_test_out" 2>&1 </dev/null
	rc=$?
	if [ -n "$_test_cleanup" ]; then
		_test_eval "$_test_cleanup" >>"$_test_out" 2>&1 </dev/null
		crc=$?
		if [ "$crc" -ne 0 ] && [ "$rc" -eq 0 ]; then
			echo "test_when_finished: cleanup failed with exit code $crc" >>"$_test_out"
			rc=$crc
		fi
	fi
	_test_cleanup=
	{ printf '=== %d - %s (exit %d)\n' "$test_count" "$2" "$rc"; cat "$_test_out"; } >>"$TEST_LOG"
	[ -z "${TEST_VERBOSE:-}" ] || cat "$_test_out"
	return "$rc"
}

# _test_explain BODY: the failed body and its output, as TAP comments.
_test_explain() {
	printf '%s\n' "$1" | sed -e '/^[[:space:]]*$/d' -e 's/^/#   /'
	echo "# output:"
	sed 's/^/# /' "$_test_out"
}

test_expect_success() {
	test_count=$((test_count + 1))
	if _test_run "$2" "$1"; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		_test_explain "$2"
	fi
}

# A known breakage: it fails today and we know it (TAP TODO, not counted as a failure).
test_expect_failure() {
	test_count=$((test_count + 1))
	if _test_run "$2" "$1"; then
		echo "ok $test_count - $1 # TODO known breakage vanished"
	else
		echo "not ok $test_count - $1 # TODO known breakage"
	fi
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP ${2:-}"
}

# test_when_finished CMD: run CMD after the current test, whether it passed or failed.
test_when_finished() {
	_test_cleanup="{ $1
}; $_test_cleanup"
}

# test_must_fail CMD...: CMD must exit 1..125 (not 0, not "cannot run", not killed by a signal).
test_must_fail() {
	"$@"
	local rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif [ "$rc" -gt 125 ]; then
		echo "test_must_fail: command died or could not run (exit $rc): $*" >&2
		return 1
	fi
	return 0
}

# test_must_fail_with RC CMD...: CMD must exit with exactly RC.
test_must_fail_with() {
	local want=$1 rc
	shift
	"$@"
	rc=$?
	[ "$rc" -eq "$want" ] && return 0
	echo "test_must_fail_with: exit $rc, expected $want: $*" >&2
	return 1
}

test_cmp() {
	diff -u "$@"
}

test_done() {
	echo "1..$test_count"
	if [ "$test_failed" -gt 0 ]; then
		echo "# failed $test_failed among $test_count test(s)"
		exit 1
	fi
	echo "# passed all $test_count test(s)"
	cd / && rm -rf "$TEST_TMP"
	exit 0
}
