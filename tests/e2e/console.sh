#!/usr/bin/env bash
# The web console's side of the server, end to end with curl: the files
# under /ui/ (built into the binary) with their types, strong ETags and
# 304s, HEAD, the redirect of /ui, the console's Content-Security-Policy
# and nosniff on every answer (the API's stricter policy elsewhere), and
# path traversal in every spelling answered 404; then the routes the
# console needs: GET /v1/me, /v1/evidence-kinds, /v1/overview (totals per
# storefront, scoped for a storefront key), /v1/disputes/{id}/actions
# (the events of the key's role, with their fields and guards) and
# /v1/disputes/{id}/export (a tar.gz), with their refusals.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
auditor=$(new_key auditor --name audrey)
admin=$(new_key admin)
acme=$(new_key storefront --storefront acme-eu)
other=$(new_key storefront --storefront other-shop)

start_server web
B=$SERVER_BASE

# get PATH [curl args...]: request PATH without a key, sent as it is
# (--path-as-is), with the method curl takes from the args (-I: HEAD)
get() {
	local path=$1
	shift
	request "$B$path" --path-as-is "$@"
}
console_headers() { # WHAT: the console's security headers are there
	local csp
	csp=$(header Content-Security-Policy)
	expect_has "$csp" "default-src 'none'" "$1: CSP default"
	expect_has "$csp" "script-src 'self';" "$1: CSP scripts from the server only"
	expect_has "$csp" "style-src 'self';" "$1: CSP styles from the server only"
	expect_has "$csp" "frame-ancestors 'none'" "$1: CSP no framing"
	case "$csp" in
	*unsafe-inline* | *unsafe-eval* | *"*"*) fail "$1: CSP allows too much: $csp" ;;
	*) ok ;;
	esac
	expect_eq "$(header X-Content-Type-Options)" "nosniff" "$1: nosniff"
	expect_eq "$(header X-Frame-Options)" "DENY" "$1: X-Frame-Options"
	expect_eq "$(header Referrer-Policy)" "no-referrer" "$1: Referrer-Policy"
}

# --- the console's files ----------------------------------------------------------
get /ui
expect_eq "$STATUS" "308" "/ui redirects"
expect_eq "$(header Location)" "/ui/" "/ui redirects to /ui/"
console_headers "/ui"
get /ui -I
expect_eq "$STATUS" "308" "HEAD /ui redirects"

get /ui/
expect_eq "$STATUS" "200" "/ui/ is the console"
expect_eq "$(header Content-Type)" "text/html; charset=utf-8" "/ui/ is HTML"
expect_eq "$(header Cache-Control)" "no-cache" "/ui/ revalidates"
console_headers "/ui/"
expect_has "$BODY" '<script src="app.js" defer></script>' "the page loads its script by URL"
case "$BODY" in
*"<script>"* | *"style="* | *" onclick="* | *" onload="*) fail "the page holds inline script or style" ;;
*) ok ;;
esac
etag=$(header ETag)
case "$etag" in
'"'[0-9a-f]*'"') ok ;;
*) fail "/ui/ has no strong ETag: $etag" ;;
esac
cmp -s "$RESPONSE_FILE" "$REDRESS_SOURCE_DIR/ui/index.html" && ok ||
	fail "/ui/ is not ui/index.html"
get /ui/index.html
expect_eq "$STATUS" "200" "/ui/index.html"
expect_eq "$(header ETag)" "$etag" "the same file, the same ETag"

get /ui/ -H "If-None-Match: $etag"
expect_eq "$STATUS" "304" "If-None-Match with the ETag"
expect_eq "$BODY" "" "a 304 has no body"
console_headers "304"
get /ui/ -H 'If-None-Match: "0123"'
expect_eq "$STATUS" "200" "If-None-Match with another ETag"

get /ui/ -I
expect_eq "$STATUS" "200" "HEAD /ui/"
expect_eq "$(header Content-Length)" "$(wc -c <"$REDRESS_SOURCE_DIR/ui/index.html" | tr -d ' ')" \
	"HEAD gives the length"
case "$BODY" in
*"<html"*) fail "HEAD sent the body" ;;
*) ok ;;
esac

