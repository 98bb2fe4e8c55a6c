#!/bin/bash
# t4000-net.sh - berth net on the VM's kernel: listeners and their accept queues, connections by
# TCP state on a service's port (checked against ss), another process's listener on the same port,
# a backlog opened before somaxconn was raised (flagged until a restart), ListenOverflows growing
# while the service does not accept, and a run as an unprivileged user.
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2317,SC2034
# (the helpers and OWN/OTHER are used inside the eval'ed step bodies)
test_description='berth net: accept queues, TCP states, listen overflows'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

CONNBURST=${CONNBURST:-$FIXTURES/connburst/connburst}
SOMAXCONN=/proc/sys/net/core/somaxconn
PORT=8401 # the service's http check; a process berth does not manage listens on 127.0.0.2:PORT too
N=500
orig_somaxconn=$(cat "$SOMAXCONN")
# Whatever happens below, the next scripts get the kernel and the host back as they were.
trap 'echo "$orig_somaxconn" >"$SOMAXCONN"; remove_service netweb; systemctl stop netforeign >/dev/null 2>&1' EXIT

manifest web.ini netweb "$PORT"

# burst_start TAG ARGS...: connburst ARGS in the background; its stdin is a fifo held open by a
# sleep, so that burst_stop can make it close everything (end of file) and exit.
burst_start() {
	local tag=$1
	shift
	mkfifo "$tag.hold" || return 1
	sleep 900 >"$tag.hold" &
	echo $! >"$tag.sleep"
	"$CONNBURST" "$@" <"$tag.hold" >"$tag.out" 2>"$tag.err" &
	echo $! >"$tag.pid"
}

# burst_wait TAG: until connburst has finished dialing (it prints "connected K"); prints K.
burst_wait() {
	local _
	for _ in $(seq 600); do
		if grep -q "^connected " "$1.out" 2>/dev/null; then
			sed -n "s/^connected //p" "$1.out"
			return 0
		fi
		kill -0 "$(cat "$1.pid")" 2>/dev/null || break
		sleep 0.2
	done
	echo "connburst $1 did not finish dialing:" >&2
	cat "$1.out" "$1.err" >&2
	return 1
}

burst_stop() {
	[ -f "$1.sleep" ] && kill "$(cat "$1.sleep")" 2>/dev/null
	[ -f "$1.pid" ] && wait "$(cat "$1.pid")" 2>/dev/null
	rm -f "$1.hold" "$1.sleep" "$1.pid"
	true
}

# established PORT: the server ends of ESTABLISHED connections on PORT, as ss counts them
established() {
	ss -Htn state established "( sport = :$1 )" | wc -l
}

test_expect_success 'the VM has what the test needs' '
	test -x "$CONNBURST" &&
	command -v ss &&
	test "$orig_somaxconn" -ge 128 &&
	echo "somaxconn $orig_somaxconn"
'

test_expect_success 'with no services: the host totals, and no delta on the first call' '
	rm -f /run/berth/netstat.last &&
	"$BERTH" net --json >empty.json &&
	cat empty.json &&
	json_get empty.json ".ok and .command == \"net\" and .exit_code == 0" &&
	json_get empty.json ".services == []" &&
	json_get empty.json ".host.somaxconn == $orig_somaxconn" &&
	json_get empty.json ".host.states.LISTEN >= 0" &&
	json_get empty.json ".host.listen_overflows >= 0 and .host.listen_drops >= 0" &&
	json_get empty.json ".host.listen_overflows_delta == null and .host.interval_usec == null" &&
	test -f /run/berth/netstat.last &&
	"$BERTH" net --json >empty2.json &&
	json_get empty2.json ".host.listen_overflows_delta >= 0 and .host.listen_drops_delta >= 0" &&
	json_get empty2.json ".host.interval_usec > 0" &&
	"$BERTH" net >empty.out &&
	cat empty.out &&
	grep -q "no services deployed by berth" empty.out &&
	grep -Eq "ListenOverflows [0-9]+ \(\+0\), ListenDrops [0-9]+ \(\+0\) since the previous call" empty.out &&
	grep -q "^host " empty.out
'

test_expect_success 'an unknown service is exit 5' '
	test_must_fail_with 5 "$BERTH" net --json nosuch >nosuch.json &&
	json_get nosuch.json ".ok == false and .exit_code == 5"
'

test_expect_success 'deploy the sample service' '
	"$BERTH" deploy web.ini
'

