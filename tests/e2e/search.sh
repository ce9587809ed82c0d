#!/usr/bin/env bash
# Finding disputes through the real server and the CLI: the exact filters
# (order_ref, buyer_ref, sku), updated_since with REDRESS_NOW, assignee=me,
# and q, words anywhere in a dispute's text, the best match first with its
# rank, through keyset pages; combined with state and storefront; a
# storefront key never finds another storefront's dispute, and nobody finds
# a dispute by words only an internal note holds; query syntax in q is read
# as words, never as syntax, and never fails the server; bad parameters are
# refused naming themselves; a reindex keeps the index whole.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
alice=$(new_key agent --name alice)
bob=$(new_key agent --name bob)
shop=$(new_key storefront --storefront acme-eu)
other=$(new_key storefront --storefront other-shop)

# opened a second apart, so that newest first is a known order;
# best: "kettle" in a title, the description and the order; weak: once, in
# a long message; four more disputes without the word, so that it is rare
kettle=$(REDRESS_NOW=2026-03-02T09:00:01Z open_dispute '.order_ref = "ORD-KETTLE-1" | .buyer_ref = "cust-9"
	| .description = "The kettle arrived with a cracked kettle lid"
	| .items = [{"sku": "KTL-7", "title": "Blue enamel kettle", "quantity": 1, "unit_price": 4000}]')
weak=$(REDRESS_NOW=2026-03-02T09:00:02Z open_dispute '.order_ref = "ORD-2002" | .description = "Parcel never came"')
rd message "$weak" --direction inbound --channel email --as agent:alice \
	--body "Hello, I ordered several things for the kitchen, among them a kettle, and the whole parcel is still missing after three weeks of waiting." >/dev/null
plain=$(REDRESS_NOW=2026-03-02T09:00:03Z open_dispute '.order_ref = "ORD-3003" | .buyer_ref = "cust-9"')
accent=$(REDRESS_NOW=2026-03-02T09:00:04Z open_dispute '.order_ref = "ORD-4004" | .description = "Crème brûlée torch sent twice"')
foreign=$(REDRESS_NOW=2026-03-02T09:00:05Z open_dispute '.order_ref = "ORD-5005" | .storefront = "other-shop"
	| .description = "A walrus figurine, shattered"
	| .items = [{"sku": "KTL-7", "title": "Walrus", "quantity": 1, "unit_price": 900}]')
filler=$(REDRESS_NOW=2026-03-02T09:00:06Z open_dispute '.order_ref = "ORD-6006"')
# words only in internal notes, on the storefront's dispute and the other's
rd message "$kettle" --direction internal --channel other --as agent:alice \
	--body "Buyer may be abusing refunds: zebrafish" >/dev/null
rd message "$foreign" --direction internal --channel other --as agent:alice \
	--body "zebrafish again" >/dev/null
# three days later alice takes the kettle dispute (investigate assigns)
REDRESS_NOW=2026-03-05T10:00:00Z ev "$kettle" investigate --as agent:alice

start_server api --sweep-interval 0

ids() { jq -r '[.disputes[].id] | join(" ")' <<<"$BODY"; }
list() { # KEY QUERY...: GET /v1/disputes with each QUERY url-encoded
	local key=$1
	shift
	local args=()
	for p in "$@"; do args+=(--data-urlencode "$p"); done
	call "$key" GET "/v1/disputes" -G "${args[@]}"
}

# --- exact filters ----------------------------------------------------------------
list "$alice" order_ref=ORD-2002
expect_eq "$STATUS $(ids)" "200 $weak" "order_ref"
list "$alice" order_ref=ord-2002
expect_eq "$(ids)" "" "order_ref is exact (case too)"
list "$alice" buyer_ref=cust-9
expect_eq "$(ids)" "$plain $kettle" "buyer_ref, newest first"
list "$alice" buyer_ref=cust-9 storefront=acme-eu limit=1
expect_eq "$(ids)" "$plain" "buyer_ref with the storefront, a page of one"
list "$alice" buyer_ref=cust-9 storefront=acme-eu limit=1 "cursor=$(jq -r .next_cursor <<<"$BODY")"
expect_eq "$(ids) $(jq -r .next_cursor <<<"$BODY")" "$kettle null" "and its second page"
list "$alice" sku=KTL-7
expect_eq "$(ids)" "$foreign $kettle" "sku: an agent sees every storefront's"
list "$shop" sku=KTL-7
expect_eq "$(ids)" "$kettle" "a storefront only its own"
list "$alice" sku=KTL
expect_eq "$(ids)" "" "sku is exact"
list "$alice" sku=KTL-7 state=opened
expect_eq "$(ids)" "$foreign" "sku with state"
list "$alice" updated_since=2026-03-04T00:00:00Z
expect_eq "$(ids)" "$kettle" "updated_since: only the dispute changed later"
list "$alice" updated_since=2026-03-02T09:00:00Z
expect_eq "$(jq '.disputes | length' <<<"$BODY")" "6" "updated_since is inclusive"
list "$alice" assignee=me
expect_eq "$(ids)" "$kettle" "assignee=me: the calling key's name"
list "$bob" assignee=me
expect_eq "$STATUS $(ids)" "200 " "bob has none"
list "$bob" assignee=alice
expect_eq "$(ids)" "$kettle" "assignee=NAME still works"

# --- ranked words -----------------------------------------------------------------
list "$alice" q=kettle
expect_eq "$STATUS $(ids)" "200 $kettle $weak" "the better match first"
best=$(jq '.disputes[0].search.rank' <<<"$BODY")
second=$(jq '.disputes[1].search.rank' <<<"$BODY")
if [ "$best" -gt "$second" ] && [ "$second" -gt 0 ]; then ok; else
	fail "ranks should be integers, the first higher: $best, $second"; fi
list "$alice" q=KETTLE
expect_eq "$(ids)" "$kettle $weak" "case does not matter"
list "$alice" "q=kitchen kettle"
expect_eq "$(ids)" "$weak" "every word must be there"
list "$alice" q=ord-2002
expect_eq "$(ids)" "$weak" "an order reference is words too"
list "$alice" q=ktl-7
expect_eq "$(ids)" "$foreign $kettle" "an item's SKU"
list "$alice" q=enamel
expect_eq "$(ids)" "$kettle" "an item's title"
list "$alice" "q=creme brulee"
expect_eq "$(ids)" "$accent" "accents need not be typed"
list "$alice" q=kettle state=investigating
expect_eq "$(ids)" "$kettle" "with a state"
list "$alice" q=kettle storefront=other-shop
expect_eq "$(ids)" "" "with a storefront"
list "$alice" q=kettle limit=1
expect_eq "$(ids)" "$kettle" "first page of one"
cursor=$(jq -r .next_cursor <<<"$BODY")
list "$alice" q=kettle limit=1 "cursor=$cursor"
expect_eq "$(ids) $(jq -r .next_cursor <<<"$BODY")" "$weak null" "second and last page"
expect_eq "$(jq '.disputes[0].search.rank' <<<"$BODY")" "$second" "the same rank on its page"
list "$alice" order_ref=ORD-2002
expect_eq "$(jq '.disputes[0] | has("search")' <<<"$BODY")" "false" "no search member without q"

# --- scoping and internal notes ---------------------------------------------------
list "$alice" q=walrus
expect_eq "$(ids)" "$foreign" "an agent finds any storefront's"
list "$shop" q=walrus
expect_eq "$STATUS $(ids)" "200 " "a storefront never finds another's"
list "$other" q=walrus
expect_eq "$(ids)" "$foreign" "its own storefront finds it"
list "$shop" q=walrus storefront=other-shop
expect_eq "$(problem_field)" "403 storefront" "nor by asking for it"
list "$alice" q=zebrafish
expect_eq "$STATUS $(ids)" "200 " "an internal note's words find nothing"
list "$shop" q=zebrafish
expect_eq "$(ids)" "" "for a storefront neither"
list "$alice" "q=abusing refunds"
expect_eq "$(ids)" "" "nor any of them"

# --- query syntax is words ------------------------------------------------------------
for q in '"kettle' 'kettle*' 'NEAR(kettle lid)' 'description:kettle' '-kettle' \
	'(kettle OR walrus)' 'kettle AND' '^kettle' "kettle's" '{refs}:kettle' \
	'kettle NOT walrus' 'a""b' "'; DROP TABLE disputes; --" '!kettle & walrus | x' \
	'kettle:*' 'kettle <-> lid'; do
	list "$alice" "q=$q"
	expect_eq "$STATUS" "200" "q=$q is words, not syntax"
done
list "$alice" 'q=kettle*'
expect_eq "$(ids)" "$kettle $weak" "a star is no prefix"
list "$alice" 'q=kettle OR walrus'
expect_eq "$(ids)" "" "OR is a word to find"
list "$alice" 'q=(kettle)'
expect_eq "$(ids)" "$kettle $weak" "parentheses are punctuation"

# --- refusals ---------------------------------------------------------------------
list "$alice" "q="
expect_eq "$(problem_field)" "422 q" "an empty q"
list "$alice" "q=* ( ) :"
expect_eq "$(problem_field)" "422 q" "a q without a letter or digit"
list "$alice" "q=$(printf 'w%.0s ' $(seq 1 17))"
expect_eq "$(problem_field)" "422 q" "17 words"
list "$alice" "q=$(head -c 201 /dev/zero | tr '\0' k)"
expect_eq "$(problem_field)" "422 q" "201 bytes"
list "$alice" "q=$(head -c 200 /dev/zero | tr '\0' k)"
expect_eq "$STATUS" "200" "200 bytes"
list "$alice" q=kettle awaiting_reply=true
expect_eq "$(problem_field)" "422 q" "q with awaiting_reply"
list "$alice" q=kettle cursor=bm90LWEtY3Vyc29y
expect_eq "$(problem_field)" "422 cursor" "a forged cursor"
list "$alice" updated_since=yesterday
expect_eq "$(problem_field)" "422 updated_since" "updated_since not a time"
list "$alice" order_ref=
expect_eq "$(problem_field)" "422 order_ref" "an empty order_ref"
list "$alice" "buyer_ref=$(head -c 129 /dev/zero | tr '\0' b)"
expect_eq "$(problem_field)" "422 buyer_ref" "a buyer_ref over 128 characters"
list "$alice" sku=a sku=b
expect_eq "$(problem_field)" "422 sku" "sku twice"
list "$alice" colour=red
expect_eq "$(problem_field)" "422 colour" "an unknown parameter"

stop_server api

# --- the CLI ------------------------------------------------------------------------
cli_ids() { jq -r '[.disputes[].id] | join(" ")' <<<"$OUT"; }
expect_exit 0 rd list --order-ref ORD-3003 --json
expect_eq "$(cli_ids)" "$plain" "list --order-ref"
expect_exit 0 rd list --buyer-ref cust-9 --storefront acme-eu --json
expect_eq "$(cli_ids)" "$plain $kettle" "list --buyer-ref --storefront"
expect_exit 0 rd list --sku KTL-7 --json
expect_eq "$(cli_ids)" "$foreign $kettle" "list --sku"
expect_exit 0 rd list --q kettle --json
expect_eq "$(cli_ids)" "$kettle $weak" "list --q, the best first"
expect_eq "$(jq '.disputes[0].search.rank > .disputes[1].search.rank' <<<"$OUT")" "true" "with ranks"
expect_exit 0 rd list --q kettle
expect_has "$OUT" "$kettle" "list --q as a table"
expect_exit 0 rd list --updated-since 2026-03-04T00:00:00Z --json
expect_eq "$(cli_ids)" "$kettle" "list --updated-since"
expect_exit 0 rd list --assignee me --as agent:alice --json
expect_eq "$(cli_ids)" "$kettle" "list --assignee me"
expect_exit 0 rd list --q zebrafish --json
expect_eq "$(cli_ids)" "" "list --q finds no internal note"
expect_exit 3 rd list --q '***'
expect_has "$ERR" "q" "list --q without a word is refused"
expect_exit 3 rd list --updated-since soon
expect_has "$ERR" "--updated-since" "list --updated-since not a time"

# --- rebuilt from the record -------------------------------------------------------------
if ! on_postgres; then
	expect_exit 0 rd reindex
	expect_exit 0 rd list --q kettle --json
	expect_eq "$(cli_ids)" "$kettle $weak" "the index after a reindex"
	expect_exit 0 rd list --q zebrafish --json
	expect_eq "$(cli_ids)" "" "still without internal notes"
	expect_exit 0 rd list --q walrus --json
	expect_eq "$(cli_ids)" "$foreign" "and every dispute"
fi

finish
