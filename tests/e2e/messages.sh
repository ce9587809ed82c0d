#!/usr/bin/env bash
# The conversation with the buyer through the real server: a storefront
# relays its buyer's words (inbound only), agents answer (outbound) and
# keep notes (internal), each message a change of the dispute; the reply
# clock starts with an unanswered inbound message, stops with an answer,
# lists the disputes awaiting a reply most overdue first and fires when it
# passes; what a storefront reads (messages, history, export, the event
# feed) never holds an internal note; every refusal names its member; a
# reindex rebuilds the messages from the record.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
auditor=$(new_key auditor --name audit)
shop=$(new_key storefront --storefront acme-eu)
other=$(new_key storefront --storefront other-shop)

start_server api --sweep-interval 0

post() { # KEY ID JSON
	call "$1" POST "/v1/disputes/$2/messages" -H 'Content-Type: application/json' --data-binary "$3"
}

id=$(open_dispute)
second=$(open_dispute '.order_ref = "ORD-2002"')

# --- who posts what -----------------------------------------------------------
post "$shop" "$id" '{"direction":"inbound","channel":"chat","body":"The vase arrived broken.\nPhotos follow.","language":"de-DE"}'
expect_eq "$STATUS" "201" "the storefront relays its buyer's message"
expect_eq "$(jq -c '{n, version, direction, channel, language, author, role, evidence, template}' <<<"$BODY")" \
	'{"n":1,"version":2,"direction":"inbound","channel":"chat","language":"de-DE","author":"storefront","role":"storefront","evidence":[],"template":null}' \
	"the stored message, author defaulting to the key's name"
expect_eq "$(jq -r '.body' <<<"$BODY")" "$(printf 'The vase arrived broken.\nPhotos follow.')" "newlines kept"
expect_eq "$(jq -r '.commit | test("^[0-9a-f]{40}$")' <<<"$BODY")" "true" "the commit that recorded it"
expect_eq "$(jq -r '.created_at' <<<"$BODY")" "2026-03-02T09:00:00Z" "created_at"
expect_eq "$(header Location)" "/v1/disputes/$id/messages" "Location"

post "$shop" "$id" '{"direction":"outbound","channel":"chat","body":"hi"}'
expect_eq "$(problem_field)" "403 direction" "a storefront posts no outbound message"
post "$shop" "$id" '{"direction":"internal","channel":"chat","body":"hi"}'
expect_eq "$STATUS" "403" "nor an internal note"
post "$auditor" "$id" '{"direction":"internal","channel":"chat","body":"hi"}'
expect_eq "$STATUS" "403" "an auditor posts nothing"
post "$other" "$id" '{"direction":"inbound","channel":"chat","body":"hi"}'
expect_eq "$STATUS" "404" "another storefront's dispute does not exist for it"

post "$agent" "$id" '{"direction":"internal","channel":"other","body":"Carrier says the box was crushed: SECRET-NOTE"}'
expect_eq "$STATUS" "201" "an agent keeps an internal note"
expect_eq "$(jq -r .author <<<"$BODY")" "alice" "by its key's name"

# --- refusals, each naming its member ----------------------------------------------
refused() { # JSON STATUS FIELD WHAT
	post "$agent" "$id" "$1"
	expect_eq "$(problem_field)" "$2 $3" "$4"
}
refused '{"direction":"sideways","channel":"chat","body":"x"}' 422 direction "an unknown direction"
refused '{"direction":"inbound","channel":"pigeon","body":"x"}' 422 channel "an unknown channel"
refused '{"direction":"inbound","channel":"chat","body":""}' 422 body "an empty body"
refused '{"direction":"inbound","channel":"chat","body":"a\r\nb"}' 422 body "a carriage return"
refused '{"direction":"inbound","channel":"chat","body":"a\u0007b"}' 422 body "a control character"
refused '{"direction":"inbound","channel":"chat","body":"x","colour":"red"}' 422 colour "an unknown member"
refused '{"direction":"inbound","channel":"chat"}' 422 body "neither body nor template"
refused '{"direction":"inbound","channel":"chat","body":"x","language":"not a tag!"}' 422 language "a malformed language"
refused '{"direction":"inbound","channel":"chat","body":"x","evidence":[7]}' 422 evidence "evidence the dispute does not have"
refused '{"direction":"inbound","channel":"chat","body":"x","evidence":["1"]}' 422 evidence "an evidence number as text"
refused '{"direction":"inbound","channel":"phone","body":"x"}' 422 call "a phone message without its call"
refused '{"direction":"inbound","channel":"chat","body":"x","call":{"caller":"buyer","duration_seconds":5}}' 422 call "a call on another channel"
refused '{"direction":"inbound","channel":"phone","body":"x","call":{"caller":"buyer","duration_seconds":-1}}' 422 call.duration_seconds "a negative duration"
refused '{"direction":"inbound","channel":"chat","body":"x","template":{"name":"acknowledgement"}}' 422 body "body and template at once"
refused '{"direction":"inbound","channel":"chat","template":{"name":"acknowledgement"}}' 422 template "a template for an inbound message"
jq -n --arg b "$(head -c 65537 /dev/zero | tr '\0' a)" '{direction:"inbound",channel:"email",body:$b}' >"$E2E_TMP/big.json"
call "$agent" POST "/v1/disputes/$id/messages" -H 'Content-Type: application/json' --data-binary "@$E2E_TMP/big.json"
expect_eq "$(problem_field)" "413 body" "a body over 64 KiB"
jq -n --arg b "$(head -c 65536 /dev/zero | tr '\0' a)" '{direction:"inbound",channel:"email",body:$b}' >"$E2E_TMP/max.json"
call "$agent" POST "/v1/disputes/$second/messages" -H 'Content-Type: application/json' --data-binary "@$E2E_TMP/max.json"
expect_eq "$STATUS" "201" "a body of exactly 64 KiB"
call "$agent" GET "/v1/disputes/$id"
expect_eq "$(jq .version <<<"$BODY")" "3" "nothing refused was recorded"

