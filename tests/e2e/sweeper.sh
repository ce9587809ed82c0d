#!/usr/bin/env bash
# The SLA sweeper of `redress serve`: with --sweep-interval 0 nothing fires;
# two servers sweeping every second on one data directory, with
# `redress sweep` run beside them, fire every due deadline exactly once, as
# the system actor, at the time REDRESS_NOW gives (deadlines not due then
# stay, although the system clock is past them); bad option values are
# refused before anything starts.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

SWEEP_NOW=2026-03-03T10:00:00Z   # past the 24 h SLA of disputes opened at REDRESS_NOW
DUE_COUNT=24

rd init >/dev/null
auditor=$(new_key auditor)

due=()
for _ in $(seq "$DUE_COUNT"); do
	due+=("$(open_dispute)")
done
# opened a day later: due at 2026-03-04T09:00Z, after SWEEP_NOW
later=()
for _ in 1 2 3; do
	later+=("$(REDRESS_NOW=2026-03-03T09:00:00Z open_dispute)")
done
# investigating's SLA (48 h) runs past every sweep below: never swept
quiet=$(open_dispute)
ev "$quiet" investigate --as agent:alice

# --- bad values are refused before anything listens ------------------------------
expect_exit 2 timeout 10 "$REDRESS" serve --listen 127.0.0.1:0 --sweep-interval -1
expect_has "$ERR" "--sweep-interval" "negative interval refused, naming the option"
expect_exit 2 timeout 10 "$REDRESS" serve --listen 127.0.0.1:0 --sweep-interval 1.5
expect_exit 2 timeout 10 "$REDRESS" serve --listen 127.0.0.1:0 --sweep-interval 86401
expect_exit 2 timeout 10 "$REDRESS" serve --listen 127.0.0.1:0 --connection-timeout 0
expect_has "$ERR" "--connection-timeout" "zero timeout refused, naming the option"
expect_exit 2 timeout 10 "$REDRESS" serve --listen 127.0.0.1:0 --connection-timeout ten

# --- --sweep-interval 0: no sweeper --------------------------------------------------
REDRESS_NOW=$SWEEP_NOW start_server off --sweep-interval 0
sleep 2
api "$auditor" GET "$SERVER_BASE/v1/disputes?state=opened&limit=500"
expect_eq "$STATUS" "200" "the server without a sweeper answers"
expect_eq "$(jq '.disputes | length' <<<"$BODY")" "$((DUE_COUNT + 3))" "nothing swept with --sweep-interval 0"
stop_server off
expect_eq "$STOP_CODE" "0" "server without a sweeper stops with 0"

# --- two servers and CLI sweeps at once -------------------------------------------
REDRESS_NOW=$SWEEP_NOW launch_server a --sweep-interval 1
REDRESS_NOW=$SWEEP_NOW launch_server b --sweep-interval 1
cli_sweeps() { # NAME: a few sweeps as fast as they go, fired counts kept
	local i
	for i in 1 2 3 4 5; do
		REDRESS_NOW=$SWEEP_NOW rd sweep --json 2>>"$E2E_TMP/$1.err" |
			jq -r .fired >>"$E2E_TMP/$1.fired" || true
	done
}
cli_sweeps cli1 &
c1=$!
cli_sweeps cli2 &
c2=$!
await_server a
await_server b
wait "$c1" "$c2"

# wait until the servers have swept what the CLI left (at most 30 s)
left=""
for _ in $(seq 150); do
	left=$(rd list --state opened --json --limit 500 | jq '.disputes | length')
	[ "$left" = 3 ] && break
	sleep 0.2
done
expect_eq "$left" "3" "every due dispute swept, the 3 not yet due left"
sleep 2.5   # two more sweeps of each server: a second firing would show

cli_fired=$(cat "$E2E_TMP"/cli*.fired | awk '{s += $1} END {print s + 0}')
expect_eq "$(cat "$E2E_TMP"/cli*.err 2>/dev/null)" "" "CLI sweeps did not fail"
if [ "$cli_fired" -le "$DUE_COUNT" ]; then ok; else fail "CLI sweeps fired $cli_fired of $DUE_COUNT"; fi

for id in "${due[@]}"; do
	api "$auditor" GET "$BASE_a/v1/disputes/$id/history"
	expect_eq "$(jq -c '[.events[] | select(.event == "escalate")] | length' <<<"$BODY")" "1" "$id escalated exactly once"
	expect_eq "$(jq -r '[.events[] | select(.event == "escalate")][0].actor | .role + ":" + .name' <<<"$BODY")" \
		"system:sla" "$id escalated by the system actor"
	expect_eq "$(jq -r '[.events[] | select(.event == "escalate")][0].at' <<<"$BODY")" \
		"$SWEEP_NOW" "$id escalated at the server's REDRESS_NOW"
	expect_eq "$(jq -r '.commits | length' <<<"$BODY")" "2" "$id: opened and escalated, two commits"
	api "$auditor" GET "$BASE_b/v1/disputes/$id"
	expect_eq "$(jq -r '.state + " " + (.version | tostring)' <<<"$BODY")" "escalated 2" "$id escalated at version 2"
done
for id in "${later[@]}"; do
	expect_eq "$(rd show "$id" --json | jq -r '.state + " " + (.version | tostring)')" "opened 1" \
		"$id not due at REDRESS_NOW, not swept"
done
expect_eq "$(state_of "$quiet")" "investigating/-" "a state without an SLA is not swept"
expect_eq "$(grep -c 'SLA sweep failed' "$E2E_TMP/a.err" "$E2E_TMP/b.err" | awk -F: '{s += $2} END {print s}')" \
	"0" "no sweep failed"

stop_server a
expect_eq "$STOP_CODE" "0" "server a stops with 0"
stop_server b
expect_eq "$STOP_CODE" "0" "server b stops with 0"
expect_exit 0 rd audit verify --all

finish
