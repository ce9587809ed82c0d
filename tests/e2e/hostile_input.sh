#!/usr/bin/env bash
# Hostile input against the real server (`redress serve`), beyond what
# http.sh, idempotency.sh, multipart.sh and http_slow_clients.sh try:
# deeply nested JSON, duplicate keys, wrong types, NUL bytes and bytes that
# are not UTF-8 in bodies, query parameters and paths, ref names and ids
# that try to leave refs/disputes/, hostile file names, declared content
# types that lie, Content-Length lies (larger, smaller, twice, not a
# number, over the limit), malformed If-Match and Idempotency-Key, money
# that is not money, and a cursor carried to another storefront. Each gets
# its documented answer, never a 500; every refusal changes nothing (the
# record, the index, the mirror's refs), and the server keeps answering.
# docs/reliability.md lists these checks with the rest of the bad-input
# catalogue.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(rd key create --role agent --name alice --json 2>/dev/null | jq -r .key)
shop=$(rd key create --role storefront --storefront acme-eu --json 2>/dev/null | jq -r .key)
other=$(rd key create --role storefront --storefront other-shop --json 2>/dev/null | jq -r .key)
start_server s --sweep-interval 0 --connection-timeout 2 --rate-limit 0
B=$SERVER_BASE
PORT=${B##*:}
GIT_DIR_OF_DATA="$REDRESS_DATA/evidence.git"

# call KEY METHOD PATH [curl args...]: $STATUS, $BODY, $HDRS (the path is
# sent as written: no ../ folding by curl)
call() {
	local key=$1 method=$2 path=$3
	shift 3
	api "$key" "$method" "$B$path" --path-as-is "$@"
}
problem() { # -> "status type field" of $BODY
	jq -r '"\(.status) \(.type | sub(".*/"; "")) \(.field // "-")"' <<<"$BODY" 2>/dev/null ||
		echo "not a problem document: $BODY"
}
# snapshot: the record (objects, heads, changes), the index and the
# mirror's refs, to prove that refusals change nothing; the mirror is read
# once it has caught up with the record (it follows a server's writes
# within about 200 ms)
snapshot() {
	sqlite3 -readonly "$REDRESS_DATA/redress.db" \
		"SELECT hex(id), type, size, change FROM objects ORDER BY id;
		 SELECT dispute_id, head FROM refs ORDER BY dispute_id;
		 SELECT seq, dispute_id, head FROM changes ORDER BY seq;"
	dump
	mirror_wait
	git --git-dir="$GIT_DIR_OF_DATA" for-each-ref --format='%(refname) %(objectname)'
}
# raw FILE: send FILE as it is on a new connection, print the answer
# (until the server closes, at most 10 s)
raw() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
	cat "$1" >&"$fd"
	timeout 10 cat <&"$fd" | tr -d '\r' || true
	exec {fd}>&-
}
# cut FILE: send FILE on a new connection and hang up without reading
cut_short() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
	cat "$1" >&"$fd"
	sleep 0.3
	exec {fd}>&-
}
evidence_count() {
	rd evidence list "$1" --json | jq '.evidence | length'
}

doc() { # JQ-FILTER -> the example dispute, edited, compact
	jq -c "$1" "$REDRESS_SOURCE_DIR/examples/dispute.json"
}
call "$agent" POST /v1/disputes --data-binary "$(doc .)"
expect_eq "$STATUS" "201" "a dispute to aim at"
id=$(jq -r .id <<<"$BODY")
call "$agent" POST "/v1/disputes/$id/events" --data '{"event":"investigate"}'
expect_eq "$STATUS" "200" "investigating"
note="$E2E_TMP/note.txt"
printf 'Carrier scan 2026-03-01 10:00 UTC: parcel delivered to sender depot.\n' >"$note"
before=$(snapshot)