# --- a message retried under its Idempotency-Key is recorded once ------------------
idem() { # KEY JSON
	call "$shop" POST "/v1/disputes/$second/messages" -H "Idempotency-Key: $1" \
		-H 'Content-Type: application/json' --data-binary "$2"
}
idem relay-1 '{"direction":"inbound","channel":"sms","body":"Is anyone there?"}'
expect_eq "$STATUS" "201" "a relayed message with an Idempotency-Key"
first=$BODY
idem relay-1 '{"direction":"inbound","channel":"sms","body":"Is anyone there?"}'
expect_eq "$STATUS $(header Idempotent-Replayed)" "201 true" "its retry is replayed"
expect_eq "$(jq -cS . <<<"$BODY")" "$(jq -cS . <<<"$first")" "with the first answer, commit and all"
expect_eq "$(header Location)" "/v1/disputes/$second/messages" "and its Location"
idem relay-1 '{"direction":"inbound","channel":"sms","body":"Something else"}'
expect_eq "$(problem_field)" "422 Idempotency-Key" "the key used for another message is refused"
call "$agent" GET "/v1/disputes/$second/messages"
expect_eq "$(jq '[.items[] | select(.body == "Is anyone there?")] | length' <<<"$BODY")" "1" "recorded once"

# --- a call logged, pointing at its recording -------------------------------------
add_evidence "$id" photo
post "$agent" "$id" '{"direction":"inbound","channel":"chat","body":"x","evidence":[1,1]}'
expect_eq "$(problem_field)" "422 evidence" "evidence listed twice"
post "$agent" "$id" '{"direction":"inbound","channel":"phone","body":"Buyer called: wants a replacement, not a refund.","call":{"caller":"buyer","duration_seconds":312},"evidence":[1]}'
expect_eq "$STATUS" "201" "a phone call logged"
expect_eq "$(jq -c '{call, evidence}' <<<"$BODY")" '{"call":{"caller":"buyer","duration_seconds":312},"evidence":[1]}' \
	"with who called, how long, and its recording"

# --- the reply clock ----------------------------------------------------------------
call "$agent" GET "/v1/disputes/$id"
expect_eq "$(jq -c .reply_deadline <<<"$BODY")" \
	'{"at":"2026-03-03T09:00:00Z","since_message":1,"event":"escalate"}' \
	"the first unanswered inbound message started a 24 h clock (no calendar: every hour counts)"
post "$agent" "$id" '{"direction":"outbound","channel":"chat","body":"Sorry to hear that. Could you send photos?"}'
expect_eq "$STATUS" "201" "an agent answers"
expect_eq "$(jq -r .language <<<"$BODY")" "de-DE" "an outbound message is in the dispute's locale unless told"
call "$agent" GET "/v1/disputes/$id"
expect_eq "$(jq -c .reply_deadline <<<"$BODY")" "null" "the answer stopped the clock (no reply_deadline)"
REDRESS_NOW=2026-03-02T10:00:00Z rd message "$id" --direction inbound --channel email --body "Photos attached." --as agent:alice >/dev/null
expect_eq "$(rd show "$id" --json | jq -c .reply_deadline)" \
	'{"at":"2026-03-04T10:00:00Z","since_message":5,"event":"escalate"}' \
	"a later inbound message gets the later answer's 48 h"
