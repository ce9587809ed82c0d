#!/usr/bin/env bash
# Webhooks end to end, against the real server and a real receiver on
# loopback that checks every signature with the standardwebhooks package
# from npm (tests/e2e/webhook.bash), not with redress's code: endpoints and
# who may manage them; the storefront flow's events in order, each signed
# and in dispute-version order; the feed of the same events and its
# scoping; a 500 then 200 retried with the same webhook-id; 410 disabling
# the endpoint; a rotation signing with both secrets; a server killed with
# the delivery leased delivers it after the restart; and /metrics.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"
. "$(dirname "$0")/webhook.bash"

rd init >/dev/null
admin=$(new_key admin --name root)
agent=$(new_key agent --name alice)
auditor=$(new_key auditor --name audit)
shop=$(new_key storefront --storefront acme-eu)
other=$(new_key storefront --storefront other-shop)

start_receiver A
start_receiver B
# a killed sender's lease runs out after 3 s instead of a minute
export REDRESS_TEST_WEBHOOK_LEASE_S=3
start_server api --webhook-allow-http --webhook-allow-private

# register KEY URL EVENTS-JSON: POST an endpoint; its id and secret in
# $EP_ID and $EP_SECRET
register() {
	call "$1" POST /v1/webhook-endpoints -H 'Content-Type: application/json' \
		--data "$(jq -cn --arg url "$2" --argjson events "$3" '{url: $url, events: $events}')"
	EP_ID=$(jq -r '.id // empty' <<<"$BODY")
	EP_SECRET=$(jq -r '.secret // empty' <<<"$BODY")
}
# event KEY ID JSON: POST an event that must succeed
event() {
	call "$1" POST "/v1/disputes/$2/events" -H 'Content-Type: application/json' --data "$3"
	expect_eq "$STATUS" "200" "event $(jq -r .event <<<"$3") on $2"
}
# types NAME DISPUTE: the event types the receiver got for a dispute, in order
types() {
	receiver_log "$1" | jq -r --arg d "$2" '[.[] | select(.data_id == $d) | .type] | join(" ")'
}

# --- endpoints: who may manage them, and what they may say ---------------------
for key in "$agent" "$auditor"; do
	register "$key" "$RECEIVER_URL_A/a" '["*"]'
	expect_eq "$STATUS" "403" "only storefronts and admins manage endpoints"
done
register "$shop" "$RECEIVER_URL_A/a" '["*"]'
expect_eq "$STATUS" "201" "a storefront registers an endpoint"
expect_eq "$(header Location)" "/v1/webhook-endpoints/$EP_ID" "its location"
expect_eq "${EP_SECRET:0:6}" "whsec_" "its signing secret is shown"
expect_eq "$(jq -r '[.storefront, .enabled, (.events | join(","))] | join(" ")' <<<"$BODY")" \
	"acme-eu true *" "for its own storefront, enabled, every event"
shop_ep=$EP_ID
shop_secret=$EP_SECRET
register "$other" "$RECEIVER_URL_B/b" '["dispute.opened", "payment.due"]'
expect_eq "$STATUS" "201" "another storefront registers its own"
other_ep=$EP_ID
receiver_secrets A "$shop_secret"
receiver_secrets B "$EP_SECRET"

call "$shop" GET /v1/webhook-endpoints
expect_eq "$(jq -r '[.items[].id] | join(" ")' <<<"$BODY")" "$shop_ep" "a storefront lists its own endpoints only"
expect_eq "$(jq -r '.items[0] | has("secret")' <<<"$BODY")" "false" "a listing never shows the secret"
call "$shop" GET "/v1/webhook-endpoints/$other_ep"
expect_eq "$STATUS" "404" "another storefront's endpoint does not exist for it"
call "$admin" GET /v1/webhook-endpoints
expect_eq "$(jq '.items | length' <<<"$BODY")" "2" "an admin sees every endpoint"

register "$shop" "$RECEIVER_URL_A/x" '["offer.accepted", "no.such"]'
expect_eq "$(problem_field)" "422 events" "an unknown event type is refused"
register "$shop" "$RECEIVER_URL_A/x" '["*", "offer.made"]'
expect_eq "$(problem_field)" "422 events" "* comes alone"
register "$shop" "ftp://example.com/x" '["*"]'
expect_eq "$(problem_field)" "422 url" "a URL that is not http(s) is refused"
call "$shop" POST /v1/webhook-endpoints --data '{"url": "https://example.com/", "events": ["*"], "secret": "mine"}'
expect_eq "$(problem_field)" "422 secret" "an unknown field is refused"
call "$shop" POST /v1/webhook-endpoints --data '{"url": "https://example.com/", "events": ["*"], "storefront": "other-shop"}'
expect_eq "$STATUS" "403" "a storefront registers endpoints for itself only"
call "$shop" PATCH "/v1/webhook-endpoints/$shop_ep" --data '{"description": "checkout refunds"}'
expect_eq "$(jq -r .description <<<"$BODY")" "checkout refunds" "PATCH changes the description"

