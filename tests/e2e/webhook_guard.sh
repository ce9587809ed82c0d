#!/usr/bin/env bash
# Webhook URLs are untrusted input. Without the operator's allow options
# an endpoint naming 127.0.0.1, localhost, [::1], 10.0.0.1,
# 169.254.169.254 (or 127.0.0.1 spelled as 2130706433), or http://, is
# refused when it is registered, through the API and the CLI; and a name
# that passes registration but resolves to 127.0.0.1 when the delivery
# connects is refused there: the receiver behind it never hears of it and
# the delivery log says why. Also the CLI's webhook commands, and a
# reindex that keeps endpoints, the outbox and the delivery log.
# The address check does not depend on the record: embedded only.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"
. "$(dirname "$0")/webhook.bash"

rd init >/dev/null
shop=$(new_key storefront --storefront acme-eu)

start_receiver A
port=$RECEIVER_PORT_A
# hook.test resolves, for libcurl only, to the receiver's address
export REDRESS_TEST_RESOLVE="hook.test:$port:127.0.0.1"
start_server strict

register() { # URL: POST an endpoint taking every event
	call "$shop" POST /v1/webhook-endpoints \
		--data "$(jq -cn --arg url "$1" '{url: $url, events: ["*"]}')"
}

for url in "https://127.0.0.1/hook" "https://localhost/hook" "https://[::1]/hook" \
	"https://10.0.0.1/hook" "https://169.254.169.254/latest/meta-data" \
	"https://2130706433/hook" "https://api.localhost/hook"; do
	register "$url"
	expect_eq "$(problem_field)" "422 url" "$url is refused without --webhook-allow-private"
done
register "http://shop.example/hook"
expect_eq "$(problem_field)" "422 url" "http:// is refused without --webhook-allow-http"
expect_has "$(jq -r .detail <<<"$BODY")" "https" "and the answer says to use https"
expect_exit 3 rd webhook create --url https://127.0.0.1/hook --events '*'
expect_has "$ERR" "loopback" "the CLI refuses it too, saying why"

# a name that resolves to loopback: registered, refused at connect
register "https://hook.test:$port/a"
expect_eq "$STATUS" "201" "a name is registered (where it leads is checked at each delivery)"
ep=$(jq -r .id <<<"$BODY")
receiver_secrets A "$(jq -r .secret <<<"$BODY")"
d=$(open_dispute)
for _ in $(seq 100); do
	call "$shop" GET "/v1/webhook-endpoints/$ep/deliveries"
	[ "$(jq '.items[0].attempt_count // 0' <<<"$BODY")" -ge 1 ] && break
	sleep 0.1
done
expect_eq "$(jq -r '.items[0] | [.dispute_id, .status, .attempts[0].status_code] | join(" ")' <<<"$BODY")" \
	"$d pending " "the delivery is refused, to be tried again"
expect_has "$(jq -r '.items[0].attempts[0].error' <<<"$BODY")" "127.0.0.1 is a loopback address" \
	"the log says the address connected to was loopback"
expect_eq "$(jq -r '.items[0].next_attempt_at != null' <<<"$BODY")" "true" "and when it is tried next"
expect_eq "$(receiver_log A | jq length)" "0" "the receiver never heard of it"
stop_server strict

# the same with the operator's options (and plain http, the receiver's):
# delivered
delivery=$(jq -r '.items[0].id' <<<"$BODY")
start_server open --webhook-allow-private --webhook-allow-http
call "$shop" PATCH "/v1/webhook-endpoints/$ep" --data "{\"url\": \"http://hook.test:$port/a\"}"
expect_eq "$STATUS" "200" "its URL changed to the receiver's plain http"
call "$shop" POST "/v1/webhook-endpoints/$ep/deliveries/$delivery/retry"
expect_eq "$STATUS" "202" "retried at once"
wait_receiver A 1 20 /a
expect_eq "$(receiver_log A | jq -r '.[0] | [.data_id, .verified_all] | join(" ")')" "$d true" \
	"with the allow options the same endpoint is delivered to"
stop_server open

# --- the CLI ---------------------------------------------------------------
expect_exit 0 rd webhook create --url https://shop.example/hooks --events dispute.opened,payment.due \
	--storefront acme-eu --description "checkout" --json
cli_ep=$(jq -r .id <<<"$OUT")
expect_eq "$(jq -r '[.storefront, (.events | join(",")), .description, (.secret | startswith("whsec_"))] | join(" ")' <<<"$OUT")" \
	"acme-eu dispute.opened,payment.due checkout true" "webhook create makes an endpoint and shows its secret"
expect_exit 0 rd webhook list --json
expect_eq "$(jq -r '[.items[].id] | sort | join(" ")' <<<"$OUT")" "$(printf '%s\n' "$ep" "$cli_ep" | sort | paste -sd' ')" "webhook list"
expect_eq "$(jq -r '[.items[] | has("secret")] | any' <<<"$OUT")" "false" "never with a secret"
expect_exit 0 rd webhook update "$cli_ep" --disable --json
expect_eq "$(jq -r '[.enabled, .disabled_reason] | join(" ")' <<<"$OUT")" "false disabled by request" "webhook update --disable"
expect_exit 0 rd webhook rotate-secret "$cli_ep"
expect_has "$OUT" "secret whsec_" "rotate-secret shows the new secret"
expect_exit 3 rd webhook update "$cli_ep" --events nope
expect_has "$ERR" "not an event type" "an unknown type is refused"
expect_exit 2 rd webhook frobnicate
expect_has "$ERR" "unknown webhook command" "an unknown subcommand is refused"
expect_exit 0 rd webhook deliveries "$ep" --json
expect_eq "$(jq -r '.items[0].status' <<<"$OUT")" "delivered" "webhook deliveries shows the log"

# --- a reindex keeps what is not derived from the record ------------------
feed_before=$(rd webhook deliveries "$ep" --json | jq -c '[.items[] | {id, status, attempt_count}]')
expect_exit 0 rd reindex
expect_eq "$(rd webhook deliveries "$ep" --json | jq -c '[.items[] | {id, status, attempt_count}]')" "$feed_before" \
	"a reindex keeps the delivery log"
expect_exit 0 rd webhook show "$cli_ep" --json
expect_eq "$(jq -r .enabled <<<"$OUT")" "false" "and the endpoints as they were"
expect_exit 0 rd webhook delete "$cli_ep"
expect_exit 4 rd webhook show "$cli_ep"
expect_has "$ERR" "no webhook endpoint" "webhook delete removes it"
finish
