#!/bin/sh
# replay.sh - each fuzz target over its seed corpus and the regressions fuzzing found, without
# libFuzzer (part of `make check`); TAP. Run from the build tree with SRCDIR set.
targets="manifest unit size elf"
echo "1..4"
n=0
for t in $targets; do
	n=$((n + 1))
	if out=$(./tests/fuzz/replay-$t "$SRCDIR/tests/fuzz/corpus/$t" "$SRCDIR/tests/fuzz/regressions/$t" 2>&1); then
		echo "ok $n - fuzz target $t: $out"
	else
		echo "not ok $n - fuzz target $t"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done