for pair in app.js:"text/javascript; charset=utf-8" style.css:"text/css; charset=utf-8" \
	favicon.svg:image/svg+xml; do
	name=${pair%%:*}
	type=${pair#*:}
	get "/ui/$name"
	expect_eq "$STATUS" "200" "/ui/$name"
	expect_eq "$(header Content-Type)" "$type" "/ui/$name type"
	console_headers "/ui/$name"
	cmp -s "$RESPONSE_FILE" "$REDRESS_SOURCE_DIR/ui/$name" && ok ||
		fail "/ui/$name is not ui/$name"
done

# traversal, in every spelling: nothing but the console's own names exists
for path in /ui/../healthz /ui/..%2fhealthz /ui/%2e%2e/healthz /ui/%2e%2e%2fhealthz \
	/ui/.. /ui/%2e%2e /ui/. /ui/..%2f..%2fCMakeLists.txt /ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd \
	/ui//index.html /ui/index.html/ /ui/nope.js /ui/INDEX.HTML /ui/app.js%00.html \
	/ui/app.js%2f /ui/%5c..%5cCMakeLists.txt /ui/index.html%3f /ui/ui/app.js \
	/ui/../ui/app.js /ui/./app.js "/ui/app.js?x=1/../../etc/passwd"; do
	get "$path"
	case "$path" in
	*"?x="*) expect_eq "$STATUS" "200" "$path: a query is not part of the name" ;;
	*) expect_eq "$STATUS" "404" "$path is not found" ;;
	esac
	case "$BODY" in
	*"cmake_minimum_required"* | *"root:"* | *'"status":"ok"'*) fail "$path leaked: $BODY" ;;
	*) ok ;;
	esac
	expect_eq "$(header X-Content-Type-Options)" "nosniff" "$path: nosniff"
	expect_has "$(header Content-Security-Policy)" "frame-ancestors 'none'" "$path: a CSP"
done
# a symlink under ui/ cannot matter: names come from the binary, not the disk
get /ui/ -X POST
expect_eq "$STATUS" "405" "POST /ui/"
expect_eq "$(header Allow)" "GET, HEAD" "/ui/ takes GET and HEAD"
get /ui/app.js -X PUT --data x
expect_eq "$STATUS" "405" "PUT /ui/app.js"
get /ui/app.js --data x -X GET
expect_eq "$STATUS" "413" "a body to /ui/app.js"

# the API's answers carry the stricter policy, and no cookie is ever set
api "$agent" GET "$B/v1/me"
expect_eq "$(header Content-Security-Policy)" \
	"default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" \
	"the API's CSP"
expect_eq "$(header X-Content-Type-Options)" "nosniff" "the API: nosniff"
case "$HDRS" in
*[Ss]et-[Cc]ookie*) fail "a cookie was set" ;;
*) ok ;;
esac

# --- GET /v1/me ------------------------------------------------------------------
expect_eq "$STATUS" "200" "me"
expect_eq "$(jq -r '.name + " " + .role + " " + (.storefront // "-")' <<<"$BODY")" \
	"alice agent -" "me: agent"
expect_eq "$(jq -r '.key_id | length' <<<"$BODY")" "16" "me: key id"
expect_eq "$(jq -r 'has("key") or has("secret")' <<<"$BODY")" "false" "me: never the secret"
api "$acme" GET "$B/v1/me"
expect_eq "$(jq -r '.role + " " + .storefront' <<<"$BODY")" "storefront acme-eu" "me: storefront"
api "" GET "$B/v1/me"
expect_eq "$STATUS" "401" "me without a key"
api "$agent" GET "$B/v1/me?x=1"
expect_eq "$STATUS" "422" "me takes no query"

# --- GET /v1/evidence-kinds ------------------------------------------------------
api "$auditor" GET "$B/v1/evidence-kinds"
expect_eq "$STATUS" "200" "evidence kinds"
expect_eq "$(jq -r '.kinds[] | select(.name == "photo") | .requires | join(",")' <<<"$BODY")" \
	"captured_at" "photo needs captured_at"
expect_eq "$(jq -r '.kinds[] | select(.name == "photo") | .content_types | index("image/png") != null' <<<"$BODY")" \
	"true" "photo allows PNG"
expect_eq "$(jq -r '.kinds | length' <<<"$BODY")" \
	"$(jq -r '.kinds | length' "$REDRESS_SOURCE_DIR/evidence/kinds.json")" "every kind"

# --- a few disputes for the rest ------------------------------------------------------
open_api() { # KEY STOREFRONT REASON -> id
	api "$1" POST "$B/v1/disputes" --data-binary @- <<EOF
$(jq --arg s "$2" --arg r "$3" '.storefront = $s | .reason = $r | .allow_duplicate = true' \
	"$REDRESS_SOURCE_DIR/examples/dispute.json")
EOF
	jq -r .id <<<"$BODY"
}
a=$(open_api "$acme" acme-eu damaged)
b=$(open_api "$acme" acme-eu not_received)
c=$(open_api "$agent" other-shop damaged)
event() { # KEY ID VERSION BODY
	api "$1" POST "$B/v1/disputes/$2/events" -H "If-Match: \"$3\"" --data "$4"
	[ "$STATUS" = 200 ] && ok || fail "event on $2: $STATUS $BODY"
}

