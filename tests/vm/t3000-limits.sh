#!/bin/bash
# t3000-limits.sh - cgroup limits as the kernel enforces them: an OOM kill at MemoryMax, what
# GOMEMLIMIT does (and does not do) against a leak, CPU quota throttling, GOMAXPROCS from the
# quota, and `berth limit` changing the limits of a running service without a restart.
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2034,SC2317
test_description='cgroup limits: kernel enforcement, GOMAXPROCS, berth limit'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

DROPIN=/etc/systemd/system/lim-web.service.d/49-berth-limits.conf

# cg NAME: the service's cgroup directory
cg() {
	echo "/sys/fs/cgroup$(systemctl show -p ControlGroup --value "$1.service")"
}
# keyed FILE KEY: the value of KEY in a flat keyed cgroup file (memory.events, cpu.stat)
keyed() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}
uptime_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}
# wait_for SECONDS CMD...: until CMD succeeds, polling every 0.2 s
wait_for() {
	local n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.2
		n=$((n - 1))
	done
	"$@"
}
oom_logged() {
	journalctl -q -u "$1.service" -o cat | grep -q "Failed with result 'oom-kill'"
}
sub_state_is() {
	test "$(systemctl show -p SubState --value "$1.service")" = "$2"
}
restarts_at_least() {
	test "$(systemctl show -p NRestarts --value "$1.service")" -ge "$2"
}
info() {
	curl -fsS --max-time 10 "http://127.0.0.1:$1/info"
}

# A Go service is one process: the OOM kill empties its cgroup and systemd removes it at once
# (ControlGroup is empty during the restart delay, the restart gets a new cgroup whose
# memory.events counts from 0). So the kill shows in systemd's Result and NRestarts, the journal,
# and in the slice's memory.events, which counts its children's events.
test_expect_success 'a leak past memory = 64M is OOM-killed by the kernel (gomemlimit = off)' '
	test_when_finished "remove_service lim-oom" &&
	manifest oom.ini lim-oom 8301 "resources.memory = 64M" "go.gomemlimit = off" \
		"environment.HELLO_LEAK_MB_PER_SEC = 8" "service.restart_delay = 3s" &&
	slice_kills=$(keyed /sys/fs/cgroup/system.slice/memory.events oom_kill) &&
	"$BERTH" deploy oom.ini &&
	t0=$(uptime_ms) &&
	info 8301 >info-off.json &&
	json_get info-off.json ".gomemlimit == 9223372036854775807" &&
	"$BERTH" limit --json lim-oom >oom-live.json &&
	json_get oom-live.json ".usage.memory_max == 67108864" &&
	json_get oom-live.json ".usage.oom_kills == 0" &&
	wait_for 90 sub_state_is lim-oom auto-restart &&
	echo $(($(uptime_ms) - t0)) >oom-off.ms &&
	systemctl show -p Result -p NRestarts -p SubState -p ControlGroup lim-oom &&
	test "$(systemctl show -p Result --value lim-oom)" = oom-kill &&
	test "$(keyed /sys/fs/cgroup/system.slice/memory.events oom_kill)" -gt "$slice_kills" &&
	wait_for 5 oom_logged lim-oom &&
	wait_for 30 restarts_at_least lim-oom 1 &&
	wait_for 30 sub_state_is lim-oom running &&
	"$BERTH" limit --json lim-oom >oom-after.json &&
	json_get oom-after.json ".usage.memory_max == 67108864"
'

# The sample service leaks by keeping every MiB it allocates reachable: there is no garbage, so
# GOMEMLIMIT cannot make the collector give anything back, and the kernel kills it when the live
# heap reaches the limit, with or without it. What auto must do is hand Go 90% of MemoryMax.
test_expect_success 'gomemlimit = auto gives Go 90% of memory; a live-memory leak is OOM-killed all the same' '
	test_when_finished "remove_service lim-auto" &&
	manifest auto.ini lim-auto 8302 "resources.memory = 64M" "go.gomemlimit = auto" \
		"environment.HELLO_LEAK_MB_PER_SEC = 8" &&
	"$BERTH" deploy auto.ini &&
	t0=$(uptime_ms) &&
	info 8302 >info-auto.json &&
	json_get info-auto.json ".gomemlimit == 60397977" &&
	json_get info-auto.json ".env.GOMEMLIMIT == \"60397977B\"" &&
	wait_for 120 restarts_at_least lim-auto 1 &&
	echo $(($(uptime_ms) - t0)) >oom-auto.ms &&
	wait_for 5 oom_logged lim-auto
