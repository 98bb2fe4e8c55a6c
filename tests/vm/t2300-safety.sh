#!/bin/bash
# t2300-safety.sh - the review's cases, as regression tests: what berth removes, what it keeps,
# what a failed or interrupted deploy leaves, which release a rollback goes to, and which files
# berth takes from the caller as root.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='berth never leaves a host worse than it found it'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

# --- apply --prune ------------------------------------------------------------------------------
mkdir -p prune.d
test_expect_success 'apply records where each service came from' '
	manifest prune.d/p1.ini p1 8171 &&
	manifest prune.d/p2.ini p2 8172 &&
	manifest elsewhere.ini p3 8173 &&
	"$BERTH" apply prune.d &&
	"$BERTH" deploy elsewhere.ini &&
	test "$(cat /var/lib/berth/p1/origin)" = "$PWD/prune.d/p1.ini" &&
	test "$(cat /var/lib/berth/p3/origin)" = "$PWD/elsewhere.ini"
'

test_expect_success 'apply --prune with a typo in a manifest removes nothing, and says why' '
	rm prune.d/p1.ini &&
	printf "[service]\nname = p2\nbinray = %s\n" "$HELLO" >prune.d/p2.ini &&
	test_must_fail "$BERTH" apply --prune prune.d >out 2>err &&
	cat out err &&
	grep -q "not pruning p1: a manifest in prune.d could not be read" out &&
	grep -q "p2.ini:3: \[service\] binray: unknown key" err &&
	systemctl is-active -q p1 && systemctl is-active -q p2 && systemctl is-active -q p3 &&
	test -e /etc/systemd/system/p1.service
'

test_expect_success 'a manifest that cannot be read is no reason to remove its service either' '
	manifest prune.d/p2.ini p2 8172 &&
	chmod 000 prune.d/p2.ini &&
	mv prune.d/p2.ini prune.d/p2.ini.hidden && mkdir prune.d/p2.ini &&
	test_when_finished "rmdir prune.d/p2.ini; mv prune.d/p2.ini.hidden prune.d/p2.ini; chmod 644 prune.d/p2.ini" &&
	test_must_fail "$BERTH" apply --prune prune.d >out 2>err &&
	cat out err &&
	grep -q "not pruning" out &&
	systemctl is-active -q p1 && systemctl is-active -q p2
'

test_expect_success 'with every manifest readable, --prune removes only the service whose file is gone' '
	"$BERTH" apply --prune prune.d >out 2>err &&
	cat out err &&
	grep -q "p1 stopped, disabled and its unit removed" out &&
	! systemctl is-active -q p1 && test ! -e /etc/systemd/system/p1.service &&
	systemctl is-active -q p2 &&
	systemctl is-active -q p3
'

test_expect_success 'prune: clean up' '
	remove_service p1 && remove_service p2 && remove_service p3
'

# --- state directories and remove --purge ------------------------------------------------------
test_expect_success 'a service whose state directory already exists, not made by berth, is refused' '
	mkdir -p /var/lib/mydata && echo precious >/var/lib/mydata/keep &&
	test_when_finished "rm -rf /var/lib/mydata" &&
	manifest mydata.ini mydata 8174 &&
	test_must_fail_with 3 "$BERTH" deploy mydata.ini 2>err &&
	cat err &&
	grep -q "\"/var/lib/mydata\" already exists and berth did not create it for \"mydata\"" err &&
	test "$(cat /var/lib/mydata/keep)" = precious &&
	test ! -e /var/lib/berth/mydata && test ! -e /etc/systemd/system/mydata.service
'

test_expect_success 'remove --purge deletes the directories berth had systemd create, and nothing else' '
	manifest own.ini own 8175 &&
	"$BERTH" deploy own.ini &&
	test -d /var/lib/private/own && test -L /var/lib/own &&
	grep -qx /var/lib/private/own /var/lib/berth/own/owned-dirs &&
	"$BERTH" remove --purge own >out &&
	cat out &&
	test ! -e /var/lib/private/own && test ! -e /var/lib/own && test ! -e /var/log/private/own &&
	test ! -e /var/lib/berth/own
'

test_expect_success 'remove --purge of a name that is a system directory never touches it' '
	(cd /var/lib/apt && find . -printf "%p %s\n" | sort) >apt.before &&
	mkdir -p /var/lib/berth/apt/releases &&
	ln -s releases/v1 /var/lib/berth/apt/current &&
	"$BERTH" remove --purge apt >out 2>&1 &&
	cat out &&
	test ! -e /var/lib/berth/apt &&
	(cd /var/lib/apt && find . -printf "%p %s\n" | sort) >apt.after &&
	test_cmp apt.before apt.after
'

test_expect_success 'names of system directories are refused at deploy (journal, private, berth)' '
	for n in journal private berth; do
		manifest sys.ini $n 8176 &&
		test_must_fail_with 3 "$BERTH" deploy sys.ini 2>err &&
		grep -q "\"$n\" is the name of a system directory" err || return 1
	done &&
	test ! -e /var/lib/berth/journal