REDRESS_NOW=2026-03-02T11:00:00Z rd message "$id" --direction inbound --channel email --body "Hello?" --as agent:alice >/dev/null
expect_eq "$(rd show "$id" --json | jq -r .reply_deadline.since_message)" "5" \
	"a second unanswered message keeps the clock of the first"

third=$(open_dispute '.order_ref = "ORD-3003"')
ev "$third" investigate --as agent:alice
REDRESS_NOW=2026-03-02T09:30:00Z rd message "$third" --direction inbound --channel chat --body "Anyone there?" --as storefront:acme-eu >/dev/null
call "$agent" GET "/v1/disputes?awaiting_reply=true"
expect_eq "$STATUS" "200" "the disputes awaiting a reply"
expect_eq "$(jq -r '[.disputes[].id] | join(" ")' <<<"$BODY")" "$second $third $id" \
	"most overdue first ($second due 2026-03-03T09:00, $third at 09:30, $id on the 4th)"
call "$agent" GET "/v1/disputes?awaiting_reply=true&limit=2"
expect_eq "$(jq -r '[.disputes[].id] | join(" ")' <<<"$BODY")" "$second $third" "a page of two"
call "$agent" GET "/v1/disputes?awaiting_reply=true&limit=2&cursor=$(jq -r .next_cursor <<<"$BODY")"
expect_eq "$(jq -r '([.disputes[].id] | join(" ")) + " " + (.next_cursor|tostring)' <<<"$BODY")" "$id null" "and the rest"
call "$other" GET "/v1/disputes?awaiting_reply=true"
expect_eq "$(jq '.disputes | length' <<<"$BODY")" "0" "another storefront awaits no reply of these"
call "$agent" GET "/v1/disputes?awaiting_reply=maybe"
expect_eq "$(problem_field)" "422 awaiting_reply" "awaiting_reply is true or false"
expect_eq "$(rd list --awaiting-reply --json | jq -r '[.disputes[].id] | join(" ")')" "$second $third $id" \
	"redress list --awaiting-reply"

# the clock passes: sla.breached with "clock": "reply", and the escalation
REDRESS_NOW=2026-03-03T09:30:00Z rd sweep >/dev/null
call "$agent" GET "/v1/disputes/$third"
expect_eq "$(jq -r '.state + " " + (.reply_deadline|tostring)' <<<"$BODY")" "escalated null" \
	"an overdue reply escalates the dispute and stops its clock"
call "$agent" GET "/v1/disputes/$third/history"
expect_eq "$(jq -r '[.events[].event] | join(" ")' <<<"$BODY")" "opened investigate message reply_overdue escalate" \
	"the history says why"
call "$agent" GET "/v1/events?types=sla.breached"
expect_eq "$(jq -c --arg d "$third" '[.items[] | select(.data.id == $d) | .data.sla | {clock, message, event}]' <<<"$BODY")" \
	'[{"clock":"reply","message":1,"event":"escalate"}]' "sla.breached names the reply clock"
call "$agent" GET "/v1/disputes/$id"
expect_eq "$(jq -r .state <<<"$BODY")" "escalated" "(its state SLA of 24 h passed too)"

# --- what a storefront reads ----------------------------------------------------------
call "$shop" GET "/v1/disputes/$id/messages"
expect_eq "$STATUS" "200" "the storefront reads the thread"
expect_eq "$(jq -r '[.items[] | (.n|tostring) + .direction] | join(" ")' <<<"$BODY")" \
	"1inbound 3inbound 4outbound 5inbound 6inbound" "without the internal note"
call "$auditor" GET "/v1/disputes/$id/messages"
expect_eq "$(jq -r '[.items[].direction] | join(" ")' <<<"$BODY")" \
	"inbound internal inbound outbound inbound inbound" "an auditor reads all"
call "$agent" GET "/v1/disputes/$id/messages?limit=2"
expect_eq "$(jq -r '([.items[].n | tostring] | join(" ")) + " next " + (.next_after|tostring)' <<<"$BODY")" "1 2 next 2" "a page"
call "$agent" GET "/v1/disputes/$id/messages?limit=2&after=2"
expect_eq "$(jq -r '[.items[].n | tostring] | join(" ")' <<<"$BODY")" "3 4" "the next page"
call "$agent" GET "/v1/disputes/$id/messages?after=-1"
expect_eq "$(problem_field)" "422 after" "after is a message number"
call "$agent" GET "/v1/disputes/$id/messages?limit=201"
expect_eq "$(problem_field)" "422 limit" "at most 200 a page"
call "$other" GET "/v1/disputes/$id/messages"
expect_eq "$STATUS" "404" "another storefront reads nothing"

