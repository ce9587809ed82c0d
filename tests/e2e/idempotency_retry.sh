#!/usr/bin/env bash
# A client that reads a whole answer and at once retries the same
# Idempotency-Key on a new connection is replayed the answer, never told
# the key is still in flight (409): the server releases the key before it
# sends the answer. 200 tries in a row, each a new dispute then its retry.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

TRIES=200

rd init >/dev/null
agent=$(new_key agent)
start_server s --sweep-interval 0 --rate-limit 0
jq -c '.order_ref = "ORD-RETRY-{N}"' "$REDRESS_SOURCE_DIR/examples/dispute.json" >"$E2E_TMP/body.json"

read -r _ first _ replayed _ in_flight _ other < <(
	"$REDRESS_TOOLS/rd-idem-retry" "$SERVER_PORT" "$agent" "$E2E_TMP/body.json" "$TRIES")
expect_eq "$first" "$TRIES" "every first request opened a dispute"
expect_eq "$in_flight" "0" "no retry after the answer was told 409 in flight"
expect_eq "$replayed" "$TRIES" "every retry was replayed"
expect_eq "$other" "0" "no retry got another answer"
expect_eq "$(rd list --json --limit 500 | jq '.disputes | length')" "$TRIES" "one dispute per key"

stop_server s
expect_eq "$STOP_CODE" "0" "server stops with 0"
finish