'

# --- rollback state ------------------------------------------------------------------------------
test_expect_success 'a failed release never becomes the rollback target (last known good)' '
	manifest lkg.ini lkg 8177 "environment.HELLO_VERSION = v1" &&
	"$BERTH" deploy --version v1 lkg.ini &&
	new_binary v2bin 2 &&
	manifest lkg2.ini lkg 8177 "environment.HELLO_VERSION = v2" &&
	"$BERTH" deploy --version v2 --binary v2bin lkg2.ini &&
	new_binary v3bin 3 &&
	manifest lkg3.ini lkg 8177 "environment.HELLO_VERSION = v3" "environment.HELLO_FAIL_HEALTH = 1" \
		"health.ready_timeout = 3s" &&
	test_must_fail_with 6 "$BERTH" deploy --version v3 --binary v3bin lkg3.ini &&
	test "$(readlink /var/lib/berth/lkg/current)" = releases/v2 &&
	test "$(readlink /var/lib/berth/lkg/previous)" = releases/v1 &&
	"$BERTH" rollback lkg &&
	curl -fsS http://127.0.0.1:8177/ | grep -q "hello from v1" &&
	test "$(readlink /var/lib/berth/lkg/previous)" = releases/v2
'

test_expect_success 'a failed manifest-only deploy leaves the running release exactly as it was' '
	"$BERTH" deploy --version v2 --binary v2bin lkg2.ini &&
	cp /etc/systemd/system/lkg.service unit.before &&
	cp /var/lib/berth/lkg/releases/v2/manifest.ini manifest.before &&
	"$BERTH" limit lkg --memory 200M &&
	cp /etc/systemd/system/lkg.service.d/49-berth-limits.conf dropin.before &&
	manifest bad.ini lkg 8177 "environment.HELLO_VERSION = v2" "environment.HELLO_FAIL_HEALTH = 1" \
		"health.ready_timeout = 3s" "resources.memory = 300M" "service.binary = $PWD/v2bin" &&
	test_must_fail_with 6 "$BERTH" deploy --version v2 bad.ini 2>err &&
	cat err &&
	test_cmp unit.before /etc/systemd/system/lkg.service &&
	test_cmp dropin.before /etc/systemd/system/lkg.service.d/49-berth-limits.conf &&
	test_cmp manifest.before /var/lib/berth/lkg/releases/v2/manifest.ini &&
	test_cmp unit.before /var/lib/berth/lkg/releases/v2/lkg.service &&
	! grep -q HELLO_FAIL_HEALTH /var/lib/berth/lkg/releases/v2/lkg.service &&
	"$BERTH" releases --json lkg >rel.json &&
	json_get rel.json "[.releases[] | select(.version == \"v2\") | .status][0] == \"ok\"" &&
	curl -fsS http://127.0.0.1:8177/healthz &&
	"$BERTH" rollback lkg && "$BERTH" rollback lkg &&
	! grep -q HELLO_FAIL_HEALTH /etc/systemd/system/lkg.service &&
	curl -fsS http://127.0.0.1:8177/ | grep -q "hello from v2"
'

test_expect_success 'a first release that fails is left stopped and disabled' '
	manifest first.ini firstbad 8178 "environment.HELLO_CRASH_ON_START = 1" &&
	test_must_fail_with 1 "$BERTH" deploy first.ini >out 2>err &&
	grep -q "no previous release: firstbad.service left stopped and disabled" out &&
	! systemctl is-active -q firstbad &&
	test "$(systemctl is-enabled firstbad)" = disabled &&
	test ! -e /var/lib/berth/firstbad/txn
'

test_expect_success 'a service that dies in its first second fails the deploy at once, not after ready_timeout' '
	new_binary diebin 5 &&
	manifest die.ini lkg 8177 "environment.HELLO_CRASH_ON_START = 1" "health.ready_timeout = 120s" \
		"service.restart = no" &&
	start=$(date +%s) &&
	test_must_fail_with 6 "$BERTH" deploy --version die --binary diebin die.ini 2>err &&
	end=$(date +%s) &&
	cat err &&
	# the whole deploy, the rollback included, well inside ready_timeout, even on a busy machine
	test $((end - start)) -lt 60 &&
	grep -q "exited" err
'

# --- "no change" must be true -------------------------------------------------------------------
test_expect_success 'a deploy is a no-op only if the running process is the current release' '
	"$BERTH" deploy --version v2 --binary v2bin lkg2.ini &&
	pid=$(main_pid lkg) &&
	test "$(readlink /proc/$pid/exe)" = /var/lib/berth/lkg/releases/v2/lkg &&
	ln -sfn releases/v1 /var/lib/berth/lkg/current.new && mv -T /var/lib/berth/lkg/current.new /var/lib/berth/lkg/current &&
	"$BERTH" status lkg >st &&
	cat st &&
	grep -q "running v2, current is v1" st &&
	"$BERTH" deploy --version v1 lkg.ini >out &&
	cat out &&
	! grep -q "no change" out &&
	curl -fsS http://127.0.0.1:8177/ | grep -q "hello from v1" &&
	"$BERTH" deploy --version v1 lkg.ini >out &&
	grep -q "no change" out
