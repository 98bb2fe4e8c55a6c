# lib-txn.sh - helpers for the interrupted-transaction tests (t22xx), sourced after lib-berth.sh.
# They use PORT: the port the service under test answers on.
# shellcheck shell=bash

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
