#!/usr/bin/env bash
# A buyer's history through the real server: GET /v1/disputes/{id} counts
# the same storefront's other disputes of its buyer_ref opened in the last
# 365 days by reason, by outcome and the money refunded (paid refunds and
# discounts); a dispute older than that drops out as time moves
# (REDRESS_NOW); another storefront's are never counted; GET
# /v1/buyers/{buyer_ref}/disputes pages through them, scoped like every
# list; and a policy's buyer_history rule withholds refund without return
# from a buyer with too many refunds, saying so on every offer.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

# the shipped policy with the rule: more than 1 refund in 90 days
jq '. + {buyer_history: {window_days: 90, max_refunds: 1}}' \
	"$REDRESS_SOURCE_DIR/workflows/policy.json" >"$E2E_TMP/policy.json"
export REDRESS_POLICY="$E2E_TMP/policy.json"

rd init >/dev/null
agent=$(new_key agent --name alice)
shop=$(new_key storefront --storefront acme-eu)
other=$(new_key storefront --storefront other-shop)

refund() { # ID [STOREFRONT]: offer a refund without return, accept and pay it
	local shop=${2:-acme-eu}
	ev "$1" investigate
	ev "$1" make_offer --field offer_id="$(offer_for "$1" refund_keep_item)"
	ev "$1" accept_offer --as "storefront:$shop"
	ev "$1" refund_issued --as "storefront:$shop" --field payment_ref="PAY-$1"
}

# --- a year of one buyer (cust-77) in acme-eu ------------------------------------
export REDRESS_NOW=2025-03-05T09:00:00Z
old=$(open_dispute '.order_ref = "ORD-H1" | .reason = "not_received"')
refund "$old"
export REDRESS_NOW=2026-01-10T09:00:00Z
paid=$(open_dispute '.order_ref = "ORD-H2"')
refund "$paid"
export REDRESS_NOW=2026-01-11T09:00:00Z
gone=$(open_dispute '.order_ref = "ORD-H3" | .reason = "not_received"')
ev "$gone" withdraw
export REDRESS_NOW=2026-02-20T09:00:00Z
open4=$(open_dispute '.order_ref = "ORD-H4"')
export REDRESS_NOW=2026-03-02T09:00:00Z
subject=$(open_dispute '.order_ref = "ORD-H5" | .reason = "not_received"')
theirs=$(open_dispute '.order_ref = "ORD-X1" | .storefront = "other-shop"')
refund "$theirs" other-shop
stranger=$(open_dispute '.order_ref = "ORD-Y1" | .buyer_ref = "cust-88"')

start_server api --sweep-interval 0

history() { # KEY ID
	call "$1" GET "/v1/disputes/$2"
	jq -S -c .buyer_history <<<"$BODY"
}

expect_eq "$(history "$agent" "$subject")" \
	'{"buyer_ref":"cust-77","by_outcome":{"open":1,"refunded":2,"withdrawn":1},"by_reason":{"damaged":2,"not_received":2},"disputes":4,"refunded":[{"amount":23000,"currency":"USD"}],"truncated":false,"window_days":365}' \
	"the buyer's other disputes of the storefront in 365 days: by reason, outcome, money refunded"
expect_eq "$(history "$shop" "$subject")" "$(history "$agent" "$subject")" "the storefront reads the same"
call "$other" GET "/v1/disputes/$subject"
expect_eq "$STATUS" "404" "another storefront reads nothing of it"
expect_eq "$(history "$other" "$theirs" | jq -c '[.disputes, .refunded]')" '[0,[]]' \
	"the other storefront's dispute of the same buyer_ref counts none of acme-eu's"
expect_eq "$(history "$agent" "$stranger" | jq -c '[.buyer_ref, .disputes]')" '["cust-88",0]' "another buyer has none"
expect_eq "$(history "$agent" "$open4" | jq -c '[.disputes, .by_outcome.open]')" '[4,1]' \
	"each dispute counts the others, not itself"

# --- a buyer's disputes ------------------------------------------------------------
buyer() { # KEY QUERY
	call "$1" GET "/v1/buyers/cust-77/disputes$2"
}
buyer "$shop" ""
expect_eq "$(jq -c '[.items[].id]' <<<"$BODY")" \
	"$(jq -cn --arg a "$subject" --arg b "$open4" --arg c "$gone" --arg d "$paid" --arg e "$old" '[$a,$b,$c,$d,$e]')" \
	"a storefront lists its disputes of the buyer, newest first"