'
# Garbage is where GOMEMLIMIT matters: a live heap of 36 MiB churning 64 MiB/s of garbage grows
# towards 72 MiB under GOGC=100 alone (over MemoryMax = 64M: OOM-killed), while GOMEMLIMIT = 90%
# of MemoryMax makes the collector work harder and keeps it alive.
test_expect_success 'live heap + garbage: OOM-killed with gomemlimit = off, alive with auto' '
	test_when_finished "remove_service lim-goff; remove_service lim-gauto" &&
	manifest goff.ini lim-goff 8305 "resources.memory = 64M" "go.gomemlimit = off" \
		"environment.HELLO_LIVE_MB = 36" "environment.HELLO_CHURN_MB_PER_SEC = 64" "service.restart_delay = 2s" &&
	manifest gauto.ini lim-gauto 8306 "resources.memory = 64M" "go.gomemlimit = auto" \
		"environment.HELLO_LIVE_MB = 36" "environment.HELLO_CHURN_MB_PER_SEC = 64" "service.restart_delay = 2s" &&
	"$BERTH" deploy goff.ini &&
	"$BERTH" deploy gauto.ini &&
	sleep 15 &&
	systemctl show -p Result -p NRestarts lim-goff lim-gauto &&
	test "$(systemctl show -p NRestarts --value lim-goff)" -ge 1 &&
	journalctl -u lim-goff.service --no-pager | grep -q "oom-kill" &&
	test "$(systemctl show -p NRestarts --value lim-gauto)" = 0 &&
	test "$(systemctl show -p ActiveState --value lim-gauto)" = active &&
	curl -fsS --max-time 5 http://127.0.0.1:8306/healthz
'

echo "# time from healthy to the first OOM kill at 64M, leaking 8 MiB/s:" \
	"gomemlimit=off $(cat oom-off.ms 2>/dev/null || echo ?) ms," \
	"gomemlimit=auto $(cat oom-auto.ms 2>/dev/null || echo ?) ms"

test_expect_success 'cpu = 50% holds two spinning goroutines to half a CPU, throttled' '
	test_when_finished "remove_service lim-cpu" &&
	manifest cpu.ini lim-cpu 8303 "resources.cpu = 50%" "environment.HELLO_BURN_CPU = 2" \
		"health.timeout = 3s" &&
	"$BERTH" deploy cpu.ini &&
	c=$(cg lim-cpu) &&
	test "$(cat "$c/cpu.max")" = "50000 100000" &&
	sleep 1 &&
	u0=$(keyed "$c/cpu.stat" usage_usec) && th0=$(keyed "$c/cpu.stat" nr_throttled) && t0=$(uptime_ms) &&
	sleep 3 &&
	u1=$(keyed "$c/cpu.stat" usage_usec) && th1=$(keyed "$c/cpu.stat" nr_throttled) && t1=$(uptime_ms) &&
	milli_cpus=$(((u1 - u0) / (t1 - t0))) &&
	echo "used $((u1 - u0)) us of CPU in $((t1 - t0)) ms: $milli_cpus thousandths of a CPU; throttled $((th1 - th0)) times" &&
	test "$milli_cpus" -le 550 &&
	test "$milli_cpus" -ge 200 &&
	test $((th1 - th0)) -gt 0 &&
	"$BERTH" status --json lim-cpu >s1.json &&
	sleep 2 &&
	"$BERTH" status --json lim-cpu >s2.json &&
	json_get s2.json ".services[0].cpu_interval.interval_usec >= 1500000" &&
	json_get s2.json ".services[0].cpu_interval.throttled_share > 0" &&
	json_get s2.json "(.services[0].cpu_interval.usage_usec / .services[0].cpu_interval.interval_usec) <= 0.55" &&
	"$BERTH" status lim-cpu >s2.out &&
	grep -q "CPU throttled [0-9]*% of periods over the last" s2.out &&
	info 8303 >info-cpu.json &&
	json_get info-cpu.json ".gomaxprocs == 1"
