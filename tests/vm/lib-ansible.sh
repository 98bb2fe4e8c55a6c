# lib-ansible.sh - run one berth.host task with Debian's ansible-playbook against this VM
# (connection: local), for the t6xxx tests. Sourced after test-lib.sh and lib-berth.sh.
# shellcheck shell=bash

# The collection: the installed package's, else the source tree's.
if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]; then
	if [ -d /usr/share/ansible/collections/ansible_collections/berth/host ]; then
		ANSIBLE_COLLECTIONS_PATH=/usr/share/ansible/collections
	else
		ANSIBLE_COLLECTIONS_PATH=$TEST_ROOT/contrib/ansible
	fi
fi
export ANSIBLE_COLLECTIONS_PATH
# The tree callback writes each task's result as JSON; the default one prints the PLAY RECAP.
export ANSIBLE_CALLBACKS_ENABLED=tree ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3

# play NAME [ansible-playbook OPTIONS...] <TASK: one task (a module call) in YAML on stdin. Runs
# it as a one-task playbook on localhost and returns ansible-playbook's exit code; NAME.out has
# its output, NAME.json the task's result as the module returned it.
play() {
	local name=$1 rc
	shift
	{
		printf -- '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n'
		printf -- '    - name: %s\n' "$name"
		sed 's/^/      /'
	} >"$name.yml"
	rm -rf "tree-$name" "$name.json"
	ANSIBLE_CALLBACK_TREE_DIR=$PWD/tree-$name ansible-playbook -i localhost, "$@" "$name.yml" >"$name.out" 2>&1
	rc=$?
	cat "$name.out"
	[ ! -f "tree-$name/localhost" ] || cp "tree-$name/localhost" "$name.json"
	return $rc
}

# recap NAME KEY: KEY's count (ok, changed, failed, ...) in NAME's PLAY RECAP
recap() {
	sed -n "s/^localhost .* $2=\\([0-9]*\\).*/\\1/p" "$1.out"
}

# changed_is NAME N: the play reported exactly N changed tasks and no failure
changed_is() {
	test "$(recap "$1" changed)" = "$2" && test "$(recap "$1" failed)" = 0
}

# service_task NAME PORT VERSION [EXTRA]: the berth.host.service task that deploys release
# VERSION (the binary /srv/NAME/VERSION) of the sample service on 127.0.0.1:PORT, with the
# manifest written from the task's options; EXTRA lines go under the module's options.
service_task() {
	cat <<EOF
berth.host.service:
  name: $1
  binary: /srv/$1/$3
  version: $3
  service:
    args: -listen 127.0.0.1:$2
    restart_delay: 200ms
  environment:
    HELLO_VERSION: $3
  resources:
    memory: 128M
  health:
    http: http://127.0.0.1:$2/healthz
    ready_timeout: 20s
${4:-}
EOF
}

# sample_releases NAME: the binaries service_task deploys, /srv/NAME/{v1,v2,v3,arm64}; NAME, its
# rendered manifest and the binaries are removed when the script exits (test_when_finished
# belongs inside a test: at the top level it would never run).
sample_releases() {
	mkdir -p "/srv/$1" && cp "$HELLO" "/srv/$1/v1" && new_binary "/srv/$1/v2" 2 && new_binary "/srv/$1/v3" 3 &&
		cp "$HELLO_ARM64" "/srv/$1/arm64" || return 1
	# shellcheck disable=SC2064 # expanded now, on purpose
	trap "remove_service '$1'; rm -rf '/srv/$1' '/etc/berth/services/$1.ini'" EXIT
}