expect_eq "$(jq -c '[.next_cursor, .items[0].state, .items[0].buyer_ref]' <<<"$BODY")" '[null,"opened","cust-77"]' "as dispute documents"
buyer "$shop" "?limit=2"
expect_eq "$(jq -c '[.items[].id]' <<<"$BODY")" "$(jq -cn --arg a "$subject" --arg b "$open4" '[$a,$b]')" "a page of two"
cursor=$(jq -r .next_cursor <<<"$BODY")
buyer "$shop" "?limit=2&cursor=$cursor"
expect_eq "$(jq -c '[.items[].id]' <<<"$BODY")" "$(jq -cn --arg a "$gone" --arg b "$paid" '[$a,$b]')" "the next page"
cursor=$(jq -r .next_cursor <<<"$BODY")
buyer "$shop" "?limit=2&cursor=$cursor"
expect_eq "$(jq -c '[[.items[].id], .next_cursor]' <<<"$BODY")" "$(jq -cn --arg a "$old" '[[$a],null]')" "the last page"
buyer "$other" ""
expect_eq "$(jq -c '[.items[].id]' <<<"$BODY")" "$(jq -cn --arg a "$theirs" '[$a]')" "another storefront lists only its own"
buyer "$shop" "?storefront=other-shop"
expect_eq "$(problem_field)" "403 storefront" "a storefront names no other storefront"
buyer "$agent" ""
expect_eq "$(problem_field)" "422 storefront" "an agent names the storefront"
buyer "$agent" "?storefront=other-shop"
expect_eq "$(jq -c '[.items[].id]' <<<"$BODY")" "$(jq -cn --arg a "$theirs" '[$a]')" "and lists that storefront's"
buyer "$agent" "?storefront=acme-eu&limit=0"
expect_eq "$(problem_field)" "422 limit" "a bad limit"
buyer "$agent" "?storefront=acme-eu&cursor=garbage"
expect_eq "$(problem_field)" "422 cursor" "a bad cursor"
buyer "$agent" "?storefront=acme-eu&colour=red"
expect_eq "$(problem_field)" "422 colour" "an unknown parameter"
expect_exit 0 rd buyer cust-77 --storefront acme-eu --limit 4 --json
expect_eq "$(jq -c '[(.items | length), (.next_cursor != null), .items[0].id]' <<<"$OUT")" \
	"$(jq -cn --arg a "$subject" '[4,true,$a]')" "redress buyer pages the same list"
expect_exit 2 rd buyer cust-77
expect_has "$ERR" "--storefront" "and needs the storefront"
spaced=$(open_dispute '.order_ref = "ORD-S1" | .buyer_ref = "cust 77"')
call "$agent" GET "/v1/buyers/cust%2077/disputes?storefront=acme-eu"
expect_eq "$(jq -c '[.items[].id]' <<<"$BODY")" "$(jq -cn --arg a "$spaced" '[$a]')" "a buyer_ref percent-encoded in the path"
call "$agent" GET "/v1/buyers/nobody/disputes?storefront=acme-eu"
expect_eq "$BODY" '{"items":[],"next_cursor":null}' "a buyer without disputes"

# every buyer_ref a dispute may carry is addressable, percent-encoded in the path:
# '/' (even "/disputes" inside it), spaces and non-ASCII, the 128-byte maximum
uri() { jq -rn --arg s "$1" '$s | @uri'; }
by_ref() { # REF: the ids GET /v1/buyers/{REF}/disputes lists in acme-eu
	call "$agent" GET "/v1/buyers/$(uri "$1")/disputes?storefront=acme-eu"
	expect_eq "$STATUS" "200" "buyer $1"
	jq -c '[.items[] | [.id, .buyer_ref]]' <<<"$BODY"
}
long=$(printf 'b%.0s' $(seq 126))é   # 126 + 2 bytes: the limit of buyer_ref at opening
for ref in "acct/77" "acct/77/disputes" "/lead/and/trail/" "Jürgen Müller 東京 #1?x=2" "$long"; do
	id=$(open_dispute ".order_ref = \"ORD-R\" | .buyer_ref = $(jq -n --arg s "$ref" '$s')")
	[ -n "$id" ] || fail "a dispute of buyer_ref $ref"
	expect_eq "$(by_ref "$ref")" "$(jq -cn --arg a "$id" --arg r "$ref" '[[$a, $r]]')" \
		"buyer_ref $ref found through the route"
	expect_exit 0 rd buyer "$ref" --storefront acme-eu --json
	expect_eq "$(jq -c '[.items[].id]' <<<"$OUT")" "$(jq -cn --arg a "$id" '[$a]')" "redress buyer $ref"
