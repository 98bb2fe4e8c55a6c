#!/bin/bash
# t6000-ansible-service.sh - the Ansible collection berth.host against this VM with Debian's
# ansible-playbook (connection: local): deploy, a second run changes nothing, check mode changes
# nothing, a bad binary fails the task with berth's message while the old release keeps running,
# limits change live, stop/start, rollback, status, absent removes.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth.host.service and berth.host.status through ansible-playbook'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"
. "$(dirname "$0")/lib-ansible.sh"

mkdir -p /srv/an6 && cp "$HELLO" /srv/an6/v1 && new_binary /srv/an6/v2 2 && new_binary /srv/an6/v3 3 &&
	cp "$HELLO_ARM64" /srv/an6/arm64
test_when_finished 'remove_service an6; rm -rf /srv/an6 /etc/berth/services/an6.ini'

# The task that deploys release $1 of an6 with the manifest written from the task's options;
# extra lines ($2) go under the module's options.
deploy_task() {
	cat <<EOF
berth.host.service:
  name: an6
  binary: /srv/an6/$1
  version: $1
  service:
    args: -listen 127.0.0.1:8161
    restart_delay: 200ms
  environment:
    HELLO_VERSION: $1
  resources:
    memory: 128M
  health:
    http: http://127.0.0.1:8161/healthz
    ready_timeout: 20s
${2:-}
EOF
}

test_expect_success 'present: the task deploys v1 and reports changed' '
	deploy_task v1 | play deploy1 &&
	changed_is deploy1 1 &&
	json_get deploy1.json ".version == \"v1\" and .exit_code == 0" &&
	curl -fsS http://127.0.0.1:8161/ | grep -q "hello from v1" &&
	grep -qx "name = an6" /etc/berth/services/an6.ini &&
	grep -qx "binary = /srv/an6/v1" /etc/berth/services/an6.ini
'

test_expect_success 'the same task again: changed=0, nothing restarted' '
	pid=$(main_pid an6) &&
	deploy_task v1 | play deploy1again &&
	changed_is deploy1again 0 &&
	test "$(main_pid an6)" = "$pid"
'

test_expect_success 'check mode with a new memory limit: reports the change and its diff, changes nothing' '
	host_snapshot an6.service >before &&
	cp /etc/berth/services/an6.ini ini.before &&
	deploy_task v1 | sed "s/memory: 128M/memory: 192M/" | play check1 --check --diff &&
	test "$(recap check1 changed)" = 1 &&
	grep -q "^-MemoryMax=128M" check1.out &&
	grep -q "^+MemoryMax=192M" check1.out &&
	grep -q "^+memory = 192M" check1.out &&
	host_snapshot an6.service >after &&
	test_cmp before after &&
	test_cmp ini.before /etc/berth/services/an6.ini
'

test_expect_success 'a binary for another architecture fails the task with berth'"'"'s message and exit 3' '
	pid=$(main_pid an6) &&
	cp /etc/berth/services/an6.ini ini.before &&
	deploy_task arm64 | test_must_fail play arm &&
	test "$(recap arm failed)" = 1 &&
	json_get arm.json ".exit_code == 3" &&
	json_get arm.json ".msg | test(\"GOARCH=amd64\")" &&
	test "$(main_pid an6)" = "$pid" &&
	test_cmp ini.before /etc/berth/services/an6.ini &&
	curl -fsS http://127.0.0.1:8161/ | grep -q "hello from v1"
'

test_expect_success 'a release that fails its health gate fails the task with the reason; v1 keeps running' '
	cp /etc/berth/services/an6.ini ini.before &&
	deploy_task v2 "  deploy:
    rollback: true" | sed "s/HELLO_VERSION: v2/HELLO_VERSION: v2\n    HELLO_FAIL_HEALTH: \"1\"/; s/ready_timeout: 20s/ready_timeout: 3s/" |
		test_must_fail play bad &&
	test "$(recap bad failed)" = 1 &&
	json_get bad.json ".exit_code == 6 and .rolled_back == true and .rolled_back_to == \"v1\"" &&
	json_get bad.json ".msg | test(\"release v2 failed: .*503.*rolled back to v1\")" &&
	json_get bad.json ".failure | test(\"503\")" &&
	grep -q "release v2 failed" bad.out &&
	test "$(readlink /var/lib/berth/an6/current)" = releases/v1 &&
	curl -fsS http://127.0.0.1:8161/ | grep -q "hello from v1" &&
	test_cmp ini.before /etc/berth/services/an6.ini
