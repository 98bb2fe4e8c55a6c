#!/bin/bash
# t6000-ansible-service.sh - the Ansible collection berth.host against this VM with Debian's
# ansible-playbook (connection: local): deploy, a second run changes nothing, check mode changes
# nothing, a bad binary fails the task with berth's message while the old release keeps running.
# (t6010: status, limits, stop/start, rollback, absent.)
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth.host.service deploys through ansible-playbook: changed, check mode, failures'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"
. "$(dirname "$0")/lib-ansible.sh"

sample_releases an6

test_expect_success 'present: the task deploys v1 and reports changed' '
	service_task an6 8161 v1 | play deploy1 &&
	changed_is deploy1 1 &&
	json_get deploy1.json ".version == \"v1\" and .exit_code == 0" &&
	curl -fsS http://127.0.0.1:8161/ | grep -q "hello from v1" &&
	grep -qx "name = an6" /etc/berth/services/an6.ini &&
	grep -qx "binary = /srv/an6/v1" /etc/berth/services/an6.ini
'

test_expect_success 'the same task again: changed=0, nothing restarted' '
	pid=$(main_pid an6) &&
	service_task an6 8161 v1 | play deploy1again &&
	changed_is deploy1again 0 &&
	test "$(main_pid an6)" = "$pid"
'

test_expect_success 'check mode with a new memory limit: reports the change and its diff, changes nothing' '
	host_snapshot an6.service >before &&
	cp /etc/berth/services/an6.ini ini.before &&
	service_task an6 8161 v1 | sed "s/memory: 128M/memory: 192M/" | play check1 --check --diff &&
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
	service_task an6 8161 arm64 | test_must_fail play arm &&
	test "$(recap arm failed)" = 1 &&
	json_get arm.json ".exit_code == 3" &&
	json_get arm.json ".msg | test(\"GOARCH=amd64\")" &&
	test "$(main_pid an6)" = "$pid" &&
	test_cmp ini.before /etc/berth/services/an6.ini &&
	curl -fsS http://127.0.0.1:8161/ | grep -q "hello from v1"
'

test_expect_success 'a release that fails its health gate fails the task with the reason; v1 keeps running' '
	cp /etc/berth/services/an6.ini ini.before &&
	service_task an6 8161 v2 "  deploy:
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

test_done
