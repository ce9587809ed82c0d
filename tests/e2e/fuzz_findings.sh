#!/usr/bin/env bash
# What fuzzing found, checked end to end against the real server (the
# inputs themselves are kept in tests/fuzz/regressions/ and replayed by the
# fuzz/* tests):
#   - query parameters whose bytes are not UTF-8 (%FF, a cut %C3) are
#     answered 422 with a readable problem, not 500 "Out of memory";
#   - a buyer's counter-offer with a co-pay above what the replacement
#     costs the seller is recorded at that cost: the offer kept in git
#     costs the seller 0, never less (-1 read as "unknown").
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(rd key create --role agent --name alice --json 2>/dev/null | jq -r .key)
acme=$(rd key create --role storefront --storefront acme-eu --json 2>/dev/null | jq -r .key)
start_server main
BASE=$SERVER_BASE

# --- bytes that are not UTF-8 in the query ------------------------------------
api "$agent" GET "$BASE/v1/disputes?%FF=1"
expect_eq "$STATUS" "422" "unknown parameter named by a byte that is not UTF-8"
expect_eq "$(jq -r .field <<<"$BODY")" "?" "the bad byte shown as ?"
expect_has "$BODY" 'is not UTF-8 text' "problem detail"

api "$agent" GET "$BASE/v1/disputes?created_from=%C3"
expect_eq "$STATUS" "422" "a time cut inside a character"
expect_eq "$(jq -r .field <<<"$BODY")" "created_from" "field of the bad time"

api "$agent" GET "$BASE/v1/disputes?state=%E2%82"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:state" "a state cut inside a character is refused, not searched for"

# --- a counter co-pay above the replacement's cost ---------------------------------
api "$agent" POST "$BASE/v1/disputes" \
	--data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "201" "open the worked example"
id=$(jq -r .id <<<"$BODY")

api "$agent" POST "$BASE/v1/disputes/$id/events" --data '{"event": "investigate"}'
expect_eq "$STATUS" "200" "investigate"
# the replacement costs 40.00 + 30.00; the engine asks a 70.00 co-pay
api "$agent" POST "$BASE/v1/disputes/$id/events" \
	--data '{"event": "make_offer", "fields": {"offer_id": "v2-reshipment-7000"}}'
expect_eq "$STATUS" "200" "make the reshipment offer"
api "$acme" POST "$BASE/v1/disputes/$id/events" \
	--data '{"event": "counter_offer", "fields": {"amount": "100.00"}}'
expect_eq "$STATUS" "200" "counter with a co-pay of 100.00"
expect_eq "$(jq -r .state <<<"$BODY")" "reshipment_pending" "the counter is accepted"

git_dir="$REDRESS_DATA/evidence.git"
mirror_wait "$id"
offers=$(git --git-dir="$git_dir" ls-tree --name-only "refs/disputes/$id" offers/)
accepted=""
for path in $offers; do
	doc=$(git --git-dir="$git_dir" show "refs/disputes/$id:$path")
	if [ "$(jq -r .status <<<"$doc")" = accepted ]; then
		accepted=$doc
	fi
done
expect_eq "$(jq -r .buyer_copay <<<"$accepted")" "7000" \
	"the co-pay is taken at what the replacement costs"
expect_eq "$(jq -r .seller_cost <<<"$accepted")" "0" \
	"the seller neither profits nor has an unknown cost"

stop_server main
expect_eq "$STOP_CODE" "0" "server stops cleanly"
finish