# --- a registration sent again under its Idempotency-Key -----------------------
doc='{"url": "https://shop.example/idem", "events": ["payment.due"]}'
call "$shop" POST /v1/webhook-endpoints -H 'Idempotency-Key: reg-1' --data "$doc"
expect_eq "$STATUS" "201" "a registration under an Idempotency-Key"
first=$BODY
call "$shop" POST /v1/webhook-endpoints -H 'Idempotency-Key: reg-1' --data "$doc"
expect_eq "$STATUS $(header Idempotent-Replayed)" "201 true" "sent again, it is answered again"
expect_eq "$(jq -c '{id, secret}' <<<"$BODY")" "$(jq -c '{id, secret}' <<<"$first")" "with the same endpoint and secret"
call "$shop" POST /v1/webhook-endpoints -H 'Idempotency-Key: reg-1' \
	--data '{"url": "https://shop.example/other", "events": ["*"]}'
expect_eq "$(problem_field)" "422 Idempotency-Key" "the same key with another request is refused"
expect_eq "$(jq -r '.type + " " + .title' <<<"$BODY") $(header Content-Type)" \
	"https://redress.dev/problems/idempotency_key_reused Idempotency-Key reused application/problem+json" \
	"with the problem the dispute routes answer"
expect_has "$(jq -r .detail <<<"$BODY")" "reg-1" "naming the key"
call "$shop" GET /v1/webhook-endpoints
expect_eq "$(jq '[.items[] | select(.url | startswith("https://shop.example/"))] | length' <<<"$BODY")" "1" \
	"one endpoint was made"
call "$shop" DELETE "/v1/webhook-endpoints/$(jq -r .id <<<"$first")"
expect_eq "$STATUS" "204" "removed again"

# --- the storefront's flow: every event, in order, signed ----------------------
call "$shop" POST /v1/disputes -H 'Content-Type: application/json' \
	--data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "201" "the storefront opens a dispute"
d1=$(jq -r .id <<<"$BODY")
event "$agent" "$d1" '{"event": "investigate"}'
call "$agent" GET "/v1/disputes/$d1/offers"
offer=$(jq -r '[.offers[] | select(.type == "refund_keep_item")][0].offer_id' <<<"$BODY")
event "$agent" "$d1" "{\"event\": \"make_offer\", \"fields\": {\"offer_id\": \"$offer\"}}"
event "$shop" "$d1" '{"event": "accept_offer"}'
event "$shop" "$d1" '{"event": "refund_issued", "fields": {"payment_ref": "re_123"}}'
flow="dispute.opened dispute.state_changed offer.made dispute.state_changed offer.accepted dispute.state_changed payment.due dispute.state_changed dispute.resolved"
wait_receiver A 9 20 /a
expect_eq "$(types A "$d1")" "$flow" "the flow's events arrive in order"
log=$(receiver_log A)
expect_eq "$(jq '[.[] | select(.verified_all | not)] | length' <<<"$log")" "0" "every delivery verifies with standardwebhooks"
expect_eq "$(jq -r '[.[] | .data_version] | . == sort' <<<"$log")" "true" "in dispute-version order"
expect_eq "$(jq -r '[.[] | .headers["webhook-id"] | test("^evt_[0-9A-Z]{26}$")] | all' <<<"$log")" "true" "each webhook-id is an event id"
expect_eq "$(jq -r '[.[] | .headers["content-type"]] | unique | join(" ")' <<<"$log")" "application/json" "sent as JSON"
expect_eq "$(jq -c '[.[] | select(.type == "payment.due")][0].body.data.payment | {action, amount, currency, offer_id, confirm_event, confirm_fields}' <<<"$log")" \
	"{\"action\":\"refund\",\"amount\":11500,\"currency\":\"USD\",\"offer_id\":\"$offer\",\"confirm_event\":\"refund_issued\",\"confirm_fields\":[\"payment_ref\"]}" \
	"payment.due says what to pay and how to confirm it"
expect_eq "$(jq -r '[.[] | select(.type == "offer.accepted")][0].body.data | [.state, .version, .offer.status, .offer.offer_id] | join(" ")' <<<"$log")" \
	"refund_pending 4 accepted $offer" "offer.accepted carries the dispute as it became and the offer"
