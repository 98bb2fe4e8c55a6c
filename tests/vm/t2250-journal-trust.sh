#!/bin/bash
# t2250-journal-trust.sh - what logs, status and crash-loop detection read from the journal cannot
# be forged: lines a plain user sends with logger, claiming to be systemd's about a service (even
# with its message ID) or a core dump of it, are ignored.
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2034
test_description='journal entries nobody but systemd and the service can write'
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-berth.sh"

# forge FIELDS...: one journal entry with these fields, sent by user nobody
forge() {
	printf '%s\n' "$@" | setpriv --reuid=nobody --regid=nogroup --clear-groups logger --journald
}

test_expect_success 'a crash loop ends in failed; status measures it' '
	# healthy first (the deploy passes, even on a busy machine), then a crash every 20 s
	manifest c.ini forged 8541 "environment.HELLO_CRASH_AFTER = 20s" "service.start_limit_burst = 3" \
		"service.start_limit_interval = 5min" "service.restart_delay = 100ms" &&
	"$BERTH" deploy c.ini &&
	wait_for 200 active_state_is forged failed &&
	"$BERTH" status --json forged >before.json &&
	json_get before.json ".services[0].crash_loop.span_usec > 0"
'

test_expect_success 'lines forged by a plain user are in the journal' '
	forge "MESSAGE_ID=5eb03494b6584870a536b337290809b3" "UNIT=forged.service" \
		"MESSAGE=forged.service: Scheduled restart job, restart counter is at 99 (FORGED-1)" &&
	forge "UNIT=forged.service" "MESSAGE=FORGED-2 claims to be about forged.service" &&
	forge "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1" "COREDUMP_UNIT=forged.service" "MESSAGE=FORGED-3 core dump" &&
	sleep 1 &&
	journalctl -q --no-pager UNIT=forged.service >j.txt &&
	grep -q FORGED-1 j.txt && grep -q FORGED-2 j.txt &&
	journalctl -q --no-pager COREDUMP_UNIT=forged.service | grep -q FORGED-3
'

test_expect_success 'berth logs ignores them, and shows what systemd said' '
	"$BERTH" logs -n 0 forged >logs.out &&
	grep -q "Scheduled restart job" logs.out &&
	! grep -q FORGED logs.out &&
	"$BERTH" logs --json -n 0 forged >logs.json &&
	! grep -q FORGED logs.json
'

test_expect_success 'the crash loop status ignores the forged restart line' '
	"$BERTH" status --json forged >after.json &&
	test "$(jq .services[0].crash_loop after.json)" = "$(jq .services[0].crash_loop before.json)"
'

test_expect_success 'clean up' '
	remove_service forged
'

test_done
