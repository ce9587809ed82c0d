#!/usr/bin/env bash
# Webhooks from several nodes: two `redress serve` on one record (one
# PostgreSQL database; on SQLite, one data directory) both deliver, and no
# event goes out twice: the receiver gets each event of the feed exactly
# once, signed, each dispute's in version order, and the two nodes'
# /metrics add up to the events delivered. The receiver answers each
# delivery after 30 ms, so that one node's round is under way while the
# other's runs: on PostgreSQL both nodes deliver some.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"
. "$(dirname "$0")/webhook.bash"

DISPUTES=24

rd init >/dev/null
admin=$(new_key admin)
agent=$(new_key agent --name alice)

start_receiver A
start_server a --webhook-allow-http --webhook-allow-private
start_server b --webhook-allow-http --webhook-allow-private
api "$admin" POST "$BASE_a/v1/webhook-endpoints" \
	--data "$(jq -cn --arg url "$RECEIVER_URL_A/all" '{url: $url, events: ["*"]}')"
expect_eq "$STATUS" "201" "an endpoint for every storefront"
receiver_secrets A "$(jq -r .secret <<<"$BODY")"
# every answer after 30 ms, the default 200 (receiver.mjs: a script's
# answers are consumed, so queue enough for every delivery)
answers=$(jq -cn --argjson n 400 '[range($n) | {status: 200, delay_ms: 30}]')
receiver_control A POST script "{\"path\": \"*\", \"answers\": $answers}" >/dev/null

# disputes opened and moved through both nodes
doc=$(jq -c '. + {allow_duplicate: true}' "$REDRESS_SOURCE_DIR/examples/dispute.json")
ids=()
for i in $(seq "$DISPUTES"); do
	if [ $((i % 2)) = 0 ]; then base=$BASE_a; else base=$BASE_b; fi
	api "$agent" POST "$base/v1/disputes" --data-binary "$doc"
	id=$(jq -r .id <<<"$BODY")
	ids+=("$id")
	api "$agent" POST "$base/v1/disputes/$id/events" --data '{"event": "investigate"}'
	api "$agent" POST "$BASE_a/v1/disputes/$id/events" --data '{"event": "escalate"}'
done

api "$admin" GET "$BASE_a/v1/events?limit=500"
feed=$(jq -r '[.items[].id] | sort | join(" ")' <<<"$BODY")
count=$(jq '.items | length' <<<"$BODY")
expect_eq "$count" "$((DISPUTES * 3))" "three events a dispute in the feed"
wait_receiver A "$count" 60
sleep 1.5   # a second delivery of any would show
log=$(receiver_log A)
expect_eq "$(jq -r '[.[].headers["webhook-id"]] | sort | join(" ")' <<<"$log")" "$feed" \
	"each event of the feed delivered exactly once"
expect_eq "$(jq '[.[] | select(.verified_all | not)] | length' <<<"$log")" "0" "every delivery verifies"
expect_eq "$(jq -r '[group_by(.data_id)[] | [.[].data_version] | . == sort] | all' <<<"$log")" "true" \
	"each dispute's events arrive in version order"

# the nodes' own counts: they add up, and on PostgreSQL both delivered
delivered() { # BASE
	api "$admin" GET "$1/metrics"
	sed -n 's/^redress_webhook_deliveries_total{outcome="delivered"} \([0-9]*\)$/\1/p' <<<"$BODY"
}
by_a=$(delivered "$BASE_a")
by_b=$(delivered "$BASE_b")
expect_eq "$((by_a + by_b))" "$count" "the two nodes' deliveries add up to the events ($by_a + $by_b)"
if on_postgres; then
	expect_eq "$([ "$by_a" -gt 0 ] && [ "$by_b" -gt 0 ] && echo both)" "both" "on PostgreSQL every node delivers"
fi
stop_server a
stop_server b
finish