expect_eq "$(jq -r '[.[] | select(.type == "dispute.resolved")][0].body.data | [.previous_state, .event, .outcome] | join(" ")' <<<"$log")" \
	"refund_pending refund_issued refunded" "dispute.resolved says from where and by what"
call "$shop" GET "/v1/disputes/$d1"
# (but buyer_history, computed at each read: payloads keep the dispute as recorded)
expect_eq "$(jq -c 'del(.version, .buyer_history)' <<<"$BODY")" \
	"$(jq -c '[.[] | select(.type == "dispute.resolved")][0].body.data | del(.previous_state, .event, .version)' <<<"$log")" \
	"an event's data is the dispute as GET answers it"
expect_eq "$(jq -c '[.[].body.data | has("buyer_history")] | any' <<<"$log")" "false" "no payload carries the buyer's history"

# --- scoping: another storefront receives nothing of it -------------------------
call "$other" POST /v1/disputes -H 'Content-Type: application/json' \
	--data "$(jq -c '.storefront = "other-shop" | .order_ref = "O-77"' "$REDRESS_SOURCE_DIR/examples/dispute.json")"
d2=$(jq -r .id <<<"$BODY")
wait_receiver B 1 20 /b
sleep 1
expect_eq "$(receiver_log B | jq -r '[.[] | .data_id] | unique | join(" ")')" "$d2" "a storefront never receives another storefront's events"
expect_eq "$(types B "$d2")" "dispute.opened" "and only the types it asked for"
expect_eq "$(types A "$d2")" "" "nor does the first receive the second's"

# --- the feed: the same events, scoped the same way ----------------------------
call "$shop" GET /v1/events
expect_eq "$STATUS" "200" "the storefront reads the feed"
expect_eq "$(jq -r '[.items[] | .id] | join(" ")' <<<"$BODY")" \
	"$(receiver_log A | jq -r '[.[] | .headers["webhook-id"]] | join(" ")')" \
	"the feed holds the events delivered, in the same order, with the same ids"
cursor=$(jq -r .next_cursor <<<"$BODY")
expect_eq "$(jq -r '.items[0] | keys | join(" ")' <<<"$BODY")" "data id timestamp type" "a feed item's fields"
call "$shop" GET "/v1/events?after=$cursor"
expect_eq "$(jq -r '.items | length' <<<"$BODY") $(jq -r .next_cursor <<<"$BODY")" "0 $cursor" "nothing after the end; the cursor stays"
walked=""
after=""
for _ in $(seq 20); do
	call "$shop" GET "/v1/events?limit=2${after:+&after=$after}"
	[ "$(jq '.items | length' <<<"$BODY")" = 0 ] && break
	walked="$walked $(jq -r '[.items[].type] | join(" ")' <<<"$BODY")"
	after=$(jq -r .next_cursor <<<"$BODY")
done
expect_eq "${walked# }" "$flow" "pages of 2 walk the whole feed"
call "$shop" GET "/v1/events?types=payment.due,dispute.resolved"
expect_eq "$(jq -r '[.items[].type] | join(" ")' <<<"$BODY")" "payment.due dispute.resolved" "types filters the feed"
call "$other" GET /v1/events
expect_eq "$(jq -r '[.items[].data.storefront] | unique | join(" ")' <<<"$BODY")" "other-shop" "another storefront's feed holds its own events only"
call "$auditor" GET "/v1/events?types=dispute.opened"
expect_eq "$(jq '.items | length' <<<"$BODY")" "2" "an auditor reads every storefront's events"
call "$shop" GET "/v1/events?after=garbage"
expect_eq "$(problem_field)" "422 after" "a cursor that is not one is refused"
call "$shop" GET "/v1/events?types=dispute.opened,nope"
expect_eq "$(problem_field)" "422 types" "an unknown type is refused"
# the list is read item by item: each mistake named as such
for bad in 'dispute.opened,|"dispute.opened," ends with a comma' \
	'dispute.opened,,offer.made|"dispute.opened,,offer.made" is not a comma-separated list of event types' \
	',offer.made|",offer.made" is not a comma-separated list of event types' \
	'offer.made,dispute.opened,offer.made|"offer.made" is named twice'; do
	call "$shop" GET "/v1/events?types=${bad%%|*}"
	expect_eq "$(problem_field) $(jq -r .detail <<<"$BODY")" "422 types types: ${bad#*|}" "types=${bad%%|*} is refused"
done

