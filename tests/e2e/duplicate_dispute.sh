#!/usr/bin/env bash
# A second dispute for the same storefront, order and items while the
# first is open is refused: 409 (conflict, field order_ref) naming the open
# one in existing_id, nothing opened; unless the caller means it
# ("allow_duplicate": true, or `redress open --allow-duplicate`). "Same
# items" is a SKU in common. Another order, another storefront, other SKUs,
# or a first dispute that has ended are no duplicates. A retry of the first
# opening with its Idempotency-Key is still replayed, not refused. The
# lookup uses the index of open disputes by storefront and order.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
shop=$(new_key storefront --storefront acme-eu)
start_server dup

doc() { # JQ-FILTER -> the example dispute, edited
	jq -c "$1" "$REDRESS_SOURCE_DIR/examples/dispute.json"
}
open() { # KEY DOC [curl args...]
	local key=$1 body=$2
	shift 2
	call "$key" POST /v1/disputes --data-binary "$body" "$@"
}
count_of() { # ORDER -> disputes of this order in the index
	record_sql "SELECT count(*) FROM disputes WHERE order_ref = '$1'"
}

# the first opening, with an Idempotency-Key
first_doc=$(doc '.order_ref = "ORD-D1"')
open "$shop" "$first_doc" -H 'Idempotency-Key: open-ORD-D1'
expect_eq "$STATUS" "201" "the first dispute opens"
first=$(jq -r .id <<<"$BODY")

# a retry of the same request is the same answer, not a conflict
open "$shop" "$first_doc" -H 'Idempotency-Key: open-ORD-D1'
expect_eq "$STATUS" "201" "the retry of the first opening is replayed"
expect_eq "$(header Idempotent-Replayed)" "true" "replayed"
expect_eq "$(jq -r .id <<<"$BODY")" "$first" "the same dispute"

# the same order and item again: refused, naming the open one
open "$shop" "$first_doc"
expect_eq "$STATUS" "409" "a duplicate is refused"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/conflict" "conflict"
expect_eq "$(jq -r .existing_id <<<"$BODY")" "$first" "the problem names the open dispute"
expect_eq "$(jq -r .field <<<"$BODY")" "order_ref" "the field at fault"
expect_has "$(jq -r .detail <<<"$BODY")" "allow_duplicate" "the detail says how to insist"
# another key, another reason, more items: still the same order and SKU
open "$agent" "$(doc '.order_ref = "ORD-D1" | .reason = "defective" |
	.items += [{"sku": "BULB-2", "title": "Bulb", "quantity": 1, "unit_price": 500}]')"
expect_eq "$STATUS $(jq -r .existing_id <<<"$BODY")" "409 $first" "overlapping SKUs are the same items"
expect_eq "$(count_of ORD-D1)" "1" "nothing more was opened"

# what is not a duplicate
open "$shop" "$(doc '.order_ref = "ORD-D1" | .items[0].sku = "LAMP-2"')"
expect_eq "$STATUS" "201" "other items of the same order"
open "$shop" "$(doc '.order_ref = "ORD-D2"')"
expect_eq "$STATUS" "201" "another order"
open "$agent" "$(doc '.order_ref = "ORD-D1" | .storefront = "other-shop"')"
expect_eq "$STATUS" "201" "the same order ref at another storefront"
expect_eq "$(count_of ORD-D1)" "3" "three disputes of ORD-D1"

# the caller means it
open "$shop" "$(doc '.order_ref = "ORD-D1" | .allow_duplicate = true')"
expect_eq "$STATUS" "201" "allow_duplicate opens a second one"
second=$(jq -r .id <<<"$BODY")
expect_eq "$(rd show "$second" --json | jq -r '.order_ref + " " + (has("allow_duplicate") | tostring)')" \
	"ORD-D1 false" "the flag is not part of the dispute"
open "$shop" "$(doc '.order_ref = "ORD-D1" | .allow_duplicate = "yes"')"
expect_eq "$(problem_field)" "422 allow_duplicate" "allow_duplicate is a boolean"
open "$shop" "$(doc '.order_ref = "ORD-D1" | .allow_duplicate = false')"
# (the oldest open one is named; both were opened in the same instant here,
# so either may be it)
existing=$(jq -r .existing_id <<<"$BODY")
expect_eq "$STATUS $([ "$existing" = "$first" ] || [ "$existing" = "$second" ] && echo named)" \
	"409 named" "false is the default: an open one is named"

# the command line refuses the same way, and takes --allow-duplicate
doc '.order_ref = "ORD-D1"' >"$E2E_TMP/dup.json"
expect_exit 5 rd open "$E2E_TMP/dup.json" --as agent:alice
case "$ERR" in
*"$first"* | *"$second"*) ok ;;
*) fail "the CLI names the open dispute: $ERR" ;;
esac
expect_has "$ERR" "--allow-duplicate" "the CLI says how to insist"
expect_exit 0 rd open "$E2E_TMP/dup.json" --as agent:alice --allow-duplicate --json
expect_eq "$(count_of ORD-D1)" "5" "opened on purpose"

# once the first has ended (and every other of the order), it is no duplicate
doc '.order_ref = "ORD-D3"' >"$E2E_TMP/d3.json"
d3=$(rd open "$E2E_TMP/d3.json" --as agent:alice --json | jq -r .id)
ev "$d3" withdraw --field reason=buyer_withdrew --as storefront:acme-eu
expect_eq "$(state_of "$d3" | cut -d/ -f2)" "withdrawn" "the first has ended"
expect_exit 0 rd open "$E2E_TMP/d3.json" --as agent:alice

# the lookup is indexed: SQLite's plan searches the open disputes by order
# (an embedded record's plan; PostgreSQL's is not checked)
if ! on_postgres; then
	plan=$(sqlite3 "$REDRESS_DATA/redress.db" "EXPLAIN QUERY PLAN SELECT d.id FROM disputes AS d
		INDEXED BY disputes_open_order WHERE d.storefront = 'acme-eu' AND d.order_ref = 'ORD-D1'
		AND d.outcome IS NULL")
	expect_has "$plan" "SEARCH d USING INDEX disputes_open_order (storefront=? AND order_ref=?)" "indexed lookup"
fi

stop_server dup
expect_eq "$STOP_CODE" "0" "the server stops cleanly"
finish
