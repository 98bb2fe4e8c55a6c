#!/bin/bash
# t3100-tune.sh - berth tune on the VM's own kernel: profiles applied live through /proc/sys and
# persisted in /etc/sysctl.d/60-berth.conf, --check, idempotence, an exact --revert, all-or-nothing
# host files, the never-lower rule and --force, fs.nr_open for services, network namespaces, and
# systemd-sysctl reading the file berth wrote.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth tune: sysctls live and at boot, exact revert'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

CONF=/etc/sysctl.d/60-berth.conf
PREVIOUS=/var/lib/berth/.tune/previous.conf
# every key the web profile touches
WEB_KEYS='fs.file-max fs.nr_open net.core.somaxconn net.ipv4.tcp_max_syn_backlog
net.core.netdev_max_backlog net.ipv4.ip_local_port_range net.ipv4.tcp_fin_timeout
net.ipv4.tcp_tw_reuse net.ipv4.tcp_max_tw_buckets net.ipv4.tcp_slow_start_after_idle
net.ipv4.tcp_keepalive_time net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes'

# live KEY: the kernel's value, exactly as /proc/sys prints it (tabs and all)
live() {
	cat "/proc/sys/${1//.//}"
}

# The live values of every key the profile touches, and berth's files (absent or their bytes).
tune_snapshot() {
	for k in $WEB_KEYS; do
		printf '%s = %s\n' "$k" "$(live "$k")"
	done
	for f in "$CONF" "$PREVIOUS"; do
		if [ -e "$f" ]; then
			echo "$f:" && cat "$f"
		else
			echo "$f: absent"
		fi
	done
}

test_expect_success 'tune refuses to apply as a user; --check works as one' '
	test_must_fail_with 4 setpriv --reuid=65534 --regid=65534 --clear-groups "$BERTH" tune --profile web 2>err &&
	grep -q "must run as root" err &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$BERTH" tune --check --profile web >user.out &&
	grep -q "net.core.somaxconn" user.out &&
	test ! -e "$CONF"
'

test_expect_success 'the starting point: the kernel'"'"'s values, no berth files' '
	tune_snapshot >before &&
	cat before &&
	test ! -e "$CONF" &&
	test ! -e "$PREVIOUS"
'

test_expect_success '--check reports what would change and changes nothing' '
	"$BERTH" tune --check --json --profile web >check.json &&
	json_get check.json ".ok and .check and .changed" &&
	json_get check.json ".profile == \"web\"" &&
	json_get check.json ".keys[] | select(.key == \"net.core.somaxconn\") | .before == \"4096\" and .after == \"8192\" and .changed" &&
	json_get check.json ".keys[] | select(.key == \"net.ipv4.ip_local_port_range\") | .after == \"10240 65535\"" &&
	json_get check.json ".diff == null" &&
	"$BERTH" tune --check --diff --profile web >check.out &&
	cat check.out &&
	grep -q "^+net.core.somaxconn = 8192" check.out &&
	"$BERTH" tune --check --diff --json --profile web >diff.json &&
	json_get diff.json ".diff | test(\"\\n[+]net.core.somaxconn = 8192\\n\")" &&
	tune_snapshot >after-check &&
	test_cmp before after-check
'

test_expect_success 'tune --profile web changes the live values and writes 60-berth.conf' '
	"$BERTH" tune --profile web >web.out &&
	cat web.out &&
	test "$(live net.core.somaxconn)" = 8192 &&
	test "$(live net.ipv4.tcp_max_syn_backlog)" = 8192 &&
	test "$(live net.core.netdev_max_backlog)" = 16384 &&
	test "$(live net.ipv4.ip_local_port_range)" = "$(printf "10240\t65535")" &&
	test "$(live net.ipv4.tcp_fin_timeout)" = 30 &&
	test "$(live net.ipv4.tcp_tw_reuse)" = 1 &&
	test "$(live net.ipv4.tcp_slow_start_after_idle)" = 0 &&
	test "$(live net.ipv4.tcp_keepalive_time)" = 600 &&
	cat "$CONF" &&
	test "$(stat -c "%U %a" "$CONF")" = "root 644" &&
	head -n 1 "$CONF" | grep -q "written by berth tune (profile web)" &&
	grep -qx "net.core.somaxconn = 8192" "$CONF" &&
	grep -qx "net.ipv4.ip_local_port_range = 10240 65535" "$CONF" &&
	grep -q "^# accept queue of each listening socket" "$CONF" &&
	grep -q "4096 since Linux 5.4" "$CONF"
'