'

test_expect_success 'cpu = 150% gives GOMAXPROCS 2: ceil(1.5), Go 1.19 does not read the quota itself' '
	test "$(nproc)" -ge 2 &&
	manifest web.ini lim-web 8304 "resources.cpu = 150%" "resources.memory = 64M" &&
	"$BERTH" deploy web.ini &&
	info 8304 >info-150.json &&
	json_get info-150.json ".gomaxprocs == 2" &&
	test "$(cat "$(cg lim-web)/cpu.max")" = "150000 100000"
'

test_expect_success 'berth limit NAME shows the limits in force and what the kernel reports' '
	"$BERTH" limit lim-web >show.out &&
	cat show.out &&
	grep -q "cgroup v2" show.out &&
	"$BERTH" limit --json lim-web >show.json &&
	json_get show.json ".ok" &&
	json_get show.json ".changed == false" &&
	json_get show.json ".persisted_file == null" &&
	json_get show.json ".limits.before.memory_max == 67108864" &&
	json_get show.json ".limits.before.cpu_quota_per_sec_usec == 1500000" &&
	json_get show.json ".usage.memory_max == 67108864" &&
	json_get show.json ".usage.cpu_quota_usec == 150000" &&
	json_get show.json ".usage.cpu_period_usec == 100000" &&
	json_get show.json ".mismatches | length == 0" &&
	json_get show.json ".go.running_gomaxprocs == 2" &&
	json_get show.json ".go.restart_needed == false"
'

test_expect_success 'berth limit --memory 96M --cpu 30%: the cgroup follows within a second, without a restart' '
	pid=$(main_pid lim-web) &&
	c=$(cg lim-web) &&
	tb=$(uptime_ms) &&
	"$BERTH" limit --json lim-web >baseline.json &&
	base_ms=$(($(uptime_ms) - tb)) &&
	t0=$(uptime_ms) || return 1
	{ "$BERTH" limit --json lim-web --memory 96M --cpu 30% >lim.json 2>lim.err; echo $? >lim.rc; } &
	while [ "$(cat "$c/memory.max")" != 100663296 ] && [ $(($(uptime_ms) - t0)) -lt 10000 ]; do sleep 0.05; done
	t1=$(uptime_ms) &&
	wait &&
	cat lim.json lim.err &&
	test "$(cat lim.rc)" = 0 &&
	echo "memory.max changed $((t1 - t0)) ms after berth limit started; a read-only run takes $base_ms ms" &&
	test $((t1 - t0)) -lt $((base_ms + 1000)) &&
	json_get lim.json ".kernel_msec < 1000" &&
	test "$(cat "$c/memory.max")" = 100663296 &&
	test "$(cat "$c/cpu.max")" = "30000 100000" &&
	test "$(main_pid lim-web)" = "$pid" &&
	json_get lim.json ".ok" &&
	json_get lim.json ".changed" &&
	json_get lim.json ".limits.before.memory_max == 67108864" &&
	json_get lim.json ".limits.after.memory_max == 100663296" &&
	json_get lim.json ".limits.after.cpu_quota_per_sec_usec == 300000" &&
	json_get lim.json ".mismatches | length == 0" &&
	json_get lim.json ".main_pid == $pid"
'

test_expect_success 'the limits are persisted in berth'"'"'s drop-in, and nowhere else' '
	json_get lim.json ".persisted_file == \"$DROPIN\"" &&
	cat "$DROPIN" &&
	grep -qx "MemoryMax=96M" "$DROPIN" &&
	grep -qx "CPUQuota=30%" "$DROPIN" &&
	grep -qx "ManifestMemoryMax=64M" "$DROPIN" &&
	grep -qx "ManifestCPUQuota=150%" "$DROPIN" &&
	test ! -e /etc/systemd/system.control/lim-web.service.d &&
	test ! -e /run/systemd/system.control/lim-web.service.d &&
	test "$(systemctl show -p NeedDaemonReload --value lim-web)" = no &&
	test "$(systemctl show -p MemoryMax --value lim-web)" = 100663296
'