# --- a receiver answering 500, then 200: the retry, with the same webhook-id ---
receiver_reset A
receiver_script A /a 500 200
rd open "$REDRESS_SOURCE_DIR/examples/dispute.json" --as agent:alice --allow-duplicate >/dev/null
wait_receiver A 2 30 /a
log=$(receiver_log A)
expect_eq "$(jq -r '[.[0:2][] | .status] | join(" ")' <<<"$log")" "500 200" "the 500 is tried again"
expect_eq "$(jq -r '.[0].headers["webhook-id"] == .[1].headers["webhook-id"]' <<<"$log")" "true" "with the same webhook-id"
retried=$(jq -r '.[0].headers["webhook-id"]' <<<"$log")
call "$shop" GET "/v1/webhook-endpoints/$shop_ep/deliveries?limit=100"
expect_eq "$(jq -r --arg e "$retried" '.items[] | select(.event_id == $e) | [.status, .attempt_count, ([.attempts[].status_code] | join(","))] | join(" ")' <<<"$BODY")" \
	"delivered 2 200,500" "the delivery log shows both attempts, newest first"
expect_eq "$(jq -r --arg e "$retried" '.items[] | select(.event_id == $e) | .attempts[1] | [.answer != null, .latency_ms >= 0, .next_attempt_at != null] | all' <<<"$BODY")" \
	"true" "an attempt logs its answer, latency and next try"
delivery=$(jq -r --arg e "$retried" '.items[] | select(.event_id == $e) | .id' <<<"$BODY")
call "$shop" POST "/v1/webhook-endpoints/$shop_ep/deliveries/$delivery/retry"
expect_eq "$STATUS $(jq -r .status <<<"$BODY")" "202 pending" "a delivery is sent again on request"
wait_receiver A 3 20 /a
expect_eq "$(receiver_log A | jq -r '.[-1].headers["webhook-id"]')" "$retried" "redelivered with its own id"

# --- a rotation: both secrets sign for a while ---------------------------------
call "$shop" POST "/v1/webhook-endpoints/$shop_ep/rotate-secret"
expect_eq "$STATUS" "200" "the secret is rotated"
new_secret=$(jq -r .secret <<<"$BODY")
expect_eq "$([ "$new_secret" != "$shop_secret" ] && [ "${new_secret:0:6}" = whsec_ ] && echo new)" "new" "a new secret is shown"
expect_eq "$(jq -r '.previous_secret_expires_at != null' <<<"$BODY")" "true" "the old one's expiry is shown"
receiver_reset A
receiver_secrets A "$shop_secret" "$new_secret"
d3=$(rd open "$REDRESS_SOURCE_DIR/examples/dispute.json" --as agent:alice --allow-duplicate --json | jq -r .id)
wait_receiver A 1 20 /a
expect_eq "$(receiver_log A | jq -c '[.[] | select(.data_id == "'"$d3"'")][0] | [.verified, (.headers["webhook-signature"] | split(" ") | length)]')" \
	"[[true,true],2]" "during the overlap each delivery verifies with the old and the new secret"
# rotated again at once (say, its answer was lost): the oldest still signs
call "$shop" POST "/v1/webhook-endpoints/$shop_ep/rotate-secret"
newer_secret=$(jq -r .secret <<<"$BODY")
receiver_reset A
receiver_secrets A "$shop_secret" "$newer_secret" "$new_secret"
d3b=$(rd open "$REDRESS_SOURCE_DIR/examples/dispute.json" --as agent:alice --allow-duplicate --json | jq -r .id)
wait_receiver A 1 20 /a
expect_eq "$(receiver_log A | jq -c '[.[] | select(.data_id == "'"$d3b"'")][0].verified')" "[true,true,false]" \
	"rotated twice, the oldest and the newest sign, the one in between no more"
new_secret=$newer_secret

# --- killed with a delivery leased: delivered after the restart, same id ------
stop_server api
receiver_reset A
receiver_secrets A "$new_secret"
REDRESS_TEST_CRASH=webhook-leased launch_server api --webhook-allow-http --webhook-allow-private
await_server api
d4=$(rd open "$REDRESS_SOURCE_DIR/examples/dispute.json" --as agent:alice --allow-duplicate --json | jq -r .id)
wait_server api 20
expect_eq "$STOP_CODE" "134" "the server dies with the delivery leased (abort at webhook-leased)"
expect_eq "$(receiver_log A | jq 'length')" "0" "nothing was sent"
start_server api --webhook-allow-http --webhook-allow-private
wait_receiver A 1 30 /a
expect_eq "$(receiver_log A | jq -r '.[0] | [.data_id, .type, .verified_all] | join(" ")')" "$d4 dispute.opened true" "the event is delivered after the restart"
call "$shop" GET "/v1/events?types=dispute.opened"
expect_eq "$(receiver_log A | jq -r '.[0].headers["webhook-id"]')" "$(jq -r --arg d "$d4" '.items[] | select(.data.id == $d) | .id' <<<"$BODY")" "with the webhook-id the feed shows"