test_expect_success 'a value already higher is kept: fs.file-max stays systemd'"'"'s maximum' '
	test "$(live fs.file-max)" = 9223372036854775807 &&
	! grep -q "^fs.file-max" "$CONF" &&
	grep -q "^  · fs.file-max .*kept: the current 9223372036854775807 is already higher than 2097152" web.out
'

test_expect_success 'previous.conf holds the kernel'"'"'s values from before, exactly' '
	cat "$PREVIOUS" &&
	grep -qx "profile = web" "$PREVIOUS" &&
	grep -qx "net.core.somaxconn = 4096" "$PREVIOUS" &&
	grep -qx "net.ipv4.ip_local_port_range = $(grep "^net.ipv4.ip_local_port_range = " before | cut -d" " -f3-)" "$PREVIOUS" &&
	! grep -q "^fs.file-max" "$PREVIOUS"
'

test_expect_success 'a second apply changes nothing (changed: false) and rewrites no file' '
	ino=$(stat -c %i "$CONF" "$PREVIOUS") &&
	"$BERTH" tune --json --profile web >again.json &&
	json_get again.json ".ok and (.changed == false)" &&
	json_get again.json "[.keys[] | select(.changed)] | length == 0" &&
	json_get again.json ".keys[] | select(.key == \"fs.file-max\") | .namespaced == false and .action == \"keep\"" &&
	json_get again.json ".keys[] | select(.key == \"net.core.somaxconn\") | .namespaced and .reason != null" &&
	json_get again.json ".warnings | type == \"array\"" &&
	test "$(stat -c %i "$CONF" "$PREVIOUS")" = "$ino" &&
	"$BERTH" tune --json >remembered.json &&
	json_get remembered.json ".profile == \"web\" and (.changed == false)"
'

test_expect_success 'systemd-sysctl accepts 60-berth.conf and applies it' '
	test_when_finished "\"$BERTH\" tune --profile web >/dev/null" &&
	echo 4096 >/proc/sys/net/core/somaxconn &&
	echo 60 >/proc/sys/net/ipv4/tcp_fin_timeout &&
	/lib/systemd/systemd-sysctl "$CONF" 2>err &&
	cat err &&
	test ! -s err &&
	test "$(live net.core.somaxconn)" = 8192 &&
	test "$(live net.ipv4.tcp_fin_timeout)" = 30
'

test_expect_success 'a host file overrides a key; previous.conf keeps the value from before berth' '
	cat >host.ini <<-\EOF &&
	# berth tune host overrides
	[sysctl]
	# the load balancer opens bursts of connections
	net.core.somaxconn = 16384
	EOF
	"$BERTH" tune --profile web host.ini >host.out &&
	cat host.out &&
	test "$(live net.core.somaxconn)" = 16384 &&
	grep -qx "net.core.somaxconn = 16384" "$CONF" &&
	grep -q "^# the load balancer opens bursts of connections ($TEST_TMP/host.ini:4" "$CONF" &&
	grep -qx "net.core.somaxconn = 4096" "$PREVIOUS" &&
	grep -qx "file = $TEST_TMP/host.ini" "$PREVIOUS"
'

test_expect_success 'net.ipv4.tcp_tw_recycle in a host file: exit 3, the reason, nothing applied' '
	tune_snapshot >pre-bad &&
	cat >bad.ini <<-\EOF &&
	[sysctl]
	net.core.somaxconn = 20000
	net.ipv4.tcp_tw_recycle = 1
	EOF
	test_must_fail_with 3 "$BERTH" tune --profile web bad.ini 2>err &&
	cat err &&
	grep -q "bad.ini:3: \[sysctl\] net.ipv4.tcp_tw_recycle: .*removed in Linux 4.12" err &&
	grep -q "NAT" err &&
	grep -q "use net.ipv4.tcp_tw_reuse = 1" err &&
	grep -q "nothing was changed" err &&
	test_must_fail_with 3 "$BERTH" tune --json --profile web bad.ini >bad.json 2>/dev/null &&
	json_get bad.json "(.ok | not) and .exit_code == 3 and (.changed == false)" &&
	json_get bad.json ".errors[0].line == 3 and .errors[0].key == \"net.ipv4.tcp_tw_recycle\"" &&
	json_get bad.json ".errors[0].file | endswith(\"/bad.ini\")" &&
	tune_snapshot >post-bad &&
	test_cmp pre-bad post-bad
'