# --- JSON: nesting, duplicates, wrong types ----------------------------------------
printf '%*s' 100000 '' | tr ' ' '[' >"$E2E_TMP/deep.json"
printf '%*s' 100000 '' | tr ' ' ']' >>"$E2E_TMP/deep.json"
call "$agent" POST /v1/disputes --data-binary "@$E2E_TMP/deep.json"
expect_eq "$(problem)" "400 malformed -" "100000 nested arrays"
expect_has "$BODY" "maximum parsing depth" "the depth limit is named"
{
	printf '{"event":"investigate","fields":'
	printf '%*s' 3000 '' | sed 's/ /{"a":/g'
	printf '"x"'
	printf '%*s' 3000 '' | tr ' ' '}'
	printf '}'
} >"$E2E_TMP/deep-fields.json"
call "$agent" POST "/v1/disputes/$id/events" --data-binary "@$E2E_TMP/deep-fields.json"
expect_eq "$(problem)" "400 malformed -" "fields nested 3000 deep"
nested=$(printf '%*s' 500 '' | tr ' ' '[')$(printf '%*s' 500 '' | tr ' ' ']')
call "$agent" POST "/v1/disputes/$id/events" --data "{\"event\":\"escalate\",\"note\":$nested}"
expect_eq "$(problem)" "422 invalid note" "a note nested 500 deep is not a string"
nested=$(printf '%*s' 200 '' | tr ' ' '[')$(printf '%*s' 200 '' | tr ' ' ']')
call "$agent" POST /v1/disputes --data-binary "$(doc ".items = $nested")"
expect_eq "$(problem)" "422 invalid items[0]" "items nested 200 deep"
call "$agent" POST "/v1/disputes/$id/events" --data '{"event":"escalate","event":"withdraw"}'
expect_eq "$(problem)" "400 malformed -" "a member given twice in an event"
expect_has "$BODY" "duplicate" "the duplicate is named"
call "$agent" POST /v1/disputes --data-binary "$(doc . | sed 's/^{/{"order_ref":"ORD-TWICE",/')"
expect_eq "$(problem)" "400 malformed -" "order_ref given twice"
call "$agent" POST "/v1/disputes/$id/events" --data '{"event":5}'
expect_eq "$(problem)" "422 invalid event" "event as a number"
call "$agent" POST "/v1/disputes/$id/events" --data '{"event":"escalate","fields":[]}'
expect_eq "$(problem)" "422 invalid fields" "fields as an array"
call "$agent" POST "/v1/disputes/$id/events" --data '{"event":"escalate","fields":{"reason":1}}'
expect_eq "$(problem)" "422 invalid fields.reason" "a field's value as a number"
call "$agent" POST "/v1/disputes/$id/events" --data '"escalate"'
expect_eq "$(problem)" "400 malformed -" "a JSON string for a body"
call "$agent" POST "/v1/disputes/$id/events" --data-binary ''
expect_eq "$(problem)" "400 malformed -" "an empty body"
call "$agent" POST /v1/disputes --data-binary "$(doc '.items[0].unit_price = true')"
expect_eq "$(problem)" "422 invalid items[0].unit_price" "a price as a boolean"

# --- NUL bytes and bytes that are not UTF-8, in bodies ----------------------------------
printf '{"event":"escalate"}\0{"event":"withdraw"}' >"$E2E_TMP/nul.json"
call "$agent" POST "/v1/disputes/$id/events" --data-binary "@$E2E_TMP/nul.json"
expect_eq "$(problem)" "400 malformed -" "a NUL byte after the JSON"
call "$agent" POST "/v1/disputes/$id/events" --data-binary '{"event":"esc\u0000alate"}'
expect_eq "$(problem)" "400 malformed -" "\\u0000 in a string"
expect_has "$BODY" 'a string holds \\u0000 (a NUL character)' "the NUL is named"
call "$agent" POST /v1/disputes --data-binary "$(doc '.description = "a\u0000b"')"
expect_eq "$(problem)" "400 malformed -" "\\u0000 in a dispute's description"
printf '{"event":"escalate","note":"\xff\xfe"}' >"$E2E_TMP/latin.json"
call "$agent" POST "/v1/disputes/$id/events" --data-binary "@$E2E_TMP/latin.json"
expect_eq "$(problem)" "400 malformed -" "a note that is not UTF-8"
call "$agent" POST /v1/disputes --data-binary "$(doc '.order_ref = "ORD\u0007"')"
expect_eq "$(problem)" "422 invalid order_ref" "a control character in order_ref"

