#!/bin/bash
# t6020-ansible-service-states.sh - berth.host.service's states through Debian's
# ansible-playbook (connection: local): stopped, started, rolled_back, absent; each changes once
# and then reports changed=0, and check mode changes nothing.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth.host.service stopped, started, rolled_back, absent'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"
. "$(dirname "$0")/lib-ansible.sh"

sample_releases an6

test_expect_success 'v1, then v3 deployed by the module' '
	service_task an6 8161 v1 | play deploy1 &&
	changed_is deploy1 1 &&
	service_task an6 8161 v3 | play deploy3 &&
	changed_is deploy3 1
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
