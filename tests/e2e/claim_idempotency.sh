#!/usr/bin/env bash
# POST /v1/queue/claim under an Idempotency-Key through the real server: a
# retry with the same key and body is answered the first answer (the
# dispute as it was then recorded, or 204 when there was nothing to claim)
# and takes no second dispute; another body under the key is 422
# idempotency_key_reused; duplicates racing the first are 409 in flight or
# its answer, one dispute taken in all; a claim without a key is as it was;
# the record is operation 'claim' (no dispute for a 204), and a claim's
# records survive a restart and a reindex.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
alice=$(new_key agent --name alice)
bob=$(new_key agent --name bob)

export REDRESS_NOW=2026-03-01T00:00:00Z
D1=$(open_dispute)
export REDRESS_NOW=2026-03-01T01:00:00Z
D2=$(open_dispute)
export REDRESS_NOW=2026-03-01T02:00:00Z
D3=$(open_dispute)
unset REDRESS_NOW
assignee() { rd show "$1" --json | jq -r '.assignee // "nobody"'; }

start_server api --sweep-interval 0

# --- the first claim and its retries ----------------------------------------------------
call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-1'
expect_eq "$STATUS" "200" "a claim under a key"
expect_eq "$(jq -r '.id + " " + .assignee' <<<"$BODY")" "$D1 alice" "takes the oldest, for the caller"
first=$BODY
first_etag=$(header ETag)
expect_eq "$(header Idempotent-Replayed)" "" "the first answer is no replay"

call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-1'
expect_eq "$STATUS:$(header Idempotent-Replayed)" "200:true" "the retry is replayed"
expect_eq "$BODY" "$first" "the same answer, byte for byte: the same dispute"
expect_eq "$(header ETag)" "$first_etag" "with its ETag"
expect_eq "$(assignee "$D2") $(assignee "$D3")" "nobody nobody" "no second dispute taken"
expect_eq "$(record_sql "SELECT count(*) FROM events WHERE event = 'assign'")" "1" "one assign event in all"

# the dispute moves on: the replay is the answer as it was recorded
call "$alice" POST "/v1/disputes/$D1/events" -H 'Content-Type: application/json' \
	--data-binary '{"event":"investigate"}'
expect_eq "$STATUS" "200" "the claimed dispute is worked on"
call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-1'
expect_eq "$STATUS:$(jq -r '.id + " " + .state + " " + (.version | tostring)' <<<"$BODY")" \
	"200:$D1 opened 2" "still the answer of the claim, not the dispute now"

call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-1' --data '{}'
expect_eq "$STATUS" "422" "another body under the key"
expect_eq "$(jq -r '.type + " " + .field' <<<"$BODY")" \
	"https://redress.dev/problems/idempotency_key_reused Idempotency-Key" "is idempotency_key_reused"
expect_eq "$(assignee "$D2")" "nobody" "and takes nothing"
call "$alice" POST "/v1/disputes/$D2/events" -H 'Idempotency-Key: claim-1' \
	-H 'Content-Type: application/json' --data-binary '{"event":"escalate"}'
expect_eq "$STATUS" "422" "nor may the key serve another route"
call "$bob" POST /v1/queue/claim -H 'Idempotency-Key: claim-1'
expect_eq "$STATUS $(jq -r '.id + " " + .assignee' <<<"$BODY")" "200 $D2 bob" \
	"another API key's same key is another request"
expect_eq "$(record_sql "SELECT operation || ' ' || dispute_id FROM idempotency WHERE idem_key = 'claim-1' ORDER BY dispute_id")" \
	"$(printf 'claim %s\nclaim %s' "$D1" "$D2" | sort -k2)" "recorded as operation claim with its dispute"
call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: bad key'
expect_eq "$STATUS" "400" "a malformed key is refused as on every route"

# --- without a key: as before ------------------------------------------------------------
call "$alice" POST /v1/queue/claim
expect_eq "$STATUS $(jq -r .id <<<"$BODY")" "200 $D3" "a claim without a key takes the next"
call "$alice" POST /v1/queue/claim
expect_eq "$STATUS" "204" "and the next finds nothing"

