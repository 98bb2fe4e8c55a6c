#!/bin/bash
# pkg6301-cloud-init-second-boot.sh - the second boot of the same disk (tests/package/run):
# cloud-init does not run the user-data again, berth-apply.service converges
# /etc/berth/services and finds nothing to do: nothing changed, nothing restarted. Then a second
# manifest is dropped into /etc/berth/services for berth-apply.service to deploy at the next boot.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='second boot: nothing changes, nothing restarts'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"
. "$(dirname "$0")/lib-cloud-init.sh"

test_expect_success 'cloud-init ran again, but not the user-data: berth apply ran once, at the first boot' '
	cloud-init status --wait >/dev/null;
	test "$(grep -c "Cloud-init v. .* running .modules:final" /var/log/cloud-init.log)" = 2 &&
	test "$(grep -c "^SERVICE " /var/log/cloud-init-output.log)" = 1
'

test_expect_success 'berth-apply.service ran at boot and changed nothing' '
	test "$(systemctl show -p Result --value berth-apply.service)" = success &&
	test "$(systemctl is-active berth-apply.service)" = active &&
	journalctl -b -u berth-apply.service --no-pager >apply.log && cat apply.log &&
	grep -Eq "hello +ok +[^ ]+ +no +unchanged" apply.log &&
	test_must_fail grep -q "start job" apply.log
'

test_expect_success 'hello started once with the boot and was not restarted' '
	journalctl -b -u hello.service --no-pager >hello.log &&
	test "$(grep -c "Started hello.service" hello.log)" = 1 &&
	test_must_fail grep -q "Stopping hello.service" hello.log &&
	test "$(systemctl show -p NRestarts --value hello)" = 0 &&
	curl -fsS http://127.0.0.1:8080/ | grep -q "hello from v1"
'

test_expect_success 'nothing changed on disk since the first boot' '
	converged_state >boot2.state &&
	test_cmp /var/lib/berth-test/boot1.state boot2.state
'

test_expect_success 'a second manifest for berth-apply.service to deploy at the next boot' '
	mkdir -p /srv/hello2 && cp /srv/hello/hello /srv/hello2/hello2 &&
	sed -e "s/^name = hello$/name = hello2/" -e "s|/srv/hello/hello|/srv/hello2/hello2|" \
		-e "s/8080/8081/g" -e "s/HELLO_VERSION = v1/HELLO_VERSION = v2/" \
		/etc/berth/services/hello.ini >/etc/berth/services/hello2.ini &&
	grep -q "name = hello2" /etc/berth/services/hello2.ini &&
	test ! -e /var/lib/berth/hello2
'

test_done
