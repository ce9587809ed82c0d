#!/usr/bin/env bash
# Offer ids stay valid while the offer's terms and the inputs they come
# from do: an id read before an unrelated change (evidence, a note, an
# assignment) can still be made; ids look like o-<8 hex>-<type>-<amount>,
# the same for every reading of the same inputs, different for another
# dispute. An id of the earlier form, v<version>-<type>-<amount>, is still
# taken for the dispute's current version (for one release) and recorded
# in the new form; one of an older version is refused.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
start_server offers

open() { # ORDER -> id, investigated (version 2)
	local id
	call "$agent" POST /v1/disputes --data-binary @<(jq --arg o "$1" \
		'.order_ref = $o' "$REDRESS_SOURCE_DIR/examples/dispute.json")
	id=$(jq -r .id <<<"$BODY")
	call "$agent" POST "/v1/disputes/$id/events" --data '{"event":"investigate"}'
	echo "$id"
}
offer_of() { # ID TYPE AMOUNT -> the offer id proposed now
	call "$agent" GET "/v1/disputes/$1/offers"
	jq -r --arg t "$2" --argjson a "$3" '[.offers[] | select(.type == $t and
		(if $t == "reshipment" then .buyer_copay else .buyer_refund end) == $a)][0].offer_id' <<<"$BODY"
}
made() { # ID -> the id of the offer made, in the index
	record_sql \
		"SELECT offer_id FROM offers WHERE dispute_id = '$1' AND status = 'made'"
}
make() { # ID OFFER-ID
	call "$agent" POST "/v1/disputes/$1/events" \
		--data "{\"event\":\"make_offer\",\"fields\":{\"offer_id\":\"$2\"}}"
}

id=$(open ORD-O1)
offer=$(offer_of "$id" refund_keep_item 11500)
case "$offer" in
o-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-refund_keep_item-11500) ok ;;
*) fail "offer id form: $offer" ;;
esac
# an unrelated change: evidence uploaded, the version moves on
call "$agent" POST "/v1/disputes/$id/evidence?kind=note" --data-binary 'called the buyer'
expect_eq "$STATUS" "201" "evidence uploaded"
expect_eq "$(rd show "$id" --json | jq -r .version)" "3" "the upload is a change"
expect_eq "$(offer_of "$id" refund_keep_item 11500)" "$offer" "the same offer keeps its id"
make "$id" "$offer"
expect_eq "$STATUS" "200" "an offer read before the upload is made"
expect_eq "$(rd show "$id" --json | jq -r '.state')" "offer_pending" "the offer is pending"
expect_eq "$(made "$id")" "$offer" "recorded under its id"

# another dispute with the same figures: other ids
other=$(open ORD-O2)
expect_eq "$([ "$(offer_of "$other" refund_keep_item 11500)" != "$offer" ] && echo differs)" \
	"differs" "offer ids are the dispute's own"

# the earlier form, for the current version (2): made, recorded in the new form
new=$(offer_of "$other" partial_discount 2000)
make "$other" "v1-partial_discount-2000"
expect_eq "$(problem_field)" "409 offer_id" "an id of an older version is refused"
expect_has "$(jq -r .detail <<<"$BODY")" "redress offers" "the refusal says how to read the offers"
make "$other" "v2-partial_discount-2000"
expect_eq "$STATUS" "200" "an id of the earlier form for the current version is made"
expect_eq "$(made "$other")" "$new" "recorded under its id of the new form"
call "$agent" GET "/v1/disputes/$other/history"
expect_eq "$(jq -r '.events[-1].fields.offer_id' <<<"$BODY")" "$new" "the event records the new form"

stop_server offers
expect_eq "$STOP_CODE" "0" "the server stops cleanly"
finish