# --- ... in query parameters --------------------------------------------------------------
call "$agent" GET "/v1/disputes?state=%FF"
expect_eq "$(problem)" "422 invalid state" "a state that is not UTF-8"
call "$agent" GET "/v1/disputes?%FF%FE=1"
expect_eq "$(problem)" "422 invalid ??" "a parameter name that is not UTF-8: 422, not 500"
call "$shop" GET "/v1/disputes?storefront=acme-eu%00other-shop"
expect_eq "$(problem)" "422 invalid storefront" "a NUL inside a storefront"
call "$agent" GET "/v1/disputes?assignee=al%01ice"
expect_eq "$(problem)" "422 invalid assignee" "a control character in a parameter"
call "$agent" POST "/v1/disputes/$id/evidence?kind=note%00photo" --data-binary "@$note"
expect_eq "$(problem)" "422 invalid kind" "kind=note%00photo is not read as note"
call "$agent" POST "/v1/disputes/$id/evidence?kind=note&name=box%00.exe" --data-binary "@$note"
expect_eq "$(problem)" "422 invalid name" "a NUL inside a file name is not cut"
call "$agent" POST "/v1/disputes/$id/evidence?kind=note&note=a%FFb" --data-binary "@$note"
expect_eq "$(problem)" "422 invalid note" "a note parameter that is not UTF-8"
{
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="kind"\r\n\r\nnote\0photo\r\n'
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
	printf -- 'Content-Type: text/plain\r\n\r\n'
	cat "$note"
	printf -- '\r\n--XyZ--\r\n'
} >"$E2E_TMP/nul-field.form"
call "$agent" POST "/v1/disputes/$id/evidence" -H 'Content-Type: multipart/form-data; boundary=XyZ' \
	--data-binary "@$E2E_TMP/nul-field.form"
expect_eq "$(problem)" "422 invalid kind" "a NUL inside a form field"
call "$agent" GET "/v1/disputes?$(for _ in $(seq 17); do printf 'state=x&'; done)"
expect_eq "$(problem)" "422 invalid -" "17 query parameters"
expect_has "$BODY" "too many query parameters" "the limit is named"

# --- ids and ref names in paths ------------------------------------------------------------
for path in "/v1/disputes/..%2F..%2Fconfig" "/v1/disputes/.." "/v1/disputes/%2e%2e" \
	"/v1/disputes/../../evidence.git/config" "/v1/disputes/refs%2Fheads%2Fmain" \
	"/v1/disputes/HEAD" "/v1/disputes/${id,,}" "/v1/disputes/$id%00" \
	"/v1/disputes/$id%00/../../x" "/v1/disputes/$id%0A" "/v1/disputes/%FF" \
	"/v1/disputes/%FF/history" "/v1/disputes/$id/evidence/%FF" \
	"/v1/disputes/$id/evidence/..%2F1" "/v1/disputes/$id/evidence/-1" \
	"/v1/disputes/$id/evidence/0" "/v1/disputes/$id/evidence/1%00" \
	"/v1/disputes/$id/evidence/99999999999999999999"; do
	call "$agent" GET "$path"
	expect_eq "$STATUS $(header Content-Type)" "404 application/problem+json" "GET $path"
done
for path in "/v1/disputes/..%2F$id/events" "/v1/disputes/%2E%2E/events" \
	"/v1/disputes/$id%00x/events" "/v1/disputes/refs%2Fdisputes%2F$id/events"; do
	call "$agent" POST "$path" --data '{"event":"withdraw"}'
	expect_eq "$STATUS" "404" "POST $path"
done
call "$agent" POST "/v1/disputes/..%2F..%2Fevidence.git/evidence?kind=note" --data-binary "@$note"
expect_eq "$STATUS" "404" "an upload aimed out of refs/disputes/"

# --- hostile file names ---------------------------------------------------------------------
for name in '..%2F..%2Fetc%2Fpasswd' '%2Fetc%2Fpasswd' 'a%5Cb.txt' '..' '.' \
	'a%0D%0AContent-Type%3A%20text%2Fhtml' "$(printf 'n%.0s' $(seq 300)).txt"; do
	call "$agent" POST "/v1/disputes/$id/evidence?kind=note&name=$name" --data-binary "@$note"
	expect_eq "$(problem)" "422 invalid original_name" "file name $name"
done
{
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="kind"\r\n\r\nnote\r\n'
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="../../etc/passwd"\r\n'
	printf -- 'Content-Type: text/plain\r\n\r\n'
	cat "$note"
	printf -- '\r\n--XyZ--\r\n'
} >"$E2E_TMP/traversal.form"
call "$agent" POST "/v1/disputes/$id/evidence" -H 'Content-Type: multipart/form-data; boundary=XyZ' \
	--data-binary "@$E2E_TMP/traversal.form"
expect_eq "$(problem)" "422 invalid original_name" "a form part named ../../etc/passwd"

# --- declared content types that lie --------------------------------------------------------
head -c 4096 "$REDRESS" >"$E2E_TMP/program"
call "$agent" POST "/v1/disputes/$id/evidence?kind=photo&captured_at=2026-03-01T10:00:00Z" \
	-H 'Content-Type: image/png' --data-binary "@$E2E_TMP/program"
expect_eq "$(problem)" "415 content_type content" "a program declared as image/png"
printf '<html><script>alert(1)</script></html>\n' >"$E2E_TMP/page.html"
call "$agent" POST "/v1/disputes/$id/evidence?kind=note" -H 'Content-Type: text/plain' \
	--data-binary "@$E2E_TMP/page.html"
