#!/bin/bash
# pkg6302-berth-apply-boot.sh - the third boot of the same disk (tests/package/run):
# berth-apply.service deployed the manifest dropped in on the previous boot, healthy, and left
# the first service alone.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth-apply.service converges /etc/berth/services at boot'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

test_expect_success 'berth-apply.service deployed hello2 at boot, healthy' '
	test "$(systemctl show -p Result --value berth-apply.service)" = success &&
	berth status --json hello2 >st.json &&
	json_get st.json ".services[0].active_state == \"active\" and .services[0].health.healthy == true" &&
	curl -fsS http://127.0.0.1:8081/ | grep -q "hello from v2" &&
	test "$(systemctl is-enabled hello2)" = enabled &&
	journalctl -b -u berth-apply.service --no-pager >apply.log && cat apply.log &&
	grep -Eq "hello2 +ok +[^ ]+ +yes +ready in" apply.log &&
	grep -Eq "hello +ok +[^ ]+ +no +unchanged" apply.log
'

test_expect_success 'hello was started once with the boot, not restarted by the apply' '
	journalctl -b -u hello.service --no-pager >hello.log &&
	test "$(grep -c "Started hello.service" hello.log)" = 1 &&
	test_must_fail grep -q "Stopping hello.service" hello.log &&
	curl -fsS http://127.0.0.1:8080/ | grep -q "hello from v1"
'

test_done