# --- nothing to claim: 204, replayed as 204 ------------------------------------------------
call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-empty'
expect_eq "$STATUS:$BODY" "204:" "nothing to claim under a key: 204"
expect_eq "$(record_sql "SELECT operation || ' ' || coalesce(dispute_id, 'none') || ' [' || response || ']' FROM idempotency WHERE idem_key = 'claim-empty'")" \
	"claim none []" "recorded with no dispute"
D4=$(open_dispute)
call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-empty'
expect_eq "$STATUS:$(header Idempotent-Replayed):$BODY" "204:true:" "the retry is the same 204"
expect_eq "$(assignee "$D4")" "nobody" "even with a dispute in the queue now"
call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-empty' --data '{}'
expect_eq "$STATUS" "422" "another body under that key"
call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-4'
expect_eq "$STATUS $(jq -r .id <<<"$BODY")" "200 $D4" "a new key claims it"

# --- duplicates racing the first: one dispute --------------------------------------------
race=()
for _ in $(seq 4); do
	race+=("$(open_dispute)")
done
rm -f "$E2E_TMP"/race-*
pids=()
for i in $(seq 12); do
	curl -s -o "$E2E_TMP/race-$i.body" -w '%{http_code}\n' -X POST \
		-H "Authorization: Bearer $bob" -H 'Idempotency-Key: claim-race' \
		"$SERVER_BASE/v1/queue/claim" >"$E2E_TMP/race-$i.status" &
	pids+=($!)
done
wait "${pids[@]}"
answered=0; in_flight=0
for i in $(seq 12); do
	st=$(cat "$E2E_TMP/race-$i.status")
	if [ "$st" = 200 ]; then
		answered=$((answered + 1))
	elif [ "$st" = 409 ] && [ "$(jq -r .type "$E2E_TMP/race-$i.body")" = \
		"https://redress.dev/problems/idempotency_key_in_flight" ]; then
		in_flight=$((in_flight + 1))
	fi
done
expect_eq "$((answered + in_flight))" "12" "every racer is answered 200 or 409 in flight"
expect_eq "$(cat "$E2E_TMP"/race-*.body | jq -r 'select(.id) | .id' | sort -u | wc -l | tr -d ' ')" "1" \
	"every 200 names the same dispute"
taken=0
for x in "${race[@]}"; do
	[ "$(assignee "$x")" = bob ] && taken=$((taken + 1))
done
expect_eq "$taken" "1" "12 racing claims under one key take one dispute"

# --- after a restart, and a reindex (an embedded record's) ----------------------------------
stop_server api
if ! on_postgres; then
	expect_exit 0 rd reindex
fi
start_server api --sweep-interval 0
call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-1'
expect_eq "$STATUS:$(header Idempotent-Replayed):$(jq -r .id <<<"$BODY")" "200:true:$D1" \
	"replayed after a restart and a reindex"
call "$alice" POST /v1/queue/claim -H 'Idempotency-Key: claim-empty'
expect_eq "$STATUS:$(header Idempotent-Replayed)" "204:true" "the 204 too: the reindex carries the records over"
expect_eq "$(record_sql "SELECT count(*) FROM disputes WHERE assignee IS NULL AND outcome IS NULL")" "3" \
	"and no dispute taken by the retries"
stop_server api
# the claim's commit names its request, as every idempotent write's does
expect_exit 0 rd mirror
msg=$(git --git-dir="$REDRESS_DATA/evidence.git" log --format=%B "refs/disputes/$D1" |
	grep '^Redress-Idempotency-')
expect_has "$msg" "Redress-Idempotency-Key: claim-1" "the claim's commit names its key"
expect_eq "$(grep -c ' claim [0-9a-f]\{64\}$' <<<"$msg")" "1" "and its operation, claim"
expect_exit 0 rd audit verify --all

finish