# --- GET /v1/disputes/{id}/actions -----------------------------------------------
api "$agent" GET "$B/v1/disputes/$a/actions"
expect_eq "$STATUS" "200" "actions"
expect_eq "$(header ETag)" '"1"' "actions: ETag of the version"
expect_eq "$(jq -r '[.events[].event] | join(",")' <<<"$BODY")" "investigate,escalate,withdraw,assign" \
	"an agent's events in opened, then the built-in assign"
expect_eq "$(jq -r '.state + " " + (.version | tostring) + " " + .role' <<<"$BODY")" \
	"opened 1 agent" "actions: state, version, role"
api "$acme" GET "$B/v1/disputes/$a/actions"
expect_eq "$(jq -r '[.events[].event] | join(",")' <<<"$BODY")" "withdraw" "a storefront's events in opened"
api "$auditor" GET "$B/v1/disputes/$a/actions"
expect_eq "$(jq -r '.events | length' <<<"$BODY")" "0" "an auditor applies nothing"
api "$other" GET "$B/v1/disputes/$a/actions"
expect_eq "$STATUS" "404" "another storefront's dispute does not exist"
api "$agent" GET "$B/v1/disputes/01M83JYE78BQ42WCRBZAGQTHZA/actions"
expect_eq "$STATUS" "404" "actions of no dispute"
api "$agent" GET "$B/v1/disputes/$a/actions?role=admin"
expect_eq "$STATUS" "422" "actions takes no query"
event "$agent" "$a" 1 '{"event": "investigate"}'
api "$agent" GET "$B/v1/disputes/$a/actions"
expect_eq "$(jq -r '.events[] | select(.event == "make_offer") | .fields | join(",")' <<<"$BODY")" \
	"offer_id" "make_offer needs offer_id"
expect_eq "$(jq -r '.events[] | select(.event == "reject_dispute") | "\(.ready) \(.blocked.guard)"' <<<"$BODY")" \
	"false evidence" "reject_dispute waits for evidence"
add_evidence "$a" note
api "$agent" GET "$B/v1/disputes/$a/actions"
expect_eq "$(jq -r '.events[] | select(.event == "reject_dispute") | "\(.ready) \(.blocked)"' <<<"$BODY")" \
	"true null" "with evidence, reject_dispute is ready"
offer=$(curl -s -H "Authorization: Bearer $agent" "$B/v1/disputes/$a/offers" |
	jq -r '[.offers[] | select(.type == "refund_keep_item")][0].offer_id')
event "$agent" "$a" 3 "{\"event\": \"make_offer\", \"fields\": {\"offer_id\": \"$offer\"}}"
api "$acme" GET "$B/v1/disputes/$a/actions"
expect_eq "$(jq -r '.pending_offer.offer_id + " " + .pending_offer.status' <<<"$BODY")" \
	"$offer made" "the pending offer"
expect_eq "$(jq -r '[.events[].event] | sort | join(",")' <<<"$BODY")" \
	"accept_offer,counter_offer,reject_offer,withdraw" "a storefront's answers to an offer"
expect_eq "$(jq -r '.events[] | select(.event == "counter_offer") | .fields | join(",")' <<<"$BODY")" \
	"amount" "counter_offer needs amount"
event "$acme" "$a" 4 '{"event": "accept_offer"}'
event "$acme" "$a" 5 '{"event": "refund_issued", "fields": {"payment_ref": "PSP-1"}}'
api "$acme" GET "$B/v1/disputes/$a/actions"
expect_eq "$(jq -r '.state + " " + (.events | length | tostring)' <<<"$BODY")" "resolved 0" \
	"nothing to do once resolved"
api "$agent" GET "$B/v1/disputes/$a/actions"
expect_eq "$(jq -r '.state + " " + (.events | length | tostring)' <<<"$BODY")" "resolved 0" \
	"an agent neither: no assign on an ended dispute"

