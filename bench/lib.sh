# bench/lib.sh - sourced by the bench scripts, which run inside one VM boot (bench/run, bench/run-vm)
#
# Timings are wall clock in ms (EPOCHREALTIME, µs resolution). Every figure is the median of ROUNDS
# (default 7, at least 7) rounds, shown with its min and max. A row is appended to $BENCH_ROWS
# (tab-separated, read by bench/guest) and printed.
ROUNDS=${ROUNDS:-7}
BERTH=${BERTH:-/usr/local/bin/berth}
HELLO=${HELLO:?the sample Go service binary}
BENCH_ROWS=${BENCH_ROWS:-/dev/null}
BENCH_NOTES=${BENCH_NOTES:-/dev/null}

# time_ms CMD...: wall time of one run in ms (1 decimal), its output discarded; fails with CMD
time_ms() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null
	ms_since "$t0"
}
# ms_since T0: ms (1 decimal) since an EPOCHREALTIME value
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'; }
# stats V...: "median min max" of the values
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}
median() { stats "$@" | cut -d' ' -f1; }
# show V...: "median (min–max)"
show() { stats "$@" | awk '{ printf "%s (%s–%s)", $1, $2, $3 }'; }
# ratio A B [DIGITS]: A / B
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.*f\n", d, a / b }'; }
# met RATIO TARGET: yes if RATIO <= TARGET
met() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") print "n/a"; else print (r + 0 <= t + 0 ? "yes" : "**no**") }'; }

# row WHAT BERTH ALTERNATIVE RATIO TARGET MET: one line of the report's table
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_ROWS"
	printf '| %s | %s | %s | %s | %s | %s |\n' "$@"
}
# note TEXT...: a line for the report's notes (commands, raw values, explanations)
note() {
	printf '%s\n' "$*" >>"$BENCH_NOTES"
	printf 'note: %s\n' "$*"
}

# variant SRC DST TAG: a copy of the binary with different bytes (a new release), same behaviour
variant() { cp "$1" "$2" && printf 'bench-%s' "$3" >>"$2" && chmod 755 "$2"; }

# wait_http URL [SLEEP]: until GET URL answers 2xx
wait_http() { until curl -fs -o /dev/null "$1"; do sleep "${2:-0.005}"; done; }

# hello_manifest NAME PORT [EXTRA...]: a manifest for the sample service on 127.0.0.1:PORT
hello_manifest() {
	local name=$1 port=$2
	shift 2
	printf '[service]\nname = %s\nbinary = %s\nargs = -listen 127.0.0.1:%s\n' "$name" "$HELLO" "$port"
	printf '%s\n' "$@"
	printf '[health]\nhttp = http://127.0.0.1:%s/healthz\n' "$port"
}

# handmade_unit NAME BINARY PORT: the unit berth renders for the same manifest (same sandbox, whose
# set-up dominates a start under emulation), pointed at BINARY and without berth's readiness check
# (ExecStartPost=): the alternatives poll the health URL instead.
handmade_unit() {
	local name=$1 bin=$2 port=$3 d
	d=$(mktemp -d)
	hello_manifest "$name" "$port" >"$d/m.ini"
	"$BERTH" render "$d/m.ini" | sed -e 1d -e '/^ExecStartPost=/d' -e '/^TimeoutStartSec=/d' \
		-e "s|^ExecStart=\"/var/lib/berth/$name/current/$name\"|ExecStart=$bin|"
	rm -rf "$d"
}
