#!/usr/bin/env bash
# One event on many disputes through the real server: every item runs in
# its own transaction on its dispute's writer lane and answers its own
# result in the order of the ids (ok with its version and state, or the
# problem a single event would have answered); the whole body is checked
# first; a storefront's ids of another storefront are 404 items; an
# Idempotency-Key answers a retry with the recorded document and applies
# nothing twice, and refuses another body under the same key.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
admin=$(new_key admin --name root)
auditor=$(new_key auditor --name audit)
shop=$(new_key storefront --storefront acme-eu)

start_server api --sweep-interval 0

bulk() { # KEY JSON [curl args...]
	local key=$1 body=$2
	shift 2
	call "$key" POST /v1/disputes/bulk-events -H 'Content-Type: application/json' --data-binary "$body" "$@"
}

ids=()
for i in $(seq 1 6); do
	ids+=("$(open_dispute ".order_ref = \"ORD-B$i\"")")
done
theirs=$(open_dispute '.order_ref = "ORD-OTHER" | .storefront = "other-shop"')
ev "${ids[2]}" investigate            # already investigating: investigate refused
missing=01JZZZZZZZZZZZZZZZZZZZZZZZ

# --- mixed results, in the order of the ids ------------------------------------
list=$(jq -cn --arg a "${ids[0]}" --arg b "${ids[1]}" --arg c "${ids[2]}" --arg m "$missing" '[$a,$b,$c,$m]')
bulk "$agent" "{\"ids\":$list,\"event\":\"investigate\",\"note\":\"bulk triage\"}"
expect_eq "$STATUS" "200" "a bulk event is answered 200 whatever its items"
expect_eq "$(jq -c '[.results[] | [.id, .ok, .version, .state, .problem.status]]' <<<"$BODY")" \
	"$(jq -cn --arg a "${ids[0]}" --arg b "${ids[1]}" --arg c "${ids[2]}" --arg m "$missing" \
	'[[$a,true,2,"investigating",null],[$b,true,2,"investigating",null],[$c,false,null,null,409],[$m,false,null,null,404]]')" \
	"each item's result in the order of the ids"
expect_eq "$(jq -c '[.succeeded, .failed]' <<<"$BODY")" "[2,2]" "succeeded and failed counted"
expect_eq "$(jq -r '.results[2].problem.type' <<<"$BODY")" "https://redress.dev/problems/state" \
	"the refused item has the problem a single event answers"
expect_has "$(jq -r '.results[2].problem.detail' <<<"$BODY")" "investigat" "its detail says why"
expect_eq "$(state_of "${ids[0]}")" "investigating/-" "the first item was applied"
call "$agent" GET "/v1/disputes/${ids[0]}/history"
expect_has "$BODY" "bulk triage" "with the note"

# --- a storefront: its own disputes only ----------------------------------------
list=$(jq -cn --arg a "${ids[3]}" --arg t "$theirs" '[$a,$t]')
bulk "$shop" "{\"ids\":$list,\"event\":\"withdraw\"}"
expect_eq "$(jq -c '[.results[] | [.ok, .problem.status // 0]]' <<<"$BODY")" '[[true,0],[false,404]]' \
	"another storefront's dispute is a 404 item for a storefront"
expect_eq "$(jq -r '.results[1].problem.detail' <<<"$BODY")" "no dispute with id $theirs" \
	"which it cannot tell from a missing one"
expect_eq "$(state_of "$theirs")" "opened/-" "and is left alone"

# --- roles ------------------------------------------------------------------------
bulk "$auditor" "{\"ids\":[\"${ids[4]}\"],\"event\":\"investigate\"}"
expect_eq "$STATUS" "403" "an auditor applies no events"

# --- the whole body first -------------------------------------------------------------
refused() { # JSON STATUS FIELD WHAT
	bulk "$agent" "$1"
	expect_eq "$(problem_field)" "$2 $3" "$4"
}
refused '{"event":"investigate"}' 422 ids "ids missing"
refused '{"ids":"x","event":"investigate"}' 422 ids "ids not an array"
refused '{"ids":[],"event":"investigate"}' 422 ids "no ids"
refused "{\"ids\":[\"${ids[4]}\",7],\"event\":\"investigate\"}" 422 "ids[1]" "an id that is no string"
refused "{\"ids\":[\"${ids[4]}\",\"not-an-id\"],\"event\":\"investigate\"}" 422 "ids[1]" "a malformed id"
refused "{\"ids\":[\"${ids[4]}\",\"${ids[5]}\",\"${ids[4]}\"],\"event\":\"investigate\"}" 422 "ids[2]" "a repeated id"
refused "{\"ids\":[\"${ids[4]}\"]}" 422 event "no event"
refused "{\"ids\":[\"${ids[4]}\"],\"event\":\"investigate\",\"colour\":\"red\"}" 422 colour "an unknown member"
refused "{\"ids\":[\"${ids[4]}\"],\"event\":\"investigate\",\"fields\":{\"x\":1}}" 422 fields.x "a field that is no string"
jq -cn '{ids: [range(501) | "01JZZZZZZZZZZZZZZZZZZ" + (10000 + . | tostring)], event: "investigate"}' >"$E2E_TMP/501.json"
call "$agent" POST /v1/disputes/bulk-events -H 'Content-Type: application/json' --data-binary "@$E2E_TMP/501.json"
expect_eq "$(problem_field)" "422 ids" "501 ids are too many"
expect_has "$(jq -r .detail <<<"$BODY")" "not 501" "and says how many came"
expect_eq "$(state_of "${ids[4]}")" "opened/-" "nothing refused was applied"
bulk "$agent" 'not json'
expect_eq "$STATUS" "400" "a body that is no JSON"