test_expect_success 'GOMAXPROCS needs a restart to follow the new quota; --restart does it, health-gated' '
	json_get lim.json ".go.restart_needed" &&
	json_get lim.json ".go.running_gomaxprocs == 2" &&
	json_get lim.json ".go.gomaxprocs == 1" &&
	grep -qx "Environment=GOMAXPROCS=1" "$DROPIN" &&
	info 8304 >info-before.json &&
	json_get info-before.json ".gomaxprocs == 2" &&
	"$BERTH" limit lim-web --memory 96M >again.out &&
	grep -q "restart to apply" again.out &&
	pid=$(main_pid lim-web) &&
	"$BERTH" limit --json lim-web --restart >restart.json &&
	cat restart.json &&
	json_get restart.json ".ok" &&
	json_get restart.json ".go.restarted" &&
	json_get restart.json ".restart.result == \"done\"" &&
	test "$(main_pid lim-web)" != "$pid" &&
	info 8304 >info-after.json &&
	json_get info-after.json ".gomaxprocs == 1" &&
	test "$(cat "$(cg lim-web)/memory.max")" = 100663296 &&
	"$BERTH" limit --json lim-web --restart >norestart.json &&
	json_get norestart.json ".go.restarted == false" &&
	json_get norestart.json ".changed == false"
'

test_expect_success '--runtime changes the cgroup and leaves no file under /etc' '
	test_when_finished "remove_service lim-rt; rm -rf /run/systemd/system.control/lim-rt.service.d" &&
	manifest rt.ini lim-rt 8305 "resources.memory = 64M" &&
	"$BERTH" deploy rt.ini &&
	find /etc/systemd -path "*lim-rt*" | sort >files.before &&
	pid=$(main_pid lim-rt) &&
	"$BERTH" limit --json --runtime lim-rt --memory 80M --tasks 50 >rt.json &&
	json_get rt.json ".ok" &&
	json_get rt.json ".persisted_file == null" &&
	test "$(cat "$(cg lim-rt)/memory.max")" = 83886080 &&
	test "$(cat "$(cg lim-rt)/pids.max")" = 50 &&
	test "$(main_pid lim-rt)" = "$pid" &&
	test ! -e /etc/systemd/system/lim-rt.service.d &&
	test ! -e /etc/systemd/system.control/lim-rt.service.d &&
	find /etc/systemd -path "*lim-rt*" | sort >files.after &&
	test_cmp files.before files.after
'

test_expect_success 'a --runtime limit outlasts a daemon-reload, even over a persisted one' '
	"$BERTH" limit lim-web --runtime --memory 112M &&
	systemctl daemon-reload &&
	test "$(cat "$(cg lim-web)/memory.max")" = 117440512 &&
	grep -qx "MemoryMax=96M" "$DROPIN" &&
	"$BERTH" limit lim-web --memory 96M &&
	test "$(cat "$(cg lim-web)/memory.max")" = 100663296 &&
	test ! -e /run/systemd/system.control/lim-web.service.d/50-MemoryMax.conf &&
	systemctl daemon-reload &&
	test "$(cat "$(cg lim-web)/memory.max")" = 100663296
'

test_expect_success 'a memory limit below the current usage is refused without --force, nothing changes' '
	c=$(cg lim-web) &&
	cp "$DROPIN" dropin.before &&
	host_snapshot lim-web.service >snap.before &&
	test_must_fail_with 3 "$BERTH" limit lim-web --memory 1M 2>err &&
	cat err &&
	grep -q "below what lim-web uses now" err &&
	grep -q -- "--force" err &&
	test_must_fail_with 3 "$BERTH" limit --json lim-web --memory 1M >refused.json &&
	json_get refused.json ".ok == false" &&
	json_get refused.json ".exit_code == 3" &&
	test "$(cat "$c/memory.max")" = 100663296 &&
	test_cmp dropin.before "$DROPIN" &&
	host_snapshot lim-web.service >snap.after &&
	test_cmp snap.before snap.after
'

