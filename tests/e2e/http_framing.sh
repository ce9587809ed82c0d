#!/usr/bin/env bash
# HTTP framing by RFC 9110/9112, with raw bytes over a socket: a control
# byte (NUL, SOH, CR, DEL...) in a header is 400 (a key followed by
# "\0junk" does not authenticate), HTAB is taken; Content-Length with
# Transfer-Encoding is 400 and the connection closed; a transfer coding
# other than chunked is 501 at once; chunked bodies are taken on the JSON
# routes (within their limit) and refused at once on evidence uploads,
# raw or multipart, as docs/api.md says.
set -e
trap "" PIPE   # a refusal may close the socket before all is sent
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent)
start_server s --sweep-interval 0 --rate-limit 0
port=$SERVER_PORT
id=$(open_dispute)

# raw FORMAT [ARGS...]: send printf FORMAT ARGS on a new connection (no
# more), read what comes back until the server closes it or 3 s pass;
# $RAW is the answer, $RAW_STATUS its status ("" for none), $RAW_CLOSED 1
# when the server closed the connection, $RAW_MS the time to the close.
raw() {
	local fd started rc
	exec {fd}<>"/dev/tcp/127.0.0.1/$port"
	# shellcheck disable=SC2059
	printf "$@" >&"$fd" 2>/dev/null || true
	started=$(date +%s%N)
	set +e
	timeout 3 cat <&"$fd" >"$E2E_TMP/raw"
	rc=$?
	set -e
	RAW_MS=$((($(date +%s%N) - started) / 1000000))
	exec {fd}>&-
	RAW=$(tr -d '\0\r' <"$E2E_TMP/raw")
	RAW_STATUS=$(head -1 <<<"$RAW" | sed -n 's|^HTTP/1\.1 \([0-9]*\) .*|\1|p')
	RAW_CLOSED=$([ "$rc" = 0 ] && echo 1 || echo 0)
}
raw_body() { sed -n '/^$/,$p' <<<"$RAW" | tail -n +2; }
raw_field() { raw_body | jq -r '(.status|tostring) + " " + (.field // "")'; }

# --- control bytes in header values -------------------------------------------------
get="GET /v1/disputes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
raw "${get}Authorization: Bearer %s\0junk\r\nConnection: close\r\n\r\n" "$agent"
expect_eq "$RAW_STATUS" "400" "a key followed by NUL and junk does not authenticate"
expect_eq "$(raw_field)" "400 Authorization" "the NUL is named in its header"
expect_eq "$(raw_body | jq -r .type)" "https://redress.dev/problems/usage" "a usage problem"
raw "${get}Connection: close\r\nAuthorization: Bearer %s\0junk\r\n\r\n" "$agent"
expect_eq "$(raw_field)" "400 Authorization" "NUL and junk in the last header"
raw "${get}Authorization: Bearer %s\0\r\nConnection: close\r\n\r\n" "$agent"
expect_eq "$(raw_field)" "400 Authorization" "a NUL right before the line end"
raw "${get}Connection: close\r\nAuthorization: Bearer %s\0\r\n\r\n" "$agent"
expect_eq "$(raw_field)" "400 Authorization" "a NUL before the line end of the last header"
raw "${get}Authorization: Bearer %s\0\0junk\r\n\r\n" "$agent"
expect_eq "$(raw_field)" "400 Authorization" "two NULs and junk in the last header"
for byte in '\001' '\010' '\013' '\033' '\177' '\r'; do
	raw "${get}Authorization: Bearer %s\r\nX-Note: a${byte}b\r\nConnection: close\r\n\r\n" "$agent"
	expect_eq "$(raw_field)" "400 X-Note" "control byte $byte in a value"
done
raw "${get}Authorization: Bearer %s\r\nX-Note: a\tb \t\r\nConnection: close\r\n\r\n" "$agent"
expect_eq "$RAW_STATUS" "200" "HTAB in a value is taken"
raw "${get}Authorization: Bearer %s\r\nX-Fold: a\r\n b\r\nConnection: close\r\n\r\n" "$agent"
expect_eq "$RAW_STATUS" "400" "a folded header line (obs-fold)"
raw "${get}Authorization: Bearer %s\nX-Empty:\nConnection: close\n\n" "$agent"
expect_eq "$RAW_STATUS" "200" "bare LF line ends and an empty value are taken"
big=$(head -c 20000 /dev/zero | tr '\0' a)
call "$agent" GET /v1/disputes -H "X-Big: $big" -H "X-Big-Too: $big"
expect_eq "$STATUS" "200" "40 kB of headers are taken"