'

test_expect_success 'v3 deploys; the status module reports it healthy with its releases' '
	deploy_task v3 | play deploy3 &&
	changed_is deploy3 1 &&
	json_get deploy3.json ".version == \"v3\" and .previous_version == \"v1\"" &&
	printf "berth.host.status:\n  names: [an6]\n" | play status &&
	changed_is status 0 &&
	json_get status.json ".services.an6.active_state == \"active\" and .services.an6.release == \"v3\"" &&
	json_get status.json ".services.an6.health.healthy == true and .healthy == true" &&
	json_get status.json "[.services.an6.releases[].version] | index(\"v1\") != null"
'

test_expect_success 'limits change live: no restart, the cgroup has them; a second run changes nothing' '
	pid=$(main_pid an6) &&
	printf "berth.host.service:\n  name: an6\n  state: started\n  limits:\n    memory: 256M\n    cpu: 150%%\n" >limits.task &&
	play limits <limits.task &&
	changed_is limits 1 &&
	test "$(systemctl show -p MemoryMax --value an6)" = 268435456 &&
	test "$(systemctl show -p CPUQuotaPerSecUSec --value an6)" = 1.500000s &&
	test "$(cat /sys/fs/cgroup/system.slice/an6.service/memory.max)" = 268435456 &&
	test "$(main_pid an6)" = "$pid" &&
	play limits2 <limits.task &&
	changed_is limits2 0 &&
	deploy_task v3 | play deploy3again &&
	changed_is deploy3again 0 &&
	test "$(systemctl show -p MemoryMax --value an6)" = 268435456
'

test_expect_success 'stopped, stopped again, started' '
	printf "berth.host.service:\n  name: an6\n  state: stopped\n" >stop.task &&
	play stop1 --check <stop.task &&
	test "$(recap stop1 changed)" = 1 &&
	test "$(systemctl is-active an6)" = active &&
	play stop2 <stop.task &&
	changed_is stop2 1 &&
	test_must_fail systemctl is-active --quiet an6 &&
	play stop3 <stop.task &&
	changed_is stop3 0 &&
	printf "berth.host.service:\n  name: an6\n  state: started\n" | play start1 &&
	changed_is start1 1 &&
	curl -fsS http://127.0.0.1:8161/ | grep -q "hello from v3"
'

test_expect_success 'rolled_back to v1, and again: changed once' '
	printf "berth.host.service:\n  name: an6\n  state: rolled_back\n  version: v1\n" >rb.task &&
	play rb1 <rb.task &&
	changed_is rb1 1 &&
	json_get rb1.json ".version == \"v1\"" &&
	curl -fsS http://127.0.0.1:8161/ | grep -q "hello from v1" &&
	play rb2 <rb.task &&
	changed_is rb2 0
'

test_expect_success 'absent: check mode changes nothing, then it removes everything; again changes nothing' '
	printf "berth.host.service:\n  name: an6\n  state: absent\n" >absent.task &&
	host_snapshot an6.service >before &&
	play absent0 --check <absent.task &&
	test "$(recap absent0 changed)" = 1 &&
	host_snapshot an6.service >after &&
	test_cmp before after &&
	play absent1 <absent.task &&
	changed_is absent1 1 &&
	test ! -e /etc/systemd/system/an6.service &&
	test ! -e /var/lib/berth/an6 &&
	test ! -e /etc/berth/services/an6.ini &&
	test_must_fail curl -fsS http://127.0.0.1:8161/ &&
	play absent2 <absent.task &&
	changed_is absent2 0
'

test_expect_success 'a missing service fails state=started with berth'"'"'s not-found exit code' '
	printf "berth.host.service:\n  name: nosuch6\n  state: started\n" | test_must_fail play nosuch &&
	json_get nosuch.json ".exit_code == 5"
'

test_done
