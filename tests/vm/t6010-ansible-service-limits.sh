#!/bin/bash
# t6010-ansible-service-limits.sh - berth.host.status and berth.host.service's limits through
# Debian's ansible-playbook (connection: local): limits change live without a restart, once, and
# diff mode shows berth's diff of the limits drop-in.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth.host.status; berth.host.service limits change live'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"
. "$(dirname "$0")/lib-ansible.sh"

sample_releases an6

test_expect_success 'v1 deployed by the module' '
	service_task an6 8161 v1 | play deploy1 &&
	changed_is deploy1 1
'

test_expect_success 'v3 deploys; the status module reports it healthy with its releases' '
	service_task an6 8161 v3 | play deploy3 &&
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
	play limits --diff <limits.task &&
	changed_is limits 1 &&
	grep -q "^+++ /etc/systemd/system/an6.service.d/49-berth-limits.conf" limits.out &&
	grep -q "^+MemoryMax=" limits.out &&
	test "$(systemctl show -p MemoryMax --value an6)" = 268435456 &&
	test "$(systemctl show -p CPUQuotaPerSecUSec --value an6)" = 1.500000s &&
	test "$(cat /sys/fs/cgroup/system.slice/an6.service/memory.max)" = 268435456 &&
	test "$(main_pid an6)" = "$pid" &&
	play limits2 <limits.task &&
	changed_is limits2 0 &&
	service_task an6 8161 v3 | play deploy3again &&
	changed_is deploy3again 0 &&
	test "$(systemctl show -p MemoryMax --value an6)" = 268435456
'

test_done