# --- SIGKILL while a delivery is under way: sent again after the restart -------
# the receiver holds its answer 3 s; the server is killed meanwhile (or,
# on a slow machine, before it sent: then it sends after the restart)
receiver_reset A
receiver_script A /a 200@3000
d6=$(rd open "$REDRESS_SOURCE_DIR/examples/dispute.json" --as agent:alice --allow-duplicate --json | jq -r .id)
sleep 1.5
stop_server api KILL
expect_eq "$STOP_CODE" "137" "the server is killed with SIGKILL"
start_server api --webhook-allow-http --webhook-allow-private
wait_receiver A 2 30 /a || true
call "$shop" GET "/v1/events?types=dispute.opened"
evt=$(jq -r --arg d "$d6" '.items[] | select(.data.id == $d) | .id' <<<"$BODY")
expect_eq "$(receiver_log A | jq -r --arg e "$evt" '[.[] | select(.headers["webhook-id"] == $e and .status == 200)] | length >= 1')" \
	"true" "the event is delivered after the kill, with its webhook-id"
for _ in $(seq 100); do
	call "$shop" GET "/v1/webhook-endpoints/$shop_ep/deliveries?limit=5"
	[ "$(jq -r --arg e "$evt" '.items[] | select(.event_id == $e) | .status' <<<"$BODY")" = delivered ] && break
	sleep 0.1
done
expect_eq "$(jq -r --arg e "$evt" '.items[] | select(.event_id == $e) | .status' <<<"$BODY")" "delivered" \
	"and the delivery log says so"

# --- 410 Gone disables the endpoint --------------------------------------------
receiver_script A /a 410
d5=$(rd open "$REDRESS_SOURCE_DIR/examples/dispute.json" --as agent:alice --allow-duplicate --json | jq -r .id)
for _ in $(seq 100); do
	call "$shop" GET "/v1/webhook-endpoints/$shop_ep"
	[ "$(jq -r .enabled <<<"$BODY")" = false ] && break
	sleep 0.2
done
expect_eq "$(jq -r .enabled <<<"$BODY")" "false" "410 disables the endpoint"
expect_has "$(jq -r .disabled_reason <<<"$BODY")" "410" "and says why"
call "$shop" PATCH "/v1/webhook-endpoints/$shop_ep" --data '{"enabled": true}'
expect_eq "$(jq -r '[.enabled, .disabled_reason] | join(" ")' <<<"$BODY")" "true " "it can be enabled again"

# --- evidence.added and sla.breached -------------------------------------------
add_evidence "$d2" photo
call "$other" GET "/v1/events?types=evidence.added"
expect_eq "$(jq -r '.items[0].data | [.id, .evidence.n, .evidence.kind] | join(" ")' <<<"$BODY")" "$d2 1 photo" \
	"evidence.added carries the evidence"
REDRESS_NOW=2026-03-04T09:00:00Z rd sweep >/dev/null
call "$other" GET "/v1/events?types=sla.breached,dispute.state_changed"
expect_eq "$(jq -c '[.items[] | select(.data.id == "'"$d2"'") | [.type, .data.state, .data.sla.state // .data.previous_state]]' <<<"$BODY")" \
	'[["dispute.state_changed","escalated","opened"],["sla.breached","escalated","opened"]]' \
	"a deadline that passed tells sla.breached with the move it caused"

# --- /metrics ------------------------------------------------------------------
call "$admin" GET /metrics
expect_has "$BODY" 'redress_webhook_deliveries_total{outcome="delivered"}' "/metrics counts deliveries by outcome"
expect_eq "$(grep -c '^redress_webhook_oldest_pending_age_seconds [0-9]*$' <<<"$BODY")" "1" "and the oldest undelivered event's age"

# --- delete --------------------------------------------------------------------
call "$other" DELETE "/v1/webhook-endpoints/$shop_ep"
expect_eq "$STATUS" "404" "a storefront cannot remove another's endpoint"
call "$shop" DELETE "/v1/webhook-endpoints/$shop_ep"
expect_eq "$STATUS" "204" "a storefront removes its endpoint"
call "$shop" GET "/v1/webhook-endpoints/$shop_ep"
expect_eq "$STATUS" "404" "gone"

stop_server api
expect_eq "$STOP_CODE" "0" "the server stops cleanly"
finish
