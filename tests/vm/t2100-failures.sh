#!/bin/bash
# t2100-failures.sh - systemd restarts a crashing service per the manifest; a crash loop ends in
# start-limit-hit and status explains it; a service ignoring SIGTERM is killed after stop_timeout.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='crash restarts, crash loops and stop timeouts'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

test_expect_success 'a crash is followed by a restart' '
	manifest crash.ini crashy 8151 "environment.HELLO_CRASH_AFTER = 2s" "service.start_limit_burst = 3" \
		"service.start_limit_interval = 1min" "service.restart_delay = 100ms" &&
	"$BERTH" deploy crash.ini &&
	for i in $(seq 100); do
		test "$(systemctl show -p NRestarts --value crashy)" -ge 1 && break
		sleep 0.2
	done &&
	test "$(systemctl show -p NRestarts --value crashy)" -ge 1
'

# systemd keeps Result=exit-code when the start limit refuses an automatic restart
# ("Start request repeated too quickly"): the unit is failed with NRestarts = burst - 1.
test_expect_success 'a crash loop ends in failed (start limit) and status says so' '
	for i in $(seq 150); do
		test "$(systemctl show -p ActiveState --value crashy)" = failed && break
		sleep 0.2
	done &&
	test "$(systemctl show -p ActiveState --value crashy)" = failed &&
	"$BERTH" status crashy >st.out &&
	cat st.out &&
	grep -q "crash loop: [0-9]* restarts in [0-9.]*s" st.out &&
	"$BERTH" status --json crashy >st.json &&
	json_get st.json ".services[0].crash_loop.restarts >= 2" &&
	journalctl -u crashy.service --no-pager | grep -q "Start request repeated too quickly"
'

test_expect_success 'a service ignoring SIGTERM is killed after stop_timeout, and stop says so' '
	manifest stubborn.ini stubborn 8152 "environment.HELLO_IGNORE_SIGTERM = 1" "service.stop_timeout = 2s" &&
	"$BERTH" deploy stubborn.ini &&
	start=$(date +%s%N) &&
	"$BERTH" stop stubborn >stop.out &&
	end=$(date +%s%N) &&
	cat stop.out &&
	grep -q "ignored SIGTERM .* killed with SIGKILL" stop.out &&
	test $(( (end - start) / 1000000 )) -ge 1900 &&
	! systemctl is-active -q stubborn
'

test_expect_success 'clean up' '
	remove_service crashy && remove_service stubborn
'

test_done