# --- Content-Length and Transfer-Encoding -------------------------------------------------
doc=$(jq -c '.order_ref = "ORD-FRAMING"' "$REDRESS_SOURCE_DIR/examples/dispute.json")
post="POST /v1/disputes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer $agent\r\nContent-Type: application/json\r\n"
raw "${post}Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" \
	"${#doc}" "${#doc}" "$doc"
expect_eq "$(raw_field)" "400 Transfer-Encoding" "Content-Length with Transfer-Encoding"
expect_has "$RAW" "Connection: close" "the refusal says it closes"
expect_eq "$RAW_CLOSED" "1" "and the connection is closed"
raw "${post}Transfer-Encoding: gzip\r\n\r\nxyz"
expect_eq "$RAW_STATUS" "501" "an unknown transfer coding"
expect_eq "$(raw_body | jq -r .type)" "https://redress.dev/problems/not_implemented" "not_implemented problem"
expect_eq "$RAW_CLOSED" "1" "the connection is closed after the 501"
if [ "$RAW_MS" -lt 1500 ]; then ok; else fail "the 501 came after $RAW_MS ms"; fi
raw "${post}Transfer-Encoding: gzip, chunked\r\n\r\n"
expect_eq "$RAW_STATUS" "501" "a coding list with chunked last"
raw "${post}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
expect_eq "$(raw_field)" "400 Transfer-Encoding" "Transfer-Encoding twice"
raw "POST /v1/disputes HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer $agent\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
expect_eq "$(raw_field)" "400 Transfer-Encoding" "Transfer-Encoding in HTTP/1.0"
expect_eq "$(rd list --json | jq '[.disputes[] | select(.order_ref == "ORD-FRAMING")] | length')" "0" \
	"no refused request opened a dispute"

# --- chunked bodies: JSON routes take them ---------------------------------------------------
half=$((${#doc} / 2))
raw "${post}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" \
	"$half" "${doc:0:$half}" "$((${#doc} - half))" "${doc:$half}"
expect_eq "$RAW_STATUS" "201" "a chunked JSON body opens a dispute"
call "$agent" POST "/v1/disputes/$id/events" -H 'Transfer-Encoding: chunked' -H 'If-Match: "1"' \
	--data '{"event":"investigate"}'
expect_eq "$STATUS" "200" "a chunked event"
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' ' ' >"$E2E_TMP/over.json"
call "$agent" POST /v1/disputes -H 'Transfer-Encoding: chunked' --data-binary "@$E2E_TMP/over.json"
expect_eq "$STATUS" "413" "a chunked JSON body over 1 MiB"

# --- chunked evidence uploads: refused at once ----------------------------------------------
upload="POST /v1/disputes/$id/evidence?kind=note HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer $agent\r\n"
before=$(rd evidence list "$id" --json | jq '.evidence | length')
# headers only: the refusal must not wait for a body
raw "${upload}Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
expect_eq "$(raw_field)" "400 Content-Length" "a chunked raw upload, refused from its headers"
expect_eq "$RAW_CLOSED" "1" "the connection is closed after it"
raw "${upload}Content-Type: multipart/form-data; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n"
expect_eq "$(raw_field)" "400 Content-Length" "a chunked form upload, refused from its headers"
call "$agent" POST "/v1/disputes/$id/evidence" -H 'Transfer-Encoding: chunked' \
	-F kind=note -F "file=@$(sample_file note)"
expect_eq "$(problem_field)" "400 Content-Length" "curl's chunked form upload"
expect_eq "$(rd evidence list "$id" --json | jq '.evidence | length')" "$before" "refused uploads recorded nothing"
call "$agent" POST "/v1/disputes/$id/evidence?kind=note" --data-binary "@$(sample_file note)"
expect_eq "$STATUS" "201" "an upload with Content-Length after the refusals"

call "$agent" GET /healthz
expect_eq "$STATUS" "200" "the server answers after it all"
stop_server s
expect_eq "$STOP_CODE" "0" "server stops with 0"
finish
