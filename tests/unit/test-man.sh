#!/bin/bash
# test-man.sh - the man pages: no mandoc (or groff) warnings, and berth(8) documents every
# command, option, exit code, environment variable and file that the program has. TAP output.
# Needs BERTH and SRCDIR from the Makefile's test environment. (berth.ini(5) against the key
# table: test-manifest.)
set -u
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
man8=$SRCDIR/man/berth.8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# lint: mandoc's warnings and errors (its STYLE notes, such as long source lines, are not
# warnings); groff's -ww where mandoc is missing
for page in "$man8" "$SRCDIR/man/berth.ini.5"; do
	name=${page##*/}
	if command -v mandoc >/dev/null; then
		if mandoc -Tlint -Wwarning "$page" >"$tmp/lint" 2>&1; then ok "mandoc -Tlint: $name"
		else not_ok "mandoc -Tlint: $name"; sed 's/^/# /' "$tmp/lint"; fi
	elif ! command -v groff >/dev/null; then
		ok "lint: $name # skip neither mandoc nor groff is installed"
	else
		groff -ww -z -man "$page" >"$tmp/lint" 2>&1
		if [ ! -s "$tmp/lint" ]; then ok "groff -ww -z: $name (mandoc is not installed)"
		else not_ok "groff -ww -z: $name"; sed 's/^/# /' "$tmp/lint"; fi
	fi
done

# The page's sections as plain text, each on its own: section NAME prints one.
section() { awk -v s=".SH $1" '$0 == s || $0 == s"\"" { on = 1; next } /^\.SH / { on = 0 } on' "$man8"; }
# "--lock-timeout" as the page writes it: "\-\-lock\-timeout"
roff() { printf '%s' "$1" | sed 's/-/\\-/g'; }
# documented SECTION WORD TITLE: WORD (as roff) is in SECTION
documented() {
	if section "$1" | grep -qF -- "$(roff "$2")"; then ok "$3"; else not_ok "$3"; echo "# \"$2\" is not under .SH $1"; fi
}

# every command (hidden ones too: wait-ready is in the units berth writes) is an entry under
# COMMANDS, and every option of each in its entry or under COMMON OPTIONS
cmds=$(sed -n '/^static const struct berth_cmd \*const commands\[\]/,/^};/p' "$SRCDIR/src/berth.c" |
	sed -n 's/^\t&berth_cmd_\([a-z_]*\),$/\1/p' | tr _ -)
[ "$(echo "$cmds" | wc -w)" -gt 10 ] && ok "the command table has the commands" || not_ok "the command table has the commands"
for c in $cmds; do
	if section COMMANDS | grep -qE "^\.(B|BI|BR) \"?$(roff "$c" | sed 's/\\/\\\\/g')( |\"|$)"; then
		ok "COMMANDS has $c"
	else
		not_ok "COMMANDS has $c"
	fi
	"$BERTH" help "$c" >"$tmp/help" 2>&1 || { not_ok "berth help $c"; continue; }
	# this command's entry: from its .TP to the next .TP
	section COMMANDS | awk -v c="$(roff "$c")" '
		/^\.TP/ { on = 0 }
		index($0, c) && /^\.(B|BI|BR) / { on = 1 }
		on' >"$tmp/entry"
	section "COMMON OPTIONS" >>"$tmp/entry"
	for o in $(sed -n 's/^ *\(-[a-zA-Z],\)\{0,1\} *\(--[a-z][a-z-]*\).*/\2/p' "$tmp/help"); do
		if grep -qF -- "$(roff "$o")" "$tmp/entry"; then ok "berth.8: $c $o"; else not_ok "berth.8: $c $o"; fi
	done
done
documented COMMANDS "help manifest" "COMMANDS has help manifest"

# every exit code of berth.h
codes=$(sed -n 's/^\tBERTH_EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' "$SRCDIR/src/berth.h")
[ "$(echo "$codes" | wc -w)" -ge 8 ] && ok "berth.h has the exit codes" || not_ok "berth.h has the exit codes"
for e in $codes; do
	if section "EXIT STATUS" | grep -qx "\.B $e"; then ok "EXIT STATUS has $e"; else not_ok "EXIT STATUS has $e"; fi
done

# every environment variable the program reads
for v in $(cat "$SRCDIR"/src/*.c | grep -o 'getenv("[A-Z_]*")' | sed 's/getenv("\(.*\)")/\1/' | sort -u); do
	documented ENVIRONMENT "$v" "ENVIRONMENT has $v"
done

# every file and directory of its own the program names as a constant ("#define X \"/etc/...\"",
# /var, /run) in src/; /proc and /sys are the kernel's
paths=$(cat "$SRCDIR"/src/*.[ch] | sed -n 's/^#define [A-Z_]* "\(\/\(etc\|var\|run\)\/[^"]*\)".*/\1/p' | sort -u)
[ "$(echo "$paths" | wc -w)" -ge 6 ] && ok "src/ names its paths" || not_ok "src/ names its paths"
for p in $paths; do
	documented FILES "$p" "FILES has $p"
done

echo "1..$n"
[ "$failed" -eq 0 ]
