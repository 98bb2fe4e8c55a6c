#!/bin/bash
# test-cli.sh - the berth command line on the host (no root, no systemd): TAP output.
# Needs BERTH, SRCDIR, HELLO_AMD64, HELLO_ARM64 from the Makefile's test environment.
set -u
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$out" "$err"; }
out=$(mktemp) err=$(mktemp) tmp=$(mktemp -d)
trap 'rm -rf "$out" "$err" "$tmp"' EXIT
EX="$SRCDIR/contrib/examples/hello.ini"

# expect RC TITLE CMD...: runs CMD, checks its exit code (never piped: a crash must show)
expect() {
	local want=$1 title=$2 rc
	shift 2
	"$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" = "$want" ]; then ok "$title"; else echo "# exit $rc, wanted $want"; not_ok "$title"; fi
}
# grep_in FILE PATTERN TITLE
grep_in() { if grep -q -- "$2" "$1"; then ok "$3"; else echo "# no \"$2\""; not_ok "$3"; fi; }

for f in "$HELLO_AMD64" "$HELLO_ARM64"; do
	[ -x "$f" ] || { echo "Bail out! sample Go service not built: $f (make fixtures)"; exit 1; }
done

expect 0 "--version" "$BERTH" --version
grep_in "$out" "^berth [0-9]" "--version prints the version"
expect 0 "--help" "$BERTH" --help
grep_in "$out" "render" "--help lists render"
expect 0 "help render" "$BERTH" help render
grep_in "$out" "usage: berth render" "help render shows usage"
expect 0 "render --help" "$BERTH" render --help
expect 2 "unknown command exits 2" "$BERTH" rendr "$EX"
grep_in "$err" 'did you mean "render"' "unknown command suggests the closest"
[ "$(wc -l <"$err")" = 1 ] && ok "unknown command: one line" || not_ok "unknown command: one line"
expect 2 "unknown option exits 2" "$BERTH" render --jsn "$EX"
grep_in "$err" 'did you mean "--json"' "unknown option suggests the closest"
expect 2 "unknown global option exits 2" "$BERTH" --verison
grep_in "$err" 'did you mean "--version"' "unknown global option suggests"
expect 2 "missing argument exits 2" "$BERTH" render
expect 2 "extra argument exits 2" "$BERTH" render "$EX" extra
expect 2 "no command exits 2" "$BERTH"
expect 2 "help for unknown command" "$BERTH" help nope

# render
expect 0 "render example" "$BERTH" render "$EX"
cp "$out" "$tmp/render.txt"
grep_in "$out" "^# /etc/systemd/system/hello.service" "render names the installed path"
grep_in "$out" '^ExecStart="/var/lib/berth/hello/current/hello" "-listen" "127.0.0.1:8080"$' "render ExecStart"
grep_in "$out" "^MemoryMax=128M$" "render MemoryMax"
grep_in "$out" "^CPUQuota=50%$" "render CPUQuota"
expect 0 "render twice" "$BERTH" render "$EX"
cmp -s "$out" "$tmp/render.txt" && ok "render is deterministic" || not_ok "render is deterministic"
expect 0 "render --json" "$BERTH" render --json "$EX"
if jq -e '.ok == true and .files[0].path == "/etc/systemd/system/hello.service" and (.files[0].content | test("NoNewPrivileges=yes"))' "$out" >/dev/null; then
	ok "render --json has path and content"
else not_ok "render --json has path and content"; fi
expect 0 "render with the Go binary" "$BERTH" render --binary "$HELLO_AMD64" "$EX"
grep_in "$out" "^Environment=GOMAXPROCS=1$" "GOMAXPROCS=auto with cpu=50% and Go 1.19 gives 1"
grep_in "$out" "^Environment=GOMEMLIMIT=120795955B$" "GOMEMLIMIT=auto is 90% of 128M"

# the sandbox score, offline, as systemd itself rates it
if command -v systemd-analyze >/dev/null; then
	sed 1d "$tmp/render.txt" >"$tmp/hello.service"
	systemd-analyze security --offline=true "$tmp/hello.service" >"$out" 2>"$err"
	score=$(sed -n 's/.*Overall exposure level for hello.service: \([0-9.]*\).*/\1/p' "$out")
	echo "# exposure score: ${score:-none}"
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
		ok "systemd-analyze security rates the example ≤ 1.5 ($score)"
	else not_ok "systemd-analyze security rates the example ≤ 1.5 (${score:-none})"; fi
else
	echo "Bail out! systemd-analyze missing (apt-get install systemd)"; exit 1
fi

# render refuses invalid manifests with file:line and exit 3
printf '[service]\nname = hello\n[resources]\nmemory = 512Q\n' >"$tmp/bad.ini"
expect 3 "invalid size exits 3" "$BERTH" render "$tmp/bad.ini"
grep_in "$err" "bad.ini:4: \[resources\] memory" "error names file, line, section and key"
grep_in "$err" "512Q" "error quotes the bad value"
expect 3 "invalid manifest --json exits 3" "$BERTH" render --json "$tmp/bad.ini"
if jq -e '.ok == false and .exit_code == 3 and .errors[0].line == 4 and .errors[0].key == "memory"' "$out" >/dev/null; then
	ok "--json error object"
else not_ok "--json error object"; fi
expect 5 "missing manifest exits 5" "$BERTH" render "$tmp/nope.ini"

# check: the binary
expect 0 "check accepts the amd64 Go binary" "$BERTH" check --binary "$HELLO_AMD64" "$EX"
grep_in "$out" "go1\." "check shows the Go version"
grep_in "$out" "example.com/hello" "check shows the module"
expect 0 "check --json" "$BERTH" check --json --binary "$HELLO_AMD64" "$EX"
if jq -e '.binary.arch == "amd64" and .binary.go == true and .binary.static == true and .binary.go_build.goarch == "amd64" and .binary.go_build.cgo_enabled == false and .binary.go_build.trimpath == true and (.binary.go_build.go_version | startswith("go1."))' "$out" >/dev/null; then
	ok "check --json reports the build info"
else not_ok "check --json reports the build info"; fi
expect 3 "check refuses an arm64 binary" "$BERTH" check --binary "$HELLO_ARM64" "$EX"
grep_in "$err" "GOARCH=amd64" "the refusal says how to rebuild"
expect 0 "a non-Go ELF is accepted" "$BERTH" check --binary /bin/sh "$EX"
grep_in "$err" "not a Go program" "with a warning"
expect 3 "a text file is refused" "$BERTH" check --binary "$SRCDIR/README.md" "$EX"
grep_in "$err" "not an ELF" "saying it is not an ELF"
head -c 100 "$HELLO_AMD64" >"$tmp/truncated"
expect 3 "a truncated binary is refused" "$BERTH" check --binary "$tmp/truncated" "$EX"
expect 5 "a missing binary" "$BERTH" check --binary "$tmp/none" "$EX"
expect 2 "check without any binary" "$BERTH" check "$EX"

echo "1..$n"
[ "$failed" = 0 ]
