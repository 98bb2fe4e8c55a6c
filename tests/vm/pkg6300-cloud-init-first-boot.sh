#!/bin/bash
# pkg6300-cloud-init-first-boot.sh - after the first boot of a disk seeded with NoCloud user-data
# derived from contrib/cloud-init/user-data.yaml (run by tests/package/run, not by run-suite):
# cloud-init installed berth from the .deb, wrote the manifest, tuned the host and applied the
# directory, and the service is up and healthy. Records the host's state for the next boot.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='cloud-init first boot: berth installed, services healthy'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"
. "$(dirname "$0")/lib-cloud-init.sh"

test_expect_success 'the example user-data is valid for cloud-init schema' '
	cloud-init schema --config-file "$TEST_ROOT/contrib/cloud-init/user-data.yaml" &&
	cloud-init schema --config-file /var/lib/cloud/seed/nocloud/user-data
'

test_expect_success 'cloud-init ran on this boot from the NoCloud seed, without errors' '
	cloud-init status --wait --long >status.txt; cat status.txt &&
	grep -q "^status: done" status.txt &&
	grep -q "NoCloud" status.txt &&
	cat /run/cloud-init/result.json &&
	json_get /run/cloud-init/result.json ".v1.errors | length == 0" &&
	json_get /run/cloud-init/result.json ".v1.datasource | test(\"NoCloud\")"
'

test_expect_success 'the user-data ran: berth apply deployed hello (its table in the output log)' '
	cat /var/log/cloud-init-output.log &&
	grep -Eq "^hello +ok +[^ ]+ +yes +ready in" /var/log/cloud-init-output.log
'

test_expect_success 'berth came from the package; the service is active and healthy' '
	test "$(command -v berth)" = /usr/bin/berth &&
	dpkg-query -W -f="\${Status}" berth | grep -q "install ok installed" &&
	berth status --json hello >st.json &&
	json_get st.json ".services[0].active_state == \"active\" and .services[0].health.healthy == true" &&
	curl -fsS http://127.0.0.1:8080/ | grep -q "hello from v1"
'

test_expect_success 'the web profile is in force, live and for boot' '
	test "$(cat /proc/sys/net/core/somaxconn)" = 8192 &&
	grep -qx "net.core.somaxconn = 8192" /etc/sysctl.d/60-berth.conf
'

test_expect_success 'the state after the first boot is recorded for the next' '
	mkdir -p /var/lib/berth-test &&
	converged_state >/var/lib/berth-test/boot1.state &&
	test -s /var/lib/berth-test/boot1.state
'

test_done
