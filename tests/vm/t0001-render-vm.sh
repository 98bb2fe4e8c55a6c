#!/bin/bash
# t0001-render-vm.sh - the rendered unit is accepted by the real systemd, scores ≤ 1.5, starts the
# sample service healthy, and a manifest full of hostile values gains no directive.
# (args are split like a shell: an unquoted a\b is "ab", as in sh)
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth render: verified, hardened, started by systemd; hostile values stay literal'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

# install_by_hand NAME UNITFILE: what deploy does, without deploy (this test is about render)
install_by_hand() {
	mkdir -p "/var/lib/berth/$1/releases/manual" &&
	cp "$HELLO" "/var/lib/berth/$1/releases/manual/$1" &&
	ln -sfn releases/manual "/var/lib/berth/$1/current" &&
	sed 1d "$2" >"/etc/systemd/system/$1.service" &&
	systemctl daemon-reload
}

test_expect_success 'render the example with its binary' '
	"$BERTH" render --binary "$HELLO" "$EXAMPLES/hello.ini" >hello.render &&
	head -1 hello.render | grep -qx "# /etc/systemd/system/hello.service" &&
	install_by_hand hello hello.render
'

# --man=no: the test image has no man-db to resolve Documentation=man:berth(8)
test_expect_success 'systemd-analyze verify accepts the unit' '
	systemd-analyze verify --man=no /etc/systemd/system/hello.service
'

test_expect_success 'systemd-analyze security rates it at most 1.5' '
	systemd-analyze security --no-pager hello.service >security.out &&
	score=$(sed -n "s/.*Overall exposure level for hello.service: \([0-9.]*\).*/\1/p" security.out) &&
	echo "exposure: $score" &&
	awk -v s="$score" "BEGIN { exit !(s > 0 && s <= 1.5) }"
'

test_expect_success 'systemctl start returns only once the service is healthy' '
	systemctl start hello.service &&
	curl -fsS --max-time 2 http://127.0.0.1:8080/healthz >body &&
	grep -q ok body &&
	test "$(systemctl show -p ActiveState --value hello)" = active
'

test_expect_success 'the service runs sandboxed: dynamic user, no privileges, no capabilities' '
	pid=$(main_pid hello) &&
	test "$(stat -c %u /proc/$pid)" -ne 0 &&
	grep -q "^NoNewPrivs:[[:space:]]*1" /proc/$pid/status &&
	grep -q "^CapBnd:[[:space:]]*0000000000000000" /proc/$pid/status &&
	grep -q "^Seccomp:[[:space:]]*2" /proc/$pid/status
'

test_expect_success 'the limits are the kernel'"'"'s: memory.max and cpu.max' '
	cg=/sys/fs/cgroup$(systemctl show -p ControlGroup --value hello) &&
	test "$(cat $cg/memory.max)" = 134217728 &&
	test "$(cat $cg/cpu.max)" = "50000 100000"
'

test_expect_success 'GOMAXPROCS and GOMEMLIMIT reach the Go runtime' '
	curl -fsS http://127.0.0.1:8080/info >info.json &&
	test "$(jq -r .gomaxprocs info.json)" = 1 &&
	test "$(jq -r .gomemlimit info.json)" = 120795955
'

test_expect_success 'clean up hello' '
	systemctl stop hello.service &&
	rm -rf /etc/systemd/system/hello.service /var/lib/berth/hello &&
	systemctl daemon-reload
'

cat >hostile.ini <<'INI'
[service]
name = hostile
args = -listen 127.0.0.1:8091 "two words" '$HOME' '${PATH}' '%n%i%%' ';' a\b '"quoted"' -x=$USER "back\\slash" '\n'
description = "Evil %n $X ; ExecStartPre=/bin/touch /run/pwned"
[environment]
EVIL = "a;b # ExecStartPre=/bin/touch /run/pwned2 %n $HOME"
MyVar = kept
GOGC = 77
[health]
http = http://127.0.0.1:8091/healthz
INI

test_expect_success 'a hostile manifest renders and starts' '
	"$BERTH" render --binary "$HELLO" hostile.ini >hostile.render &&
	install_by_hand hostile hostile.render &&
	systemctl start hostile.service
'

test_expect_success 'no directive was added: one ExecStart, berth'"'"'s ExecStartPost, nothing else' '
	test -z "$(systemctl show -p ExecStartPre --value hostile)" &&
	test -z "$(systemctl show -p ExecStopPost --value hostile)" &&
	test -z "$(systemctl show -p ExecStop --value hostile)" &&
	systemctl show -p ExecStartPost --value hostile >post &&
	grep -q "wait-ready" post &&
	test "$(grep -c "^ExecStart" /etc/systemd/system/hostile.service)" = 2 &&
	test ! -e /run/pwned && test ! -e /run/pwned2
'

test_expect_success 'the process gets exactly the arguments written, unexpanded' '
	printf "%s\n" /var/lib/berth/hostile/current/hostile -listen 127.0.0.1:8091 "two words" "\$HOME" \
		"\${PATH}" "%n%i%%" ";" "ab" "\"quoted\"" "-x=\$USER" "back\\slash" "\\n" >expect &&
	tr "\0" "\n" </proc/$(main_pid hostile)/cmdline >actual &&
	test_cmp expect actual
'

test_expect_success 'environment names keep their case and values stay literal' '
	tr "\0" "\n" </proc/$(main_pid hostile)/environ >environ &&
	grep -qx "EVIL=a;b # ExecStartPre=/bin/touch /run/pwned2 %n \$HOME" environ &&
	grep -qx "MyVar=kept" environ &&
	grep -qx "GOGC=77" environ
'

test_expect_success 'the description is literal' '
	test "$(systemctl show -p Description --value hostile)" = "Evil %n \$X ; ExecStartPre=/bin/touch /run/pwned"
'

test_expect_success 'clean up hostile' '
	systemctl stop hostile.service &&
	rm -rf /etc/systemd/system/hostile.service /var/lib/berth/hostile &&
	systemctl daemon-reload
'

test_done
