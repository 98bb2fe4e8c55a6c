#!/bin/bash
# t1200-deploy-lock.sh - two berth processes never interleave: the second waits for the lock,
# or gives up clearly (exit 75) after --lock-timeout.
# shellcheck source-path=SCRIPTDIR disable=SC2016
test_description='the host-wide lock serializes deploys'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

test_expect_success 'two deploys at once: both succeed, one after the other' '
	manifest a.ini locka 8121 &&
	manifest b.ini lockb 8122 &&
	{ "$BERTH" deploy --json a.ini >a.json 2>a.err & pa=$!; } &&
	{ "$BERTH" deploy --json b.ini >b.json 2>b.err & pb=$!; } &&
	wait $pa && wait $pb &&
	json_get a.json .ok && json_get b.json .ok &&
	curl -fsS http://127.0.0.1:8121/healthz && curl -fsS http://127.0.0.1:8122/healthz
'

test_expect_success 'two deploys of the same service at once: one changes it, the other finds it done' '
	new_binary v2 2 &&
	{ "$BERTH" deploy --json --binary v2 a.ini >c1.json & p1=$!; } &&
	{ "$BERTH" deploy --json --binary v2 a.ini >c2.json & p2=$!; } &&
	wait $p1 && wait $p2 &&
	jq -s "map(.changed) | sort" c1.json c2.json >changed &&
	jq -n "[false, true]" >expect &&
	test_cmp expect changed &&
	test "$(systemctl show -p NRestarts --value locka)" = 0
'

test_expect_success 'a held lock makes deploy give up after --lock-timeout with exit 75' '
	{ flock /run/berth/lock sleep 6 & holder=$!; } &&
	sleep 0.5 &&
	start=$(date +%s%N) &&
	test_must_fail_with 75 "$BERTH" deploy --lock-timeout 1s a.ini 2>err &&
	end=$(date +%s%N) &&
	grep -q "another berth" err &&
	test $(( (end - start) / 1000000 )) -lt 4000 &&
	wait $holder
'

test_expect_success 'clean up' '
	remove_service locka && remove_service lockb
'

test_done