test_expect_success 'keys this kernel lacks and bad values are refused with file, line and key' '
	tune_snapshot >pre-bad2 &&
	cat >bad2.ini <<-\EOF &&
	[sysctl]
	net.ipv4.tcp_nonsense = 1
	net.ipv4.ip_local_port_range = 1000 65535
	net.core.somaxconn = lots
	EOF
	test_must_fail_with 3 "$BERTH" tune --profile web bad2.ini 2>err &&
	cat err &&
	grep -q "bad2.ini:2: \[sysctl\] net.ipv4.tcp_nonsense: not on this kernel" err &&
	grep -q "bad2.ini:3: \[sysctl\] net.ipv4.ip_local_port_range: .*below 1024" err &&
	grep -q "bad2.ini:4: \[sysctl\] net.core.somaxconn: .*not a whole number" err &&
	tune_snapshot >post-bad2 &&
	test_cmp pre-bad2 post-bad2
'

test_expect_success '--revert restores every value and removes the files, exactly' '
	"$BERTH" tune --revert >revert.out &&
	cat revert.out &&
	tune_snapshot >after-revert &&
	test_cmp before after-revert &&
	test ! -e "$CONF" &&
	test ! -e "$PREVIOUS"
'

test_expect_success '--revert again changes nothing' '
	"$BERTH" tune --revert --json >revert2.json &&
	json_get revert2.json ".ok and (.changed == false)" &&
	tune_snapshot >after-revert2 &&
	test_cmp before after-revert2
'

test_expect_success 'a higher value is kept unless --force; --revert brings back the value from before' '
	test_when_finished "echo 4096 >/proc/sys/net/core/somaxconn" &&
	echo 20000 >/proc/sys/net/core/somaxconn &&
	"$BERTH" tune --json --profile web >keep.json &&
	json_get keep.json ".keys[] | select(.key == \"net.core.somaxconn\") | .action == \"keep\" and .after == \"20000\"" &&
	test "$(live net.core.somaxconn)" = 20000 &&
	! grep -q "^net.core.somaxconn" "$CONF" &&
	"$BERTH" tune --force --profile web >force.out &&
	test "$(live net.core.somaxconn)" = 8192 &&
	grep -qx "net.core.somaxconn = 20000" "$PREVIOUS" &&
	"$BERTH" tune --revert &&
	test "$(live net.core.somaxconn)" = 20000 &&
	test ! -e "$CONF"
'

test_expect_success 'fs.nr_open is raised for a service whose nofile needs it; --check warns first' '
	nr_open=$(cat /proc/sys/fs/nr_open) &&
	test_when_finished "remove_service tuned; echo $nr_open >/proc/sys/fs/nr_open; \"$BERTH\" tune --revert >/dev/null" &&
	manifest tuned.ini tuned 8131 "resources.nofile = 800000" &&
	"$BERTH" deploy tuned.ini >deploy.out &&
	echo 600000 >/proc/sys/fs/nr_open &&
	"$BERTH" tune --check --json --profile proxy >nofile.json 2>nofile.err &&
	cat nofile.err &&
	json_get nofile.json ".warnings[] | select(contains(\"service \\\"tuned\\\" asks for nofile = 800000, above fs.nr_open = 600000\"))" &&
	json_get nofile.json ".keys[] | select(.key == \"fs.nr_open\") | .after == \"800000\" and .changed" &&
	test "$(live fs.nr_open)" = 600000 &&
	"$BERTH" tune --profile proxy >nofile.out &&
	test "$(live fs.nr_open)" = 800000 &&
	grep -qx "fs.nr_open = 800000" "$CONF" &&
	grep -q "service \"tuned\" asks for nofile = 800000" "$CONF" &&
	"$BERTH" tune --revert 2>revert.err &&
	cat revert.err &&
	test "$(live fs.nr_open)" = 600000 &&
	grep -q "service \"tuned\" asks for nofile = 800000, above fs.nr_open = 600000: systemd cannot start it" revert.err
'

test_expect_success 'in another network namespace, net.* keys are said to change that namespace only' '
	unshare --net "$BERTH" tune --check --json --profile web >netns.json &&
	json_get netns.json ".other_netns" &&
	json_get netns.json ".warnings[] | select(contains(\"another network namespace\"))" &&
	json_get netns.json ".keys[] | select(.key == \"net.core.somaxconn\") | .namespaced" &&
	unshare --net "$BERTH" tune --check --profile web >netns.out &&
	grep -q "net.core.somaxconn .*\[this namespace only\]" netns.out
'

test_expect_success 'an unknown profile is a usage error with a suggestion; --revert takes no profile' '
	test_must_fail_with 2 "$BERTH" tune --profile webb 2>err &&
	grep -q "did you mean \"web\"" err &&
	test_must_fail_with 2 "$BERTH" tune --revert --profile web 2>err &&
	test_must_fail_with 5 "$BERTH" tune --profile web /nonexistent.ini 2>err &&
	grep -q "nonexistent.ini" err
'

test_expect_success 'the host is as it was' '
	tune_snapshot >final &&
	test_cmp before final
'

test_done
