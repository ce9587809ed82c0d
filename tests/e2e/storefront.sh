#!/usr/bin/env bash
# The storefront's refund and discount flows end to end, against the real
# server with curl: the storefront opens a dispute, an agent investigates
# and makes an offer, the storefront accepts it, lists what it must pay
# (amount, currency, deadline; no other storefront sees it), confirms the
# payment with its reference and If-Match, and the payable is gone; an
# auditor reads the history and verifies it. Also: the order and pages of
# GET /v1/payables, its refusals, and the CLI's view of the same list.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
auditor=$(new_key auditor --name audit)
shop=$(new_key storefront --storefront acme-eu)
other=$(new_key storefront --storefront other-shop)

start_server api

# event KEY ID VERSION JSON: POST an event with If-Match "VERSION"
event() {
	call "$1" POST "/v1/disputes/$2/events" -H "If-Match: \"$3\"" \
		-H 'Content-Type: application/json' --data "$4"
}
# offer_id ID TYPE AMOUNT: the proposed offer of TYPE paying AMOUNT
offer_id() {
	call "$agent" GET "/v1/disputes/$1/offers"
	jq -r --arg type "$2" --argjson amount "$3" \
		'[.offers[] | select(.type == $type and .buyer_refund == $amount)][0].offer_id // ""' <<<"$BODY"
}
payables() { # KEY [QUERY] -> the dispute ids listed, space-separated
	call "$1" GET "/v1/payables${2:-}"
	jq -r '[.payables[].dispute_id] | join(" ")' <<<"$BODY"
}

# --- refund: the storefront opens, an agent offers, the storefront accepts ------
call "$shop" POST /v1/disputes -H 'Content-Type: application/json' \
	--data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "201" "the storefront opens a dispute"
refund=$(jq -r .id <<<"$BODY")
expect_eq "$(header ETag)" '"1"' "opened at version 1"

event "$agent" "$refund" 1 '{"event":"investigate","note":"asked for photos"}'
expect_eq "$STATUS" "200" "the agent investigates"
offer=$(offer_id "$refund" refund_keep_item 11500)
expect_eq "${offer#o-????????-}" "refund_keep_item-11500" "the full refund is proposed"
event "$agent" "$refund" 2 "{\"event\":\"make_offer\",\"fields\":{\"offer_id\":\"$offer\"}}"
expect_eq "$STATUS" "200" "the agent makes the offer"
expect_eq "$(payables "$shop")" "" "an offer not yet accepted is not payable"

event "$shop" "$refund" 3 '{"event":"accept_offer","note":"buyer agreed by e-mail"}'
expect_eq "$STATUS" "200" "the storefront accepts on the buyer's behalf"
expect_eq "$(jq -r .state <<<"$BODY")" "refund_pending" "refund branch"
expect_eq "$(header ETag)" '"4"' "version after acceptance"

call "$shop" GET /v1/payables
expect_eq "$STATUS" "200" "the storefront lists its payables"
expect_eq "$(header Content-Type)" "application/json" "payables are JSON"
expect_eq "$(jq -c '.payables[0] | {dispute_id, order_ref, storefront, state, action, amount, currency, offer_id, due_at, overdue, version, confirm_event, confirm_fields}' <<<"$BODY")" \
	"{\"dispute_id\":\"$refund\",\"order_ref\":\"ORD-1001\",\"storefront\":\"acme-eu\",\"state\":\"refund_pending\",\"action\":\"refund\",\"amount\":11500,\"currency\":\"USD\",\"offer_id\":\"$offer\",\"due_at\":\"2026-03-05T09:00:00Z\",\"overdue\":false,\"version\":4,\"confirm_event\":\"refund_issued\",\"confirm_fields\":[\"payment_ref\"]}" \
	"the payable: 115.00 USD within the refund SLA"
expect_eq "$(jq -r '(.payables | length | tostring) + " " + (.next_cursor | tostring)' <<<"$BODY")" "1 null" "one payable, one page"
expect_eq "$(jq -r '.payables[0] | keys | length' <<<"$BODY")" "13" "no member beyond the contract"

# --- no other storefront sees it ----------------------------------------------------
expect_eq "$(payables "$other")" "" "another storefront owes nothing"
expect_eq "$STATUS" "200" "another storefront lists its own (none)"
call "$other" GET "/v1/payables?storefront=acme-eu"
expect_eq "$(problem_field)" "403 storefront" "another storefront's payables are forbidden"
call "$other" GET "/v1/disputes/$refund"
expect_eq "$STATUS" "404" "another storefront's dispute is not found"
event "$other" "$refund" 4 '{"event":"refund_issued","fields":{"payment_ref":"FAKE"}}'
expect_eq "$STATUS" "404" "another storefront cannot confirm it"
expect_eq "$(payables "$agent" '?storefront=acme-eu')" "$refund" "an agent lists acme-eu's payables"
expect_eq "$(payables "$auditor")" "$refund" "an auditor lists every payable"

# --- confirm: refusals first, then the payment -------------------------------------
event "$shop" "$refund" 4 '{"event":"refund_issued"}'
expect_eq "$(jq -r '(.status|tostring) + " " + .guard' <<<"$BODY")" "409 fields" "a refund needs its payment reference"
event "$shop" "$refund" 3 '{"event":"refund_issued","fields":{"payment_ref":"PAY-1"}}'
expect_eq "$STATUS" "412" "a stale If-Match is refused"
event "$auditor" "$refund" 4 '{"event":"refund_issued","fields":{"payment_ref":"PAY-1"}}'
expect_eq "$STATUS" "403" "an auditor cannot confirm"
expect_eq "$(payables "$shop")" "$refund" "still owed after the refusals"
event "$shop" "$refund" 4 '{"event":"refund_issued","fields":{"payment_ref":"PAY-1"}}'
expect_eq "$STATUS" "200" "the storefront confirms the refund"
expect_eq "$(jq -r '.state + "/" + .outcome + " " + (.version|tostring)' <<<"$BODY")" "resolved/refunded 5" "resolved"
expect_eq "$(payables "$shop")" "" "the payable is gone"

