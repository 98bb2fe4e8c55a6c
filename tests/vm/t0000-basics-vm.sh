#!/bin/bash
# t0000-basics-vm.sh - the VM gives berth what the host cannot: systemd as PID 1, pure cgroup v2
# with the controllers berth configures, a system bus, sysctls of its own; and berth is installed.
# shellcheck source-path=SCRIPTDIR disable=SC2016 # test bodies are single-quoted: test-lib.sh evals them
test_description='the test VM is a real systemd machine with cgroup v2, D-Bus and berth'
# shellcheck source=test-lib.sh
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'PID 1 is systemd' '
	readlink /proc/1/exe >exe &&
	grep -q "/systemd$" exe &&
	echo systemd >expect &&
	ps -p 1 -o comm= >actual &&
	test_cmp expect actual
'

test_expect_success 'the system is running (or degraded)' '
	state=$(systemctl is-system-running) ||
	test "$state" = degraded ||
	{ echo "state: $state"; systemctl --failed --no-pager; false; }
'

test_expect_success '/sys/fs/cgroup is cgroup v2' '
	echo cgroup2fs >expect &&
	stat -fc %T /sys/fs/cgroup >actual &&
	test_cmp expect actual
'

test_expect_success 'the cgroup v2 root offers memory, cpu and pids' '
	for c in memory cpu pids; do
		grep -qw "$c" /sys/fs/cgroup/cgroup.controllers ||
		{ echo "no $c in cgroup.controllers"; return 1; }
	done
'

# systemd enables a controller in system.slice once a unit asks for it.
test_expect_success 'a transient unit gets memory.max, cpu.max and pids.max' '
	test_when_finished "systemctl stop t0000-probe.service; systemctl reset-failed t0000-probe.service 2>/dev/null; true" &&
	systemd-run --unit=t0000-probe -p MemoryMax=64M -p CPUQuota=50% -p TasksMax=16 sleep 30 &&
	cg=/sys/fs/cgroup/system.slice/t0000-probe.service &&
	printf "67108864\n50000 100000\n16\n" >expect &&
	cat $cg/memory.max $cg/cpu.max $cg/pids.max >actual &&
	test_cmp expect actual &&
	for c in memory cpu pids; do
		grep -qw "$c" /sys/fs/cgroup/system.slice/cgroup.subtree_control ||
		{ echo "no $c in system.slice/cgroup.subtree_control"; return 1; }
	done
'

test_expect_success 'the system bus answers' '
	busctl status >/dev/null &&
	busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 \
		org.freedesktop.systemd1.Manager Version >version &&
	grep "^s \"[0-9]" version
'

test_expect_success 'sysctls are writable (the guest kernel is our own)' '
	old=$(cat /proc/sys/net/ipv4/tcp_fin_timeout) &&
	test_when_finished "echo $old >/proc/sys/net/ipv4/tcp_fin_timeout" &&
	new=$((old + 1)) &&
	echo $new >/proc/sys/net/ipv4/tcp_fin_timeout &&
	echo $new >expect &&
	cat /proc/sys/net/ipv4/tcp_fin_timeout >actual &&
	test_cmp expect actual
'

test_expect_success 'berth is installed and runs' '
	test -x "$BERTH" &&
	"$BERTH" --version >out &&
	grep "^berth " out
'

test_done
