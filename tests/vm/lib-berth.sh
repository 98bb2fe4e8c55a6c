# lib-berth.sh - helpers for berth's VM tests, sourced after test-lib.sh.
# shellcheck shell=bash

# manifest FILE NAME PORT [SECTION.KEY = VALUE...]: writes a manifest for the sample service on
# 127.0.0.1:PORT. Each extra setting replaces the default of the same key or is added to its
# section, e.g. "health.ready_timeout = 3s" "environment.HELLO_FAIL_HEALTH = 1".
manifest() {
	local file=$1 name=$2 port=$3 extra sec key
	shift 3
	declare -A body=(
		[service]="name = $name
binary = $HELLO
args = -listen 127.0.0.1:$port
restart_delay = 200ms
stop_timeout = 5s"
		[health]="http = http://127.0.0.1:$port/healthz
ready_timeout = 20s
timeout = 1s"
	)
	for extra in "$@"; do
		sec=${extra%%.*}
		extra=${extra#*.}
		key=${extra%% =*}
		body[$sec]=$(printf '%s\n' "${body[$sec]:-}" | grep -v "^$key = " || true)
		body[$sec]=$(printf '%s\n%s' "${body[$sec]}" "$extra" | sed '/^$/d')
	done
	: >"$file"
	for sec in service environment resources health deploy go hardening; do
		[ -n "${body[$sec]:-}" ] && printf '[%s]\n%s\n' "$sec" "${body[$sec]}" >>"$file"
	done
	return 0
}

# A copy of the sample binary with different bytes (still a valid ELF with the same build
# info): a new release of the same program.
new_binary() {
	cp "$HELLO" "$1" && printf 'release-%s' "$2" >>"$1" && chmod 755 "$1"
}

# Everything an operator would compare to see whether the host changed: unit files and their
# contents, the release trees (names, links, contents) and the main PIDs of the given units.
host_snapshot() {
	{
		find /etc/systemd/system -maxdepth 2 \( -type f -o -type l \) -printf '%p %l\n' | sort
		find /etc/systemd/system -maxdepth 1 -type f -name '*.service' -exec sha256sum {} + | sort
		if [ -d /var/lib/berth ]; then
			find /var/lib/berth -printf '%p %y %l\n' | sort
			find /var/lib/berth -type f -exec sha256sum {} + | sort
		fi
		for u in "$@"; do
			echo "$u $(systemctl show -p MainPID --value "$u") $(systemctl show -p ActiveState --value "$u")"
		done
	}
}

# remove_service NAME: leave nothing behind for the next test.
remove_service() {
	"$BERTH" remove --purge "$1" >/dev/null 2>&1
	systemctl reset-failed "$1.service" >/dev/null 2>&1
	true
}

main_pid() {
	systemctl show -p MainPID --value "$1.service"
}

# json_get FILE FILTER: jq -r, failing when the filter yields null or false.
json_get() {
	jq -er "$2" "$1"
}

# wait_for SECONDS CMD...: until CMD succeeds, polling every 0.2 s; then CMD once more, visibly.
wait_for() {
	local n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	"$@"
}

# active_state_is NAME STATE (a condition for wait_for)
active_state_is() {
	[ "$(systemctl show -p ActiveState --value "$1.service")" = "$2" ]
}