# --- an auditor reads the history and verifies it ------------------------------------
call "$auditor" GET "/v1/disputes/$refund/history"
expect_eq "$STATUS" "200" "history"
expect_eq "$(jq -r '[.events[].event] | join(",")' <<<"$BODY")" \
	"opened,investigate,make_offer,accept_offer,refund_issued" "every step recorded"
expect_eq "$(jq -r '.events[-1] | .actor.role + ":" + .actor.name + " " + .fields.payment_ref' <<<"$BODY")" \
	"storefront:storefront PAY-1" "the payment is attributed to the storefront key"
expect_eq "$(jq -r '.events[2].actor.name' <<<"$BODY")" "alice" "the offer is attributed to the agent"
expect_eq "$(jq -r '.commits | length' <<<"$BODY")" "5" "one commit per change"
call "$auditor" GET "/v1/disputes/$refund/verify"
expect_eq "$(jq -r '.ok' <<<"$BODY")" "true" "the history verifies"

# --- discount: two disputes, paid oldest due first -------------------------------------
open_as_shop() { # ORDER_REF -> id
	jq --arg ref "$1" '.order_ref = $ref' "$REDRESS_SOURCE_DIR/examples/dispute.json" >"$E2E_TMP/open.json"
	call "$shop" POST /v1/disputes --data-binary "@$E2E_TMP/open.json"
	jq -r .id <<<"$BODY"
}
late=$(open_as_shop ORD-2001)
early=$(open_as_shop ORD-2002)
for id in "$late" "$early"; do
	event "$agent" "$id" 1 '{"event":"investigate"}'
	event "$agent" "$id" 2 "{\"event\":\"make_offer\",\"fields\":{\"offer_id\":\"$(offer_id "$id" partial_discount 2000)\"}}"
	expect_eq "$STATUS" "200" "a 20.00 discount is offered"
done
event "$shop" "$late" 3 '{"event":"accept_offer"}'
expect_eq "$(jq -r .state <<<"$BODY")" "discount_pending" "discount branch"
# the other was accepted two hours earlier, from the command line
REDRESS_NOW=2026-03-02T07:00:00Z rd event "$early" accept_offer --as storefront:acme-eu --if-version 3 >/dev/null

call "$shop" GET /v1/payables
expect_eq "$(jq -r '[.payables[] | .dispute_id + " " + .action + " " + (.amount|tostring) + " " + .due_at] | join(", ")' <<<"$BODY")" \
	"$early discount 2000 2026-03-05T07:00:00Z, $late discount 2000 2026-03-05T09:00:00Z" "oldest due first"
expect_eq "$(jq -r '[.payables[].confirm_event] | unique | join(",")' <<<"$BODY")" "discount_issued" "confirmed by discount_issued"
full=$(jq -c . <<<"$BODY")
expect_eq "$(rd payables --storefront acme-eu --json | jq -c .)" "$full" "the CLI lists the same payables"
expect_exit 0 rd payables
expect_has "$OUT" "20.00 USD" "the CLI shows the amount in the currency"

call "$shop" GET "/v1/payables?limit=1"
expect_eq "$(jq -r '.payables[0].dispute_id' <<<"$BODY")" "$early" "page one"
cursor=$(jq -r .next_cursor <<<"$BODY")
call "$shop" GET "/v1/payables?limit=1&cursor=$cursor"
expect_eq "$(jq -r '.payables[0].dispute_id + " " + (.next_cursor|tostring)' <<<"$BODY")" "$late null" "page two, the last"

# refusals of the list
call "" GET /v1/payables
expect_eq "$STATUS" "401" "payables need a key"
call "$shop" GET "/v1/payables?limit=0"
expect_eq "$(problem_field)" "422 limit" "bad limit"
call "$shop" GET "/v1/payables?cursor=nonsense!"
expect_eq "$(problem_field)" "422 cursor" "bad cursor"
call "$shop" GET "/v1/payables?state=refund_pending"
expect_eq "$(problem_field)" "422 state" "unknown parameter"
call "$shop" GET "/v1/payables?limit=1&limit=2"
expect_eq "$(problem_field)" "422 limit" "repeated parameter"
call "$agent" GET "/v1/payables?storefront=Not%20A%20Shop"
expect_eq "$(problem_field)" "422 storefront" "not a storefront name"
call "$shop" POST /v1/payables --data '{}'
expect_eq "$STATUS $(header Allow)" "405 GET" "payables are read-only"

for id in "$early" "$late"; do
	version=$(rd show "$id" --json | jq -r .version)
	event "$shop" "$id" "$version" '{"event":"discount_issued","fields":{"payment_ref":"PAY-'"$id"'"}}'
	expect_eq "$(jq -r '.state + "/" + .outcome' <<<"$BODY")" "resolved/discounted" "discount confirmed"
done
expect_eq "$(payables "$shop")" "" "nothing left to pay"
call "$auditor" GET "/v1/disputes/$late/history"
expect_eq "$(jq -r '[.events[].event] | join(",")' <<<"$BODY")" \
	"opened,investigate,make_offer,accept_offer,discount_issued" "discount history"
call "$auditor" GET "/v1/disputes/$early/verify"
expect_eq "$(jq -r '.ok' <<<"$BODY")" "true" "the discount verifies"

stop_server api
expect_eq "$STOP_CODE" "0" "the server stops cleanly"

finish