# --- 500 ids: the most, accepted --------------------------------------------------
jq -cn --arg a "${ids[4]}" '{ids: ([$a] + [range(499) | "01JZZZZZZZZZZZZZZZZZZ" + (10000 + . | tostring)]), event: "investigate"}' >"$E2E_TMP/500.json"
call "$agent" POST /v1/disputes/bulk-events -H 'Content-Type: application/json' --data-binary "@$E2E_TMP/500.json"
expect_eq "$STATUS" "200" "500 ids are accepted"
expect_eq "$(jq -c '[(.results | length), .succeeded, .failed, .results[0].ok, ([.results[1:][] | .problem.status] | unique)]' <<<"$BODY")" \
	'[500,1,499,true,[404]]' "500 results: the one dispute applied, the unknown ones 404"

# --- a batch of twenty ---------------------------------------------------------------
batch=()
for i in $(seq 1 20); do
	batch+=("$(open_dispute ".order_ref = \"ORD-T$i\"")")
done
list=$(printf '%s\n' "${batch[@]}" | jq -R . | jq -cs .)
bulk "$admin" "{\"ids\":$list,\"event\":\"escalate\"}" -H 'Idempotency-Key: bulk-1'
expect_eq "$(jq -c '[.succeeded, .failed, ([.results[].state] | unique), ([.results[].version] | unique)]' <<<"$BODY")" \
	'[20,0,["escalated"],[2]]' "twenty disputes escalated at once"
expect_eq "$(jq -c '[.results[].id]' <<<"$BODY")" "$list" "in the order asked"
first=$BODY

# --- Idempotency-Key -------------------------------------------------------------------
bulk "$admin" "{\"ids\":$list,\"event\":\"escalate\"}" -H 'Idempotency-Key: bulk-1'
expect_eq "$STATUS" "200" "a retry under the same key"
expect_eq "$BODY" "$first" "is answered the first answer"
expect_eq "$(header Idempotent-Replayed)" "true" "and says it is a replay"
call "$admin" GET "/v1/disputes/${batch[0]}"
expect_eq "$(jq .version <<<"$BODY")" "2" "nothing was applied twice"
bulk "$admin" "{\"ids\":$list,\"event\":\"withdraw\"}" -H 'Idempotency-Key: bulk-1'
expect_eq "$(jq -r '(.status|tostring) + " " + .type + " " + .field' <<<"$BODY")" \
	"422 https://redress.dev/problems/idempotency_key_reused Idempotency-Key" "another body under the same key is refused"
expect_eq "$(header Content-Type)" "application/problem+json" "as a problem, like the single routes' refusal"
expect_eq "$(state_of "${batch[0]}")" "escalated/-" "and applies nothing"
bulk "$agent" "{\"ids\":$list,\"event\":\"resume\"}" -H 'Idempotency-Key: bulk-1'
expect_eq "$(jq -c '[.succeeded, .failed, ([.results[].problem | [.status, .guard]] | unique)]' <<<"$BODY")" '[0,20,[[403,"role"]]]' \
	"another API key's same Idempotency-Key is another request: resume is the admins', each item says so"
bulk "$admin" "{\"ids\":$list,\"event\":\"withdraw\"}" -H "Idempotency-Key: $(head -c 256 /dev/zero | tr '\0' k)"
expect_eq "$(problem_field)" "400 Idempotency-Key" "an over-long key is refused"

# --- the single route still works beside it ------------------------------------------
call "$agent" POST "/v1/disputes/${ids[5]}/events" -H 'Content-Type: application/json' --data-binary '{"event":"investigate"}'
expect_eq "$(jq -r .state <<<"$BODY")" "investigating" "a single event"

# --- the command line ----------------------------------------------------------------
one=$(open_dispute '.order_ref = "ORD-C1"')
two=$(open_dispute '.order_ref = "ORD-C2"')
ev "$two" investigate
expect_exit 6 rd bulk-event --event investigate --ids "$one,$two,$missing" --note "from the shell" --json
expect_eq "$(jq -c '[.succeeded, .failed, [.results[] | .ok], [.results[] | (.error.type // "-")]]' <<<"$OUT")" \
	'[1,2,[true,false,false],["-","state","not_found"]]' \
	"bulk-event reports each dispute and exits with the first refusal's status"
expect_eq "$(state_of "$one")" "investigating/-" "what could be applied was"
expect_exit 2 rd bulk-event --event investigate --ids "$one,$one"
expect_has "$ERR" "twice" "a repeated id is refused before anything"
expect_exit 2 rd bulk-event --ids "$one"
expect_has "$ERR" "--event" "--event is required"

finish