test_expect_success 'invalid values are refused before anything changes, naming the option and value' '
	c=$(cg lim-web) &&
	for a in "--memory 12Q" "--memory 0" "--cpu 50" "--cpu 0%" "--cpu 1.5%" "--tasks 0" "--tasks x" \
		"--swap -1" "--memory-high 1.5G"; do
		opt=${a%% *} && val=${a#* } &&
		test_must_fail_with 3 "$BERTH" limit lim-web $a 2>err &&
		grep -q -- "invalid $opt \"$val\"" err || { cat err; return 1; }
	done &&
	test_must_fail_with 3 "$BERTH" limit lim-web --memory-high 200M 2>err &&
	grep -q "above the memory limit" err &&
	test_must_fail_with 2 "$BERTH" limit lim-web --runtime --restart --cpu 50% &&
	test "$(cat "$c/memory.max")" = 100663296 &&
	test "$(cat "$c/cpu.max")" = "30000 100000"
'

test_expect_success '--check reports what would change and changes nothing' '
	host_snapshot lim-web.service >snap.before &&
	"$BERTH" limit --check --json lim-web --memory 128M >check.json &&
	json_get check.json ".changed" &&
	json_get check.json ".check" &&
	json_get check.json ".limits.after.memory_max == 134217728" &&
	json_get check.json ".diff == null" &&
	"$BERTH" limit --check --diff lim-web --memory 128M >check.out &&
	grep -q "^+MemoryMax=128M" check.out &&
	"$BERTH" limit --check --diff --json lim-web --memory 128M >diff.json &&
	jq -j .diff diff.json >diff.json.txt &&
	sed -n "/^--- /,/^[^-+@ ]/{/^[-+@ ]/p}" check.out >diff.txt &&
	grep -q "^+MemoryMax=128M" diff.txt &&
	test_cmp diff.txt diff.json.txt &&
	host_snapshot lim-web.service >snap.after &&
	test_cmp snap.before snap.after &&
	test "$(cat "$(cg lim-web)/memory.max")" = 100663296
'

test_expect_success 'berth deploy of the unchanged manifest keeps the limits set by berth limit' '
	pid=$(main_pid lim-web) &&
	"$BERTH" deploy --json web.ini >redeploy.json &&
	json_get redeploy.json ".ok" &&
	test "$(main_pid lim-web)" = "$pid" &&
	test "$(cat "$(cg lim-web)/memory.max")" = 100663296 &&
	test "$(cat "$(cg lim-web)/cpu.max")" = "30000 100000" &&
	test -f "$DROPIN" &&
	"$BERTH" restart lim-web &&
	test "$(cat "$(cg lim-web)/memory.max")" = 100663296 &&
	info 8304 >info-restarted.json &&
	json_get info-restarted.json ".gomaxprocs == 1"
'

test_expect_success 'setting a limit back to the manifest'"'"'s value removes it from the drop-in' '
	"$BERTH" limit --json lim-web --memory 64M --cpu 150% >back.json &&
	json_get back.json ".persisted_file == null" &&
	test ! -e "$DROPIN" &&
	test "$(cat "$(cg lim-web)/memory.max")" = 67108864 &&
	test "$(cat "$(cg lim-web)/cpu.max")" = "150000 100000"
'

test_expect_success 'a deploy whose manifest changes a limit replaces the one berth limit set' '
	"$BERTH" limit lim-web --memory 96M >/dev/null &&
	test -f "$DROPIN" &&
	manifest web.ini lim-web 8304 "resources.cpu = 150%" "resources.memory = 80M" &&
	"$BERTH" deploy --json web.ini >changed.json &&
	json_get changed.json ".changed" &&
	test "$(cat "$(cg lim-web)/memory.max")" = 83886080 &&
	test ! -e "$DROPIN"
'

test_expect_success 'status shows the kernel'"'"'s view and the Go decision' '
	"$BERTH" status --json lim-web >st.json &&
	json_get st.json ".services[0].cgroup.version == 2" &&
	json_get st.json ".services[0].cgroup.memory_max == 83886080" &&
	json_get st.json ".services[0].limit_mismatches | length == 0" &&
	json_get st.json ".services[0].go.gomaxprocs == 2" &&
	json_get st.json ".services[0].go.gomaxprocs_source == \"auto\"" &&
	"$BERTH" status lim-web >st.out &&
	grep -q "cgroup v2: memory peak" st.out
'

test_expect_success 'cleanup: remove leaves no drop-in behind' '
	remove_service lim-web &&
	test ! -e /etc/systemd/system/lim-web.service &&
	test ! -e /etc/systemd/system/lim-web.service.d
'

test_done
