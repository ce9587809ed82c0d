#!/usr/bin/env bash
# SLA sweeps on several nodes: two `redress serve` on one record (one
# PostgreSQL database; on SQLite, one data directory), each sweeping every
# second, fire every due deadline exactly once: one escalation each, by the
# system actor, each dispute at version 2, none fired again by the sweeps
# that follow. Each node sweeps at its own REDRESS_NOW, a second apart, so
# an event's time tells which node fired it, and holds each deadline it
# fires for a moment (REDRESS_TEST_SWEEP_HOLD_MS) so that the two sweeps
# overlap: on PostgreSQL both nodes fire some. (That a dispute one sweeper
# holds is passed over by the other, not waited for, store/test_claims
# shows; SQLite's sweeps take turns at its one writer lock.)
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

DUE_COUNT=40
HOLD_MS=50                        # one node alone: 2 s of firing
NOW_A=2026-03-03T10:00:00Z        # past the 24 h SLA of the openings
NOW_B=2026-03-03T10:00:01Z

rd init >/dev/null
auditor=$(new_key auditor)
due=()
for _ in $(seq "$DUE_COUNT"); do
	due+=("$(open_dispute)")
done
# opened a day later: due after both nodes' time
later=$(REDRESS_NOW=2026-03-03T09:30:00Z open_dispute)

REDRESS_NOW=$NOW_A REDRESS_TEST_SWEEP_HOLD_MS=$HOLD_MS launch_server a --sweep-interval 1
REDRESS_NOW=$NOW_B REDRESS_TEST_SWEEP_HOLD_MS=$HOLD_MS launch_server b --sweep-interval 1
await_server a
await_server b

# wait until no due dispute is left opened (at most 30 s)
left=""
for _ in $(seq 150); do
	api "$auditor" GET "$BASE_b/v1/disputes?state=opened&limit=500"
	left=$(jq '.disputes | length' <<<"$BODY")
	[ "$left" = 1 ] && break
	sleep 0.2
done
expect_eq "$left" "1" "every due dispute swept, the one not yet due left"
sleep 2.5   # two more sweeps of each node: a second firing would show

by_a=0
by_b=0
for id in "${due[@]}"; do
	api "$auditor" GET "$BASE_a/v1/disputes/$id/history"
	expect_eq "$(jq -c '[.events[] | select(.event == "escalate")] | length' <<<"$BODY")" \
		"1" "$id escalated exactly once"
	expect_eq "$(jq -r '[.events[] | select(.event == "escalate")][0].actor | .role + ":" + .name' <<<"$BODY")" \
		"system:sla" "$id escalated by the system actor"
	case $(jq -r '[.events[] | select(.event == "escalate")][0].at' <<<"$BODY") in
	"$NOW_A") by_a=$((by_a + 1)) ;;
	"$NOW_B") by_b=$((by_b + 1)) ;;
	*) fail "$id escalated at neither node's time" ;;
	esac
	api "$auditor" GET "$BASE_b/v1/disputes/$id"
	expect_eq "$(jq -r '.state + " " + (.version | tostring)' <<<"$BODY")" "escalated 2" \
		"$id escalated at version 2"
done
expect_eq "$((by_a + by_b))" "$DUE_COUNT" "every deadline fired by one node or the other"
echo "fired by a: $by_a, by b: $by_b"
if on_postgres; then
	if [ "$by_a" -gt 0 ] && [ "$by_b" -gt 0 ]; then ok; else
		fail "one node fired everything (a $by_a, b $by_b): the sweeps did not share the work"
	fi
fi
expect_eq "$(rd show "$later" --json | jq -r '.state + " " + (.version | tostring)')" "opened 1" \
	"a deadline not due is not swept"
api "$auditor" GET "$BASE_a/metrics"
expect_eq "$(grep '^redress_sla_breaches_total ' <<<"$BODY" | cut -d' ' -f2)" "$DUE_COUNT" \
	"the metrics count each breach once"
expect_eq "$(cat "$E2E_TMP/a.err" "$E2E_TMP/b.err" | grep -c 'SLA sweep failed' || true)" "0" \
	"no sweep failed"

stop_server a
expect_eq "$STOP_CODE" "0" "node a stops with 0"
stop_server b
expect_eq "$STOP_CODE" "0" "node b stops with 0"
expect_exit 0 rd audit verify --all
finish