call "$shop" GET "/v1/disputes/$id/history"
expect_eq "$(grep -c SECRET-NOTE <<<"$BODY" || true)" "0" "the storefront's history holds no internal note"
expect_eq "$(jq '[.events[] | select(.event == "message")] | length' <<<"$BODY")" "5" \
	"its message events but the note's"
expect_eq "$(jq '[.commits[] | select(.message | test("Redress-Visibility: internal"))] | length' <<<"$BODY")" "0" \
	"nor the note's commit"
call "$agent" GET "/v1/disputes/$id/history"
expect_eq "$(jq '[.commits[] | select(.message | test("Redress-Visibility: internal"))] | length' <<<"$BODY")" "1" \
	"an agent's history has the note's commit, marked"

call "$shop" GET "/v1/disputes/$id/export"
expect_eq "$STATUS" "200" "the storefront exports the dispute"
mkdir -p "$E2E_TMP/shop-export" "$E2E_TMP/audit-export"
tar -xzf "$RESPONSE_FILE" -C "$E2E_TMP/shop-export"
expect_eq "$(cd "$E2E_TMP/shop-export"/dispute-*/ && ls messages | tr '\n' ' ')" \
	"000001.json 000003.json 000004.json 000005.json 000006.json " "its archive holds the messages it may read"
expect_eq "$(grep -rl SECRET-NOTE "$E2E_TMP/shop-export" | wc -l)" "0" "and no word of the note"
expect_eq "$(jq -r .internal_notes_left_out "$E2E_TMP/shop-export"/dispute-*/timeline.json)" "true" \
	"and says that notes were left out"
call "$auditor" GET "/v1/disputes/$id/export"
tar -xzf "$RESPONSE_FILE" -C "$E2E_TMP/audit-export"
expect_eq "$(jq -r .direction "$E2E_TMP/audit-export"/dispute-*/messages/000002.json)" "internal" \
	"an auditor's archive holds the note"

call "$shop" GET "/v1/events?limit=500"
expect_eq "$(grep -c SECRET-NOTE <<<"$BODY" || true)" "0" "the storefront's feed holds no internal note"
expect_eq "$(jq -c '[.items[] | select(.type == "message.created") | .data.message | {n, direction, body}]' <<<"$BODY")" \
	'[{"n":4,"direction":"outbound","body":"Sorry to hear that. Could you send photos?"}]' \
	"message.created carries the outbound message only"

# --- the command line -----------------------------------------------------------------
expect_exit 0 rd message "$second" --direction internal --channel other --body "note from the CLI" --as agent:bob --json
expect_eq "$(jq -r '.author + " " + .role' <<<"$OUT")" "bob agent" "redress message"
expect_exit 0 rd messages "$second" --json
expect_eq "$(jq -r '[.items[].direction] | join(" ")' <<<"$OUT")" "inbound inbound internal" "redress messages"
expect_exit 3 rd message "$second" --direction inbound --channel chat --body ""
expect_has "$ERR" "body: must not be empty" "the CLI refuses as the API does"
expect_exit 2 rd message "$second" --direction inbound --channel chat
expect_has "$ERR" "give one of --body" "a body is needed"
printf 'from a file\nline two\n' >"$E2E_TMP/body.txt"
expect_exit 0 rd message "$second" --direction outbound --channel email --body-file "$E2E_TMP/body.txt" --json
expect_eq "$(jq -r .body <<<"$OUT")" "$(printf 'from a file\nline two')" "--body-file"

# an ended dispute awaits no reply
rd message "$second" --direction inbound --channel chat --body "Still waiting" --as agent:alice >/dev/null
expect_eq "$(rd show "$second" --json | jq -r '.reply_deadline.since_message')" "5" "(a clock runs)"
ev "$second" withdraw --as agent:alice
expect_eq "$(rd show "$second" --json | jq -r '.state + " " + (has("reply_deadline")|tostring)')" "closed false" \
	"closing the dispute stopped its clock"
rd message "$second" --direction inbound --channel chat --body "Hello?" --as agent:alice >/dev/null
expect_eq "$(rd show "$second" --json | jq -r 'has("reply_deadline")')" "false" \
	"and a message after the end starts none"

# --- rebuilt from the record (the embedded record's index) -------------------------------
stop_server api
expect_exit 0 rd audit verify --all
if ! on_postgres; then
	dump >"$E2E_TMP/before"
	expect_exit 0 rd reindex
	dump >"$E2E_TMP/after"
	expect_exit 0 diff "$E2E_TMP/before" "$E2E_TMP/after"
	expect_has "$(cat "$E2E_TMP/after")" "SECRET-NOTE" "(the dump holds the messages)"
	expect_has "$(cat "$E2E_TMP/after")" "reply_deadlines" "(and the reply clocks)"
fi

finish