'

test_expect_success 'berth killed with SIGKILL during the wait: the next deploy finishes the job' '
	new_binary v6bin 6 &&
	manifest slow.ini lkg 8177 "environment.HELLO_VERSION = v6" "environment.HELLO_START_DELAY = 3s" &&
	{ "$BERTH" deploy --version v6 --binary v6bin slow.ini >out 2>&1 & } &&
	pid=$! &&
	for _ in $(seq 100); do grep -q "waiting until healthy" out && break; sleep 0.1; done &&
	kill -9 $pid &&
	{ wait $pid; true; } &&
	test -e /var/lib/berth/lkg/txn &&
	"$BERTH" status lkg >st 2>&1 &&
	cat st &&
	grep -q "unfinished deploy from v1 to v6" st &&
	for _ in $(seq 100); do curl -fsS http://127.0.0.1:8177/ 2>/dev/null | grep -q "hello from v6" && break; sleep 0.2; done &&
	"$BERTH" deploy --version v6 --binary v6bin slow.ini >out2 &&
	cat out2 &&
	grep -q "an interrupted deploy of \"lkg\" (at step job-queued) is finished: v6 runs and is healthy" out2 &&
	test ! -e /var/lib/berth/lkg/txn
'

test_expect_success 'a systemd call that fails after the files were written undoes what was written' '
	"$BERTH" deploy --version v6 --binary v6bin slow.ini &&
	systemctl disable -q lkg &&
	host_snapshot lkg.service >before &&
	# the [Install] symlinks cannot be written: the same directory, mounted read-only over itself
	wants=/etc/systemd/system/multi-user.target.wants &&
	mount --bind $wants $wants && mount -o remount,bind,ro $wants &&
	test_when_finished "umount $wants 2>/dev/null || true" &&
	manifest change.ini lkg 8177 "environment.HELLO_VERSION = changed" "service.binary = $PWD/v6bin" &&
	test_must_fail "$BERTH" deploy --version v6 change.ini >out 2>err &&
	cat out err &&
	grep -q "cannot enable lkg.service" err &&
	umount $wants &&
	host_snapshot lkg.service >after &&
	test_cmp before after &&
	test "$(systemctl is-enabled lkg)" = disabled &&
	test ! -e /var/lib/berth/lkg/txn
'

# --- trust and secrets ---------------------------------------------------------------------------
test_expect_success 'a manifest in a directory others can write to is refused, with the fix' '
	mkdir -p open && chmod 0777 open &&
	manifest open/o.ini lkg 8177 &&
	test_must_fail_with 3 "$BERTH" deploy open/o.ini 2>err &&
	cat err &&
	grep -q "can be changed by others than root: \"$PWD/open\" is writable by group and others (fix: chmod go-w $PWD/open)" err &&
	test_must_fail_with 3 "$BERTH" check open/o.ini 2>err &&
	grep -q "chmod go-w $PWD/open" err
'

test_expect_success 'a binary or environment file that is not root'"'"'s is refused, with the fix' '
	new_binary userbin 7 && chown nobody userbin &&
	manifest u.ini lkg 8177 "service.binary = $PWD/userbin" &&
	test_must_fail_with 3 "$BERTH" deploy u.ini 2>err &&
	grep -q "belongs to user nobody.* (fix: chown root $PWD/userbin)" err &&
	echo "A=1" >env && chmod 0664 env &&
	manifest e.ini lkg 8177 "service.environment_file = $PWD/env" &&
	test_must_fail_with 3 "$BERTH" deploy e.ini 2>err &&
	grep -q "the environment file \"$PWD/env\" can be changed by others than root" err
'

test_expect_success 'copies berth keeps are not world-readable; status and errors show no environment values' '
	manifest sec.ini lkg 8177 "environment.API_TOKEN = s3cr3t-value" "service.binary = $PWD/v2bin" &&
	"$BERTH" deploy --version v2 sec.ini &&
	test "$(stat -c %a /var/lib/berth/lkg/releases/v2/manifest.ini)" = 600 &&
	test "$(stat -c %a /var/lib/berth/lkg/releases/v2/lkg.service)" = 600 &&
	"$BERTH" status --json lkg >st.json &&
	! grep -q s3cr3t st.json &&
	"$BERTH" logs lkg -n 50 >logs &&
	! grep -q s3cr3t logs
'

test_expect_success 'clean up' '
	remove_service lkg && remove_service firstbad
'

test_done