# --- GET /v1/overview -----------------------------------------------------------------
event "$acme" "$b" 1 '{"event": "withdraw"}'
api "$auditor" GET "$B/v1/overview"
expect_eq "$STATUS" "200" "overview"
expect_eq "$(jq -r '.storefront' <<<"$BODY")" "null" "overview of every storefront"
expect_eq "$(jq -r '.disputes.total' <<<"$BODY")" "3" "three disputes"
expect_eq "$(jq -r '.disputes.by_reason.damaged' <<<"$BODY")" "2" "two damaged"
expect_eq "$(jq -r '"\(.disputes.by_state.resolved) \(.disputes.by_state.closed) \(.disputes.by_state.opened)"' <<<"$BODY")" \
	"1 1 1" "by state"
expect_eq "$(jq -r '"\(.offers.made.refund_keep_item) \(.offers.accepted.refund_keep_item)"' <<<"$BODY")" \
	"1 1" "offers made and accepted"
# REDRESS_NOW holds the clock still: both resolved at once, in the first bucket
expect_eq "$(jq -r '"\(.resolution.resolved) \(.resolution.buckets[0].disputes) \(.resolution.median_bucket.to_s) \(.resolution.buckets | length)"' <<<"$BODY")" \
	"2 2 3600 11" "resolution buckets"
expect_eq "$(jq -r '.sla_breaches' <<<"$BODY")" "0" "no SLA breach yet"
api "$acme" GET "$B/v1/overview"
expect_eq "$(jq -r '"\(.storefront) \(.disputes.total) \(.disputes.by_reason.damaged)"' <<<"$BODY")" \
	"acme-eu 2 1" "a storefront sees its own totals"
api "$acme" GET "$B/v1/overview?storefront=acme-eu"
expect_eq "$STATUS" "200" "a storefront may name itself"
api "$acme" GET "$B/v1/overview?storefront=other-shop"
expect_eq "$STATUS" "403" "a storefront may not look at another"
expect_eq "$(jq -r .field <<<"$BODY")" "storefront" "403 names the field"
api "$admin" GET "$B/v1/overview?storefront=other-shop"
expect_eq "$(jq -r '"\(.storefront) \(.disputes.total)"' <<<"$BODY")" "other-shop 1" "an admin filters"
api "$admin" GET "$B/v1/overview?storefront="
expect_eq "$STATUS" "422" "an empty storefront"
api "$admin" GET "$B/v1/overview?storefront=a&storefront=b"
expect_eq "$STATUS" "422" "storefront twice"
api "$admin" GET "$B/v1/overview?state=opened"
expect_eq "$STATUS" "422" "an unknown parameter"
expect_eq "$(jq -r .field <<<"$BODY")" "state" "422 names the parameter"
# an SLA breach, swept by the command line a day later, is counted
REDRESS_NOW=2026-03-03T10:00:00Z rd sweep >/dev/null
api "$acme" GET "$B/v1/overview"
expect_eq "$(jq -r .sla_breaches <<<"$BODY")" "0" "the breach was other-shop's"
api "$admin" GET "$B/v1/overview"
expect_eq "$(jq -r '"\(.sla_breaches) \(.disputes.by_state.escalated)"' <<<"$BODY")" "1 1" \
	"the breach is counted"

# --- GET /v1/disputes/{id}/export ---------------------------------------------------------
api "$auditor" GET "$B/v1/disputes/$a/export"
expect_eq "$STATUS" "200" "export"
expect_eq "$(header Content-Type)" "application/gzip" "export is gzip"
expect_eq "$(header Content-Disposition)" "attachment; filename=\"dispute-$a.tar.gz\"" \
	"export's file name"
cp "$RESPONSE_FILE" "$E2E_TMP/export.tar.gz"
listing=$(tar -tzf "$E2E_TMP/export.tar.gz")
expect_has "$listing" "evidence" "the archive holds the evidence"
rd audit export "$a" --out "$E2E_TMP/cli.tar.gz" >/dev/null
expect_eq "$(tar -tzf "$E2E_TMP/cli.tar.gz" | sort)" "$(sort <<<"$listing")" \
	"the same files as redress audit export"
api "$acme" GET "$B/v1/disputes/$a/export"
expect_eq "$STATUS" "200" "a storefront exports its own"
api "$other" GET "$B/v1/disputes/$a/export"
expect_eq "$STATUS" "404" "not another storefront's"
api "" GET "$B/v1/disputes/$a/export"
expect_eq "$STATUS" "401" "export needs a key"
left=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'redress-export-*' -newer "$E2E_TMP/cli.tar.gz" 2>/dev/null | wc -l)
expect_eq "$left" "0" "the export leaves no temporary file"

stop_server web
expect_eq "$STOP_CODE" "0" "the server stops cleanly"
finish
