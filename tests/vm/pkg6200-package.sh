#!/bin/bash
# pkg6200-package.sh - the Debian packages in a VM that has no other berth (run by
# tests/package/run, not by run-suite): they install, berth deploys the example from them, the
# packaged Ansible collection works, and purging the packages leaves the deployed service running.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth and berth-ansible from their .debs; purge leaves services running'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

DEBS=$TEST_ROOT/debs

test_expect_success 'no berth before the packages' '
	test_must_fail command -v berth
'

test_expect_success 'the packages install offline (dependencies from the image)' '
	apt-get install -y "$DEBS"/berth_*.deb "$DEBS"/berth-ansible_*.deb &&
	test "$(command -v berth)" = /usr/bin/berth &&
	berth --version | grep -q "^berth [0-9]" &&
	test -f /usr/share/bash-completion/completions/berth &&
	test -f "$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)/berth-apply.service" &&
	test -d /usr/share/ansible/collections/ansible_collections/berth/host/plugins/modules
'

test_expect_success 'berth-apply.service is enabled for boot, and installing it deployed nothing' '
	test "$(systemctl is-enabled berth-apply.service)" = enabled &&
	test_must_fail systemctl is-active --quiet berth-apply.service &&
	test ! -e /var/lib/berth/hello
'

test_expect_success 'berth deploy of the example works from the package' '
	BERTH=/usr/bin/berth &&
	berth deploy --binary "$HELLO" "$EXAMPLES/hello.ini" &&
	curl -fsS http://127.0.0.1:8080/ | grep -q "hello from v1" &&
	grep -q "^ExecStartPost=+\"/usr/bin/berth\" \"wait-ready\"" /etc/systemd/system/hello.service
'

test_expect_success 'the packaged collection: ansible-doc and the status module find it by default' '
	ansible-doc berth.host.service | grep -q "rolled_back" &&
	ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 \
		ansible localhost -c local -i localhost, -e ansible_python_interpreter=/usr/bin/python3 \
		-m berth.host.status -a "names=hello" >status.out &&
	cat status.out &&
	grep -q "\"healthy\": true" status.out
'

test_expect_success 'purging both packages leaves the deployed service running' '
	pid=$(main_pid hello) &&
	apt-get purge -y berth-ansible berth &&
	hash -r &&
	test_must_fail command -v berth &&
	test ! -e /usr/share/ansible/collections/ansible_collections/berth &&
	test ! -e /usr/bin/berth &&
	test "$(systemctl is-active hello)" = active &&
	test "$(main_pid hello)" = "$pid" &&
	curl -fsS http://127.0.0.1:8080/ | grep -q "hello from v1" &&
	test -f /etc/systemd/system/hello.service &&
	test -x /var/lib/berth/hello/current/hello
'

test_done
