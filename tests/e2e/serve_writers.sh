#!/usr/bin/env bash
# redress serve --writers: the group-commit writer threads.
#
# On the embedded record a server has one writer thread (SQLite has one
# writer at a time): --writers above 1 is refused, saying why, and so is a
# count out of range on either record. On PostgreSQL (serve_writers@pg) a
# server with several writer threads takes 16 clients at once, each
# sending events to disputes of its own in turns with the others, and
# every dispute's changes keep their order: each answer's version is one
# above the client's last, no version is skipped or given twice, every
# acknowledged event is in the dispute's history in the order it was
# answered, and `audit verify --all` passes once the mirror has caught up.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

CLIENTS=16
DISPUTES_EACH=3
EVENTS_EACH=12

rd init >/dev/null
key=$(new_key admin --name writers)

# out of range, on either record
expect_exit 2 "$REDRESS" serve --listen 127.0.0.1:0 --writers 0
expect_has "$(cat "$E2E_TMP/stderr")" "writers" "--writers 0 refused"
expect_exit 2 "$REDRESS" serve --listen 127.0.0.1:0 --writers 33
expect_has "$(cat "$E2E_TMP/stderr")" "writers" "--writers 33 refused"

if ! on_postgres; then
	expect_exit 2 "$REDRESS" serve --listen 127.0.0.1:0 --writers 2
	expect_has "$(cat "$E2E_TMP/stderr")" "the embedded record has one writer at a time" \
		"--writers 2 refused on the embedded record"
	expect_has "$(cat "$E2E_TMP/stderr")" "PostgreSQL" "the refusal says what would take it"
	# one is what the embedded record has anyway
	start_server one --sweep-interval 0 --writers 1
	call "$key" GET /readyz
	expect_eq "$STATUS" 200 "--writers 1 serves on the embedded record"
	stop_server one
	expect_eq "$STOP_CODE" 0 "it stops cleanly"
	finish
	exit $?
fi

start_server s --sweep-interval 0 --rate-limit 0 --writers 3

# the disputes, each client's own
for c in $(seq "$CLIENTS"); do
	for d in $(seq "$DISPUTES_EACH"); do
		call "$key" POST /v1/disputes --data "$(jq --arg ref "W-$c-$d" \
			'.order_ref = $ref' "$REDRESS_SOURCE_DIR/examples/dispute.json")"
		[ "$STATUS" = 201 ] || fail "opening W-$c-$d: $STATUS $BODY"
		jq -r .id <<<"$BODY" >>"$E2E_TMP/ids-$c"
	done
done
ok

# client C: EVENTS_EACH events on each of its disputes, in turns among
# them (escalate and resume alternate), each line "ID VERSION STATUS"
client() {
	local c=$1 i id event status
	declare -A next
	for i in $(seq "$EVENTS_EACH"); do
		while read -r id; do
			event=${next[$id]:-escalate}
			status=$(curl -s -o "$E2E_TMP/c$c.body" -w '%{http_code}' \
				-H "Authorization: Bearer $key" \
				--data "{\"event\":\"$event\"}" \
				"$SERVER_BASE/v1/disputes/$id/events")
			echo "$id $(jq -r '.version // "-"' <"$E2E_TMP/c$c.body") $status $event" \
				>>"$E2E_TMP/log-$c"
			if [ "$event" = escalate ]; then next[$id]=resume; else next[$id]=escalate; fi
		done <"$E2E_TMP/ids-$c"
	done
}
pids=()
for c in $(seq "$CLIENTS"); do
	client "$c" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

cat "$E2E_TMP"/log-* >"$E2E_TMP/all"
expect_eq "$(awk '$3 != 200' "$E2E_TMP/all" | wc -l)" 0 "every event answered 200"
expect_eq "$(wc -l <"$E2E_TMP/all")" $((CLIENTS * DISPUTES_EACH * EVENTS_EACH)) "every event sent"

# each dispute: versions 2, 3, ... in the order its client was answered,
# and its history the same events in the same order
bad=0
for c in $(seq "$CLIENTS"); do
	while read -r id; do
		want=$(seq 2 $((EVENTS_EACH + 1)) | tr '\n' ' ')
		got=$(awk -v id="$id" '$1 == id { printf "%s ", $2 }' "$E2E_TMP/log-$c")
		[ "$got" = "$want" ] || { bad=$((bad + 1)); echo "dispute $id versions: $got" >&2; }
		sent=$(awk -v id="$id" '$1 == id { printf "%s ", $4 }' "$E2E_TMP/log-$c")
		call "$key" GET "/v1/disputes/$id/history"
		kept=$(jq -r '[.events[] | select(.event == "escalate" or .event == "resume") | .event] | join(" ")' <<<"$BODY")
		[ "$kept " = "$sent" ] || { bad=$((bad + 1)); echo "dispute $id history: $kept, sent: $sent" >&2; }
	done <"$E2E_TMP/ids-$c"
done
expect_eq "$bad" 0 "each dispute's versions follow one another and its history holds its events in order"

stop_server s
expect_eq "$STOP_CODE" 0 "the server stops cleanly"
mirror_wait
rd audit verify --all >"$E2E_TMP/verify" 2>&1 || fail "audit verify --all: $(cat "$E2E_TMP/verify")"
ok
finish