done
expect_eq "$(printf %s "$long" | wc -c | tr -d ' ')" "128" "the longest buyer_ref is 128 bytes"
expect_eq "$(by_ref acct)" "[]" "a buyer_ref is the whole rest of the path, not its first segment"
expect_eq "$(by_ref 77/disputes)" "[]" "nor its last ones"
expect_exit 3 rd open - --as agent:alice --allow-duplicate --json \
	< <(jq --arg s "${long}x" '.buyer_ref = $s' "$REDRESS_SOURCE_DIR/examples/dispute.json")
ok # a 129-byte buyer_ref cannot be opened...
call "$agent" GET "/v1/buyers/$(uri "${long}x")/disputes?storefront=acme-eu"
expect_eq "$(problem_field)" "422 buyer_ref" "...nor asked for: 422 naming buyer_ref"
expect_has "$(jq -r .detail <<<"$BODY")" "at most 128 bytes" "saying the limit"
call "$agent" GET "/v1/buyers/cust%FF77/disputes?storefront=acme-eu"
expect_eq "$(problem_field)" "422 buyer_ref" "a buyer_ref that is not UTF-8 text"
call "$agent" GET "/v1/buyers//disputes?storefront=acme-eu"
expect_eq "$STATUS" "404" "an empty buyer_ref names no route"
call "$agent" GET "/v1/buyers/$(printf 'x%.0s' $(seq 513))/disputes?storefront=acme-eu"
expect_eq "$STATUS" "404" "nor a path far beyond any buyer_ref"
call "$agent" GET "/v1/buyers/acct%2F77"
expect_eq "$STATUS" "404" "nor a path without /disputes"
call "$agent" POST "/v1/buyers/acct%2F77/disputes?storefront=acme-eu" --data '{}'
expect_eq "$STATUS $(header Allow)" "405 GET" "another method: 405 naming GET"
call "$agent" GET "/v1/disputes/x%2F$spaced"
expect_eq "$STATUS" "404" "other routes' parameters still end at '/'"

# --- the policy rule: refund without return withheld above 1 refund in 90 days ----
call "$agent" GET "/v1/disputes/$subject/offers"
expect_eq "$(jq -c '[.offers[].type] | index("refund_keep_item") != null' <<<"$BODY")" "true" \
	"one refund in 90 days: refund without return still offered"
expect_eq "$(jq -c '[.offers[].explanation | test("withheld")] | any' <<<"$BODY")" "false" "and nothing said"
refund "$open4"
call "$agent" GET "/v1/disputes/$subject/offers"
expect_eq "$(jq -c '[.offers[].type]' <<<"$BODY")" '["reshipment"]' \
	"two refunds in 90 days: refund without return is withheld"
expect_has "$(jq -r '.offers[0].explanation' <<<"$BODY")" \
	"Buyer cust-77 had 2 refunds in the last 90 days; refund without return is withheld above 1." \
	"and the offer says why"
expect_has "$(rd offers "$subject" --json | jq -r '.offers[0].explanation')" "withheld above 1" "the command line too"
expect_exit 6 rd event "$subject" make_offer --field offer_id="o-00000000-refund_keep_item-11500"
expect_eq "$(history "$agent" "$subject" | jq -c '[.by_outcome, .refunded]')" \
	'[{"refunded":3,"withdrawn":1},[{"amount":34500,"currency":"USD"}]]' "the history counts the new refund"

# --- a year later: the oldest drops out -----------------------------------------------
stop_server api
export REDRESS_NOW=2026-03-10T09:00:00Z
start_server later --sweep-interval 0
expect_eq "$(history "$agent" "$subject" | jq -c '[.disputes, .by_reason, .refunded]')" \
	'[3,{"damaged":2,"not_received":1},[{"amount":23000,"currency":"USD"}]]' \
	"a dispute opened more than 365 days ago is no longer counted"

finish