test_expect_success 'its port: listening, one socket, empty queue, backlog = somaxconn' '
	"$BERTH" net --json netweb >idle.json &&
	cat idle.json &&
	json_get idle.json ".services | length == 1" &&
	json_get idle.json ".services[0].name == \"netweb\" and .services[0].active_state == \"active\"" &&
	json_get idle.json ".services[0].somaxconn_visible" &&
	json_get idle.json ".services[0].ports | map(.port) == [$PORT]" &&
	json_get idle.json ".services[0].ports[0].checks == [\"http\"]" &&
	json_get idle.json ".services[0].ports[0].listening" &&
	json_get idle.json ".services[0].ports[0].sockets | length == 1" &&
	json_get idle.json ".services[0].ports[0].sockets[0] | .family == \"ipv4\" and .address == \"127.0.0.1\"" &&
	json_get idle.json ".services[0].ports[0].sockets[0].accept_queue == 0" &&
	json_get idle.json ".services[0].ports[0].sockets[0].accept_queue_max == $orig_somaxconn" &&
	json_get idle.json ".services[0].ports[0].sockets[0] | .backlog_capped == false and .near_full == false" &&
	json_get idle.json ".services[0].ports[0].sockets[0].owned_by_service" &&
	json_get idle.json ".services[0].ports[0].states.LISTEN == 1" &&
	json_get idle.json ".services[0].ports[0].states.ESTABLISHED == $(established $PORT)"
'

test_expect_success "$N connections: ESTABLISHED on the port is exactly $N, as ss counts" '
	burst_start est -n $N -http /healthz "127.0.0.1:$PORT" &&
	test_when_finished "burst_stop est" &&
	test "$(burst_wait est)" = $N &&
	"$BERTH" net --json netweb >est.json &&
	test "$(established $PORT)" = $N &&
	json_get est.json ".services[0].ports[0].states.ESTABLISHED == $N" &&
	json_get est.json ".host.states.ESTABLISHED >= 2 * $N" &&
	all=$(ss -Htn state established | wc -l) &&
	echo "ss: $all established" &&
	test "$all" -ge $((2 * N)) &&
	"$BERTH" net >all.out &&
	cat all.out &&
	grep -Eq "^netweb +$PORT +http +yes +127\.0\.0\.1 +0/$orig_somaxconn +$N " all.out
'

test_expect_success 'the accept queue and its maximum are what ss shows' '
	ss -Hltn "( sport = :$PORT )" >ss.out &&
	cat ss.out &&
	read -r _ rq sq _ <ss.out &&
	"$BERTH" net --json netweb >q.json &&
	json_get q.json ".services[0].ports[0].sockets[0].accept_queue == $rq" &&
	json_get q.json ".services[0].ports[0].sockets[0].accept_queue_max == $sq"
'

# jq: the service's own socket and the other process's, on the same port
OWN='.services[0].ports[0].sockets[] | select(.address == "127.0.0.1")'
OTHER='.services[0].ports[0].sockets[] | select(.address == "127.0.0.2")'

test_expect_success 'another process listening on the same port is told apart' '
	systemd-run --quiet --unit=netforeign "$HELLO" -listen "127.0.0.2:$PORT" &&
	for i in $(seq 100); do ss -Hltn "( src 127.0.0.2 and sport = :$PORT )" | grep -q . && break; sleep 0.1; done &&
	"$BERTH" net --json netweb >other.json &&
	cat other.json &&
	json_get other.json ".services[0].ports[0].sockets | length == 2" &&
	json_get other.json ".services[0].ports[0].states.LISTEN == 2" &&
	json_get other.json ".services[0].ports[0].sockets[0].address == \"127.0.0.1\"" &&
	json_get other.json "$OWN | .owned_by_service" &&
	json_get other.json "$OTHER | .owned_by_service == false" &&
	"$BERTH" net netweb >other.out &&
	cat other.out &&
	grep -q "127.0.0.2:$PORT is held by another process, not by netweb" other.out &&
	! grep -q "127.0.0.1:$PORT is held by another process" other.out
'

test_expect_success 'somaxconn raised: the old backlog stays and is flagged until a restart' '
	new=$((orig_somaxconn * 2)) &&
	echo "$new" >"$SOMAXCONN" &&
	"$BERTH" net --json netweb >capped.json &&
	cat capped.json &&
	json_get capped.json ".host.somaxconn == $new" &&
	json_get capped.json "$OWN | .accept_queue_max == $orig_somaxconn" &&
	json_get capped.json "$OWN | .backlog_capped" &&
	json_get capped.json "$OTHER | .accept_queue_max == $orig_somaxconn" &&
	json_get capped.json "$OTHER | .backlog_capped == false" &&
	"$BERTH" net netweb >capped.out &&
	cat capped.out &&
	grep -q "restart to pick up somaxconn=$new (berth restart netweb)" capped.out &&
	test "$(grep -c "restart to pick up" capped.out)" = 1
'

test_expect_success 'after berth restart the backlog is the new somaxconn' '
	systemctl stop netforeign &&
	"$BERTH" restart netweb &&
	"$BERTH" net --json netweb >restarted.json &&
	json_get restarted.json ".services[0].ports[0].sockets | length == 1" &&
	json_get restarted.json ".services[0].ports[0].sockets[0].accept_queue_max == $new" &&
	json_get restarted.json ".services[0].ports[0].sockets[0].backlog_capped == false" &&
	json_get restarted.json ".services[0].ports[0].sockets[0].owned_by_service" &&
	"$BERTH" net netweb >restarted.out &&
	! grep -q "restart to pick up" restarted.out
'

