#!/bin/bash
# t6100-ansible-tune.sh - berth.host.tune through ansible-playbook (connection: local): a profile
# with overrides is applied live and at boot, a second run changes nothing, check mode changes
# nothing, state=absent puts every value back.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth.host.tune is idempotent and reverts'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"
. "$(dirname "$0")/lib-ansible.sh"

somaxconn0=$(cat /proc/sys/net/core/somaxconn)
fin0=$(cat /proc/sys/net/ipv4/tcp_fin_timeout)
trap '"$BERTH" tune --revert >/dev/null 2>&1; rm -f /etc/berth/tune.ini' EXIT

printf 'berth.host.tune:\n  profile: web\n  overrides:\n    net.core.somaxconn: 12345\n' >web.task

test_expect_success 'check mode reports the change and the diff, changes nothing' '
	play check --check --diff <web.task &&
	test "$(recap check changed)" = 1 &&
	grep -q "^+++ /etc/sysctl.d/60-berth.conf (new)" check.out &&
	grep -q "^+net.core.somaxconn = 12345" check.out &&
	test "$(cat /proc/sys/net/core/somaxconn)" = "$somaxconn0" &&
	test ! -e /etc/sysctl.d/60-berth.conf &&
	test ! -e /etc/berth/tune.ini
'

test_expect_success 'web with an override: applied live and in 60-berth.conf' '
	play web1 <web.task &&
	changed_is web1 1 &&
	test "$(cat /proc/sys/net/core/somaxconn)" = 12345 &&
	test "$(cat /proc/sys/net/ipv4/tcp_fin_timeout)" = 30 &&
	grep -qx "net.core.somaxconn = 12345" /etc/sysctl.d/60-berth.conf &&
	json_get web1.json "[.keys[] | select(.key == \"net.core.somaxconn\")][0].after | tostring | . == \"12345\""
'

test_expect_success 'the same task again: changed=0' '
	play web2 <web.task &&
	changed_is web2 0
'

test_expect_success 'absent reverts every value; again changes nothing' '
	printf "berth.host.tune:\n  state: absent\n" >absent.task &&
	play absent1 <absent.task &&
	changed_is absent1 1 &&
	test "$(cat /proc/sys/net/core/somaxconn)" = "$somaxconn0" &&
	test "$(cat /proc/sys/net/ipv4/tcp_fin_timeout)" = "$fin0" &&
	test ! -e /etc/sysctl.d/60-berth.conf &&
	test ! -e /etc/berth/tune.ini &&
	play absent2 <absent.task &&
	changed_is absent2 0
'

test_done