expect_eq "$(problem)" "415 content_type content" "HTML declared as text/plain"
: >"$E2E_TMP/empty"
call "$agent" POST "/v1/disputes/$id/evidence?kind=note" --data-binary "@$E2E_TMP/empty"
expect_eq "$(problem)" "422 invalid size" "an empty file"
call "$agent" POST /v1/disputes -F "document=$(doc .)"
expect_eq "$(problem)" "400 malformed -" "a dispute sent as multipart/form-data"

# --- Content-Length lies -------------------------------------------------------------------
body=$(doc '.order_ref = "ORD-LIES"')
raw_request() { # METHOD PATH CONTENT-LENGTH BODY [extra header line]: the bytes of a request
	printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n%sContent-Length: %s\r\n\r\n%s' \
		"$1" "$2" "$agent" "${5:+$5$'\r\n'}" "$3" "$4"
}
raw_request POST /v1/disputes $((${#body} + 100)) "$body" >"$E2E_TMP/longer.req"
cut_short "$E2E_TMP/longer.req"
raw_request POST "/v1/disputes/$id/evidence?kind=note" 5000 "$(cat "$note")" >"$E2E_TMP/longer-upload.req"
cut_short "$E2E_TMP/longer-upload.req"
call "$agent" GET /healthz
expect_eq "$STATUS" "200" "the server answers after bodies cut short"
raw_request POST /v1/disputes $((${#body} - 20)) "$body" >"$E2E_TMP/shorter.req"
out=$(raw "$E2E_TMP/shorter.req")
expect_has "$out" "HTTP/1.1 400" "a Content-Length shorter than the JSON"
expect_has "$out" "problems/malformed" "the cut JSON is malformed"
raw_request POST "/v1/disputes/$id/events" 20 '{"event":"escalate"}' "Content-Length: 40" >"$E2E_TMP/twice.req"
out=$(raw "$E2E_TMP/twice.req")
expect_has "$out" "HTTP/1.1 400" "Content-Length given twice"
expect_has "$out" '"field":"Content-Length"' "the header is named"
expect_has "$out" "Connection: close" "the connection is closed"
raw_request POST "/v1/disputes/$id/events" abc '{"event":"escalate"}' >"$E2E_TMP/nan.req"
expect_has "$(raw "$E2E_TMP/nan.req")" "HTTP/1.1 400" "Content-Length that is not a number"
raw_request POST "/v1/disputes/$id/evidence?kind=note" 300000000 "$(cat "$note")" >"$E2E_TMP/over.req"
expect_has "$(raw "$E2E_TMP/over.req")" "HTTP/1.1 413" "an upload declared over the route's limit, refused before its body"
expect_eq "$(snapshot)" "$before" "every refusal above changed nothing (record, index and mirror refs)"

# The declared bytes are the upload; what follows is no second request.
evidence_before=$(evidence_count "$id")
raw_request POST "/v1/disputes/$id/evidence?kind=note" 20 "$(cat "$note")" >"$E2E_TMP/shorter-upload.req"
out=$(raw "$E2E_TMP/shorter-upload.req")
expect_has "$out" "HTTP/1.1 201" "an upload shorter than its body stores what was declared"
expect_has "$out" '"size":20' "20 bytes, as declared"
expect_eq "$(evidence_count "$id")" "$((evidence_before + 1))" "one evidence, not two"

# --- If-Match, Idempotency-Key ---------------------------------------------------------------
version=$(rd show "$id" --json | jq -r .version)
for etag in '"01"' "\"0$version\"" 'W/"1"' '*' '"1", "2"' '""' '"+1"' '"99999999999999999999"'; do
	call "$agent" POST "/v1/disputes/$id/events" -H "If-Match: $etag" --data '{"event":"escalate"}'
	expect_eq "$(problem)" "400 usage If-Match" "If-Match: $etag"
done
call "$agent" POST "/v1/disputes/$id/events" -H $'Idempotency-Key: caf\xc3\xa9' --data '{"event":"escalate"}'
expect_eq "$(problem)" "400 usage Idempotency-Key" "an Idempotency-Key beyond ASCII"
call "$agent" POST "/v1/disputes/$id/events" -H 'Idempotency-Key;' --data '{"event":"escalate"}'
expect_eq "$(problem)" "400 usage Idempotency-Key" "an empty Idempotency-Key"
expect_eq "$(rd show "$id" --json | jq -r .version)" "$version" "no event applied"

# --- money that is not money -----------------------------------------------------------------
call "$agent" POST /v1/disputes --data-binary "$(doc '.items[0].unit_price = 100.5')"
expect_eq "$(problem)" "422 invalid items[0].unit_price" "a price with a fraction"
call "$agent" POST /v1/disputes --data-binary "$(doc '.items[0].unit_price = "100"')"
expect_eq "$(problem)" "422 invalid items[0].unit_price" "a price as a string"
call "$agent" POST /v1/disputes --data-binary "$(doc . | sed 's/"unit_price":10000/"unit_price":9223372036854775808/')"
expect_eq "$(problem)" "400 malformed -" "a price past 64 bits"
call "$agent" POST /v1/disputes --data-binary "$(doc '.currency = "usd"')"
expect_eq "$(problem)" "422 invalid currency" "a currency in lower case"
offer=$(curl -s -H "Authorization: Bearer $agent" "$B/v1/disputes/$id/offers" |
	jq -r '[.offers[] | select(.type == "partial_discount")][0].offer_id')
call "$agent" POST "/v1/disputes/$id/events" --data "{\"event\":\"make_offer\",\"fields\":{\"offer_id\":\"$offer\"}}"
expect_eq "$STATUS" "200" "an offer to counter"
version=$(jq -r .version <<<"$BODY")
for amount in abc 12.345 -1 1e3 ' 5' 99999999999999999999 0x10; do
	call "$agent" POST "/v1/disputes/$id/events" \
		--data "{\"event\":\"counter_offer\",\"fields\":{\"amount\":\"$amount\"}}"
	expect_eq "$(problem)" "422 invalid amount" "counter amount \"$amount\""
done
call "$agent" POST "/v1/disputes/$id/events" --data '{"event":"counter_offer","fields":{"amount":""}}'
expect_eq "$(jq -r '"\(.status) \(.guard) \(.field)"' <<<"$BODY")" "409 fields amount" "a counter without an amount"
expect_eq "$(rd show "$id" --json | jq -r .version)" "$version" "no counter recorded"

# --- a cursor does not carry a listing across storefronts -------------------------------------
# Disputes of both storefronts on either side of an agent's first page:
# with that page's cursor a storefront key still pages its own only.
for n in 1 2 3; do
	call "$other" POST /v1/disputes --data-binary "$(doc ".storefront = \"other-shop\" | .order_ref = \"ORD-OTHER-$n\"")"
	expect_eq "$STATUS" "201" "another storefront's dispute $n"
	call "$shop" POST /v1/disputes --data-binary "$(doc ".order_ref = \"ORD-OWN-$n\"")"
	expect_eq "$STATUS" "201" "an own dispute $n"
done
call "$agent" GET "/v1/disputes?limit=1"
cursor=$(jq -r .next_cursor <<<"$BODY")
call "$shop" GET "/v1/disputes?limit=50&cursor=$cursor"
expect_eq "$STATUS" "200" "a storefront key with an agent's cursor"
expect_eq "$(jq -r '[.disputes[] | select(.storefront != "acme-eu")] | length' <<<"$BODY")" "0" \
	"it still sees its own disputes only"
expect_eq "$(jq -r '.disputes | length > 0' <<<"$BODY")" "true" "and its own are there"

# --- odd but harmless names are metadata only -------------------------------------------------
for name in '%22quoted%22.txt' '-rf' '.git' '%E2%80%AEtxt.exe'; do
	call "$agent" POST "/v1/disputes/$id/evidence?kind=note&name=$name" --data-binary "@$note"
	expect_eq "$STATUS" "201" "file name $name is kept"
	n=$(jq -r .n <<<"$BODY")
	expect_eq "$(jq -r .path <<<"$BODY")" "$(printf 'evidence/%04d/content.txt' "$n")" "stored under its number, not its name"
	call "$agent" GET "/v1/disputes/$id/evidence/$n"
	expect_eq "$(header Content-Disposition)" "attachment; filename=\"evidence-$n.txt\"" "downloaded under its number"
done

stop_server s
expect_eq "$STOP_CODE" "0" "server stops with 0"
expect_exit 0 rd audit verify --all
if git --git-dir="$GIT_DIR_OF_DATA" fsck --strict >"$E2E_TMP/fsck" 2>&1; then ok; else
	fail "git fsck --strict: $(cat "$E2E_TMP/fsck")"
fi
expect_eq "$(git --git-dir="$GIT_DIR_OF_DATA" for-each-ref --format='%(refname)' | grep -cv '^refs/disputes/[0-9A-HJKMNP-TV-Z]\{26\}$')" "0" \
	"every ref is refs/disputes/<id>"

finish
