#!/usr/bin/env bash
# The server's root and its contract, end to end with curl and no key:
# GET and HEAD / redirect to the console (302, Location /ui/); GET
# /openapi.yaml answers docs/openapi.yaml byte for byte, as
# application/yaml, with a strong ETag and 304 for it; HEAD answers its
# headers; a key is never needed; a body is refused as on every GET.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
start_server root
B=$SERVER_BASE

request "$B/"
expect_eq "$STATUS" "302" "GET / redirects"
expect_eq "$(header Location)" "/ui/" "GET / redirects to the console"
request "$B/" -I
expect_eq "$STATUS" "302" "HEAD / redirects"
expect_eq "$(header Location)" "/ui/" "HEAD / redirects to the console"
# following it lands on the console's page
request "$B/" -L
expect_eq "$STATUS" "200" "GET / followed reaches the console"
expect_has "$(grep -i '^Content-Type:' <<<"$HDRS" | tail -1)" "text/html" \
	"the console is HTML"

request "$B/openapi.yaml"
expect_eq "$STATUS" "200" "GET /openapi.yaml"
expect_eq "$(header Content-Type)" "application/yaml" "the contract is YAML"
cmp -s "$RESPONSE_FILE" "$REDRESS_SOURCE_DIR/docs/openapi.yaml" && ok ||
	fail "GET /openapi.yaml is not docs/openapi.yaml"
etag=$(header ETag)
case "$etag" in
'"'[0-9a-f]*'"') ok ;;
*) fail "/openapi.yaml has no strong ETag: $etag" ;;
esac
request "$B/openapi.yaml" -H "If-None-Match: $etag"
expect_eq "$STATUS" "304" "/openapi.yaml: 304 for its own ETag"
expect_eq "$(wc -c <"$RESPONSE_FILE" | tr -d ' ')" "0" "a 304 has no body"
request "$B/openapi.yaml" -H 'If-None-Match: "0123"'
expect_eq "$STATUS" "200" "/openapi.yaml: 200 for another ETag"
request "$B/openapi.yaml" -I
expect_eq "$STATUS" "200" "HEAD /openapi.yaml"
expect_eq "$(header Content-Length)" \
	"$(wc -c <"$REDRESS_SOURCE_DIR/docs/openapi.yaml" | tr -d ' ')" \
	"HEAD /openapi.yaml: the document's length"
expect_eq "$(header X-Content-Type-Options)" "nosniff" "/openapi.yaml: nosniff"

# public, and only GET and HEAD
request "$B/openapi.yaml" -X POST -d 'x'
expect_eq "$STATUS" "405" "POST /openapi.yaml"
expect_has "$(header Allow)" "GET" "/openapi.yaml allows GET"
request "$B/" -X DELETE
expect_eq "$STATUS" "405" "DELETE /"

stop_server root
expect_eq "$STOP_CODE" "0" "the server stops cleanly"
finish
