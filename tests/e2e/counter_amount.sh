#!/usr/bin/env bash
# A counter-offer's amount is integer minor units, like every amount of the
# API: {"amount": 2500} is 25.00 USD. The decimal string of old clients
# ("25.00") still works for one release, answered with a Deprecation
# header; anything else (a fraction, a boolean) is 422 naming
# fields.amount. Whatever form came in, the event is recorded with the
# amount as a JSON integer of minor units, in git and in the index; the
# command line keeps taking --field amount=25.00.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
shop=$(new_key storefront --storefront acme-eu)
start_server amounts
GIT="git --git-dir=$REDRESS_DATA/evidence.git"

# open_offered ORDER: a dispute opened by the shop, investigated, with the
# 10.00 discount offered; prints its id
open_offered() {
	local id
	call "$shop" POST /v1/disputes --data-binary @<(jq --arg o "$1" \
		'.order_ref = $o' "$REDRESS_SOURCE_DIR/examples/dispute.json")
	id=$(jq -r .id <<<"$BODY")
	call "$agent" POST "/v1/disputes/$id/events" --data '{"event":"investigate"}'
	call "$agent" GET "/v1/disputes/$id/offers"
	offer=$(jq -r '[.offers[] | select(.type == "partial_discount" and .buyer_refund == 1000)][0].offer_id' <<<"$BODY")
	call "$agent" POST "/v1/disputes/$id/events" \
		--data "{\"event\":\"make_offer\",\"fields\":{\"offer_id\":\"$offer\"}}"
	[ "$STATUS" = 200 ] || fail "make_offer $offer on $id: $STATUS $BODY"
	echo "$id"
}
counter() { # ID AMOUNT-JSON
	call "$shop" POST "/v1/disputes/$1/events" \
		--data "{\"event\":\"counter_offer\",\"fields\":{\"amount\":$2}}"
}
# recorded ID SEQ: "<type in git> <amount in git> <type in the index> <amount in the index>"
recorded() {
	local file git_json
	mirror_wait "$1"
	file=$($GIT ls-tree --name-only "refs/disputes/$1" events/ |
		grep "^events/$(printf '%06d' "$2")-")
	git_json=$($GIT show "refs/disputes/$1:$file")
	printf '%s %s %s\n' "$(jq -r '.fields.amount | type' <<<"$git_json")" \
		"$(jq -r '.fields.amount' <<<"$git_json")" \
		"$(sqlite3 "$REDRESS_DATA/redress.db" "SELECT json_type(fields, '\$.amount') || ' ' || json_extract(fields, '\$.amount') FROM events WHERE dispute_id = '$1' AND seq = $2")"
}

id=$(open_offered ORD-A1)
expect_eq "$(state_of "$id")" "offer_pending/-" "an offer is pending"

# refusals: not a whole number of minor units; nothing changes
for bad in 25.5 true null '[2500]' '{"minor":2500}'; do
	counter "$id" "$bad"
	expect_eq "$(problem_field)" "422 fields.amount" "amount $bad is refused"
done
expect_has "$(jq -r .detail <<<"$BODY")" "2500 for 25.00 USD" "the refusal shows the form"
expect_eq "$(rd show "$id" --json | jq -r .version)" "3" "the refusals changed nothing"

# the API's form: an integer of minor units, without a deprecation
counter "$id" 2500
expect_eq "$STATUS" "200" "counter_offer {\"amount\": 2500}"
expect_eq "$(header Deprecation)" "" "the integer form is not deprecated"
expect_eq "$(state_of "$id")" "offer_pending/-" "25.00 is dear: the next rung is offered"
expect_eq "$(recorded "$id" 4)" "number 2500 integer 2500" "recorded as minor units"
call "$agent" GET "/v1/disputes/$id/history"
expect_eq "$(jq -c '[.events[] | select(.event == "counter_offer") | .fields.amount]' <<<"$BODY")" \
	"[2500]" "the history shows minor units"

# the deprecated form: decimal text in the currency, still taken
counter "$id" '"25.00"'
expect_eq "$STATUS" "200" "counter_offer {\"amount\": \"25.00\"}"
expect_has "$(header Deprecation)" "@" "the decimal string is deprecated (RFC 9745)"
expect_eq "$(state_of "$id")" "discount_pending/-" "25.00 within the next rung is accepted"
expect_eq "$(recorded "$id" 5)" "number 2500 integer 2500" "the decimal string is recorded as minor units"

# an amount too small to be a discount of this dispute: 0.01 USD is 1
id=$(open_offered ORD-A2)
counter "$id" 1
expect_eq "$STATUS" "200" "counter_offer {\"amount\": 1}"
expect_eq "$(recorded "$id" 4)" "number 1 integer 1" "1 is one cent"
expect_eq "$(state_of "$id")" "discount_pending/-" "one cent costs less: accepted"

# the command line keeps its decimal convenience; minor units are recorded
id=$(open_offered ORD-A3)
ev "$id" counter_offer --field amount=25.00 --as storefront:acme-eu
expect_eq "$(recorded "$id" 4)" "number 2500 integer 2500" "the CLI's 25.00 is recorded as 2500"
expect_exit 0 rd audit verify "$id"

stop_server amounts
expect_eq "$STOP_CODE" "0" "the server stops cleanly"
finish