test_expect_success 'a unit that hides /proc/sys: Go'"'"'s fallback backlog, and no restart hint' '
	mkdir -p /run/systemd/system/netweb.service.d &&
	printf "[Service]\nProcSubset=pid\n" >/run/systemd/system/netweb.service.d/50-t4000.conf &&
	test_when_finished "rm -rf /run/systemd/system/netweb.service.d && systemctl daemon-reload && \"\$BERTH\" restart netweb" &&
	systemctl daemon-reload &&
	"$BERTH" restart netweb &&
	"$BERTH" net --json netweb >hidden.json &&
	cat hidden.json &&
	json_get hidden.json ".services[0].somaxconn_visible == false" &&
	json_get hidden.json ".services[0].ports[0].sockets[0].accept_queue_max == 128" &&
	json_get hidden.json ".services[0].ports[0].sockets[0].backlog_capped" &&
	"$BERTH" net netweb >hidden.out &&
	cat hidden.out &&
	grep -q "netweb cannot read net.core.somaxconn (its unit hides /proc/sys, ProcSubset=pid)" hidden.out &&
	! grep -q "restart to pick up" hidden.out
'

test_expect_success 'a tiny backlog: 4 with somaxconn=4 after a restart' '
	echo 4 >"$SOMAXCONN" &&
	"$BERTH" restart netweb &&
	"$BERTH" net --json netweb >tiny.json &&
	json_get tiny.json ".services[0].ports[0].sockets[0].accept_queue_max == 4" &&
	json_get tiny.json ".services[0].ports[0].sockets[0].backlog_capped == false"
'

test_expect_success 'a service that stops accepting: full queue, ListenOverflows grows' '
	pid=$(main_pid netweb) &&
	test "$pid" -gt 0 &&
	"$BERTH" net --json >before.json &&
	kill -STOP "$pid" &&
	test_when_finished "kill -CONT $pid" &&
	burst_start over -n 50 -parallel 50 -dial-timeout 3s "127.0.0.1:$PORT" &&
	test_when_finished "burst_stop over" &&
	burst_wait over &&
	cat over.err &&
	"$BERTH" net --json netweb >over.json &&
	cat over.json &&
	grep TcpExt /proc/net/netstat &&
	json_get over.json ".host.listen_overflows_delta > 0" &&
	json_get over.json ".host.listen_drops_delta > 0" &&
	json_get over.json ".host.listen_overflows > $(jq .host.listen_overflows before.json)" &&
	json_get over.json ".host.interval_usec > 0" &&
	json_get over.json ".services[0].ports[0].sockets[0].accept_queue >= 4" &&
	json_get over.json ".services[0].ports[0].sockets[0].near_full" &&
	"$BERTH" net netweb >over.out &&
	cat over.out &&
	grep -q "accept queue of 127.0.0.1:$PORT near full" over.out &&
	grep -Eq "ListenOverflows [0-9]+ \(\+[0-9]+\), ListenDrops [0-9]+ \(\+[0-9]+\) since the previous call" over.out
'

test_expect_success 'once it accepts again the queue drains' '
	for i in $(seq 100); do
		"$BERTH" net --json netweb >drained.json &&
		jq -e ".services[0].ports[0].sockets[0].accept_queue == 0" drained.json >/dev/null && break
		sleep 0.2
	done &&
	json_get drained.json ".services[0].ports[0].sockets[0].near_full == false"
'

test_expect_success 'as a user: the same facts, no delta (cannot write /run/berth)' '
	setpriv --reuid=65534 --regid=65534 --clear-groups "$BERTH" net --json netweb >user.json &&
	cat user.json &&
	json_get user.json ".ok" &&
	json_get user.json ".services[0].ports[0].listening" &&
	json_get user.json ".services[0].ports[0].sockets[0].accept_queue_max == 4" &&
	json_get user.json ".host.listen_overflows >= 0" &&
	json_get user.json ".host.listen_overflows_delta == null and .host.listen_drops_delta == null" &&
	json_get user.json ".host.interval_usec == null" &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$BERTH" net netweb >user.out &&
	cat user.out &&
	grep -q "no delta: only root can keep /run/berth/netstat.last" user.out
'

test_expect_success 'a stopped service: its ports do not listen' '
	"$BERTH" stop netweb &&
	"$BERTH" net --json netweb >stopped.json &&
	json_get stopped.json ".services[0].active_state != \"active\"" &&
	json_get stopped.json ".services[0].ports[0].listening == false" &&
	json_get stopped.json ".services[0].ports[0].sockets == []" &&
	"$BERTH" net netweb >stopped.out &&
	cat stopped.out &&
	grep -Eq "^netweb +$PORT +http +no " stopped.out
'

test_expect_success 'clean up: somaxconn restored, service and listener gone' '
	echo "$orig_somaxconn" >"$SOMAXCONN" &&
	"$BERTH" remove --purge netweb &&
	test "$(cat "$SOMAXCONN")" = "$orig_somaxconn" &&
	"$BERTH" net --json >end.json &&
	json_get end.json ".services == []"
'

test_done
