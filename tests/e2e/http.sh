#!/usr/bin/env bash
# The HTTP API end to end: the real server on a free port, driven by curl.
# Keys and roles (401/403), storefront scoping (another storefront's
# dispute is 404), ETag and If-Match (412), guard refusals as problem+json,
# strict bodies, 404/405/413, the read routes (list with its query
# parameters, offers, history, verify, evidence), evidence uploads
# streamed with their refusals (403/404/413/415/422) and downloads with
# their digest headers, and a graceful stop on SIGTERM that keeps
# what was written.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
auditor=$(new_key auditor)
acme=$(new_key storefront --storefront acme-eu)
other=$(new_key storefront --storefront other-shop)

start_server api

# --- public, and keys ----------------------------------------------------------
call "" GET /healthz
expect_eq "$STATUS" "200" "healthz status"
expect_eq "$(jq -r .status <<<"$BODY")" "ok" "healthz body"

call "" GET /v1/workflows
expect_eq "$STATUS" "401" "no key"
expect_eq "$(header WWW-Authenticate)" "Bearer" "401 challenges for a bearer key"
expect_eq "$(header Content-Type)" "application/problem+json" "401 is a problem"
expect_eq "$(jq -r .status <<<"$BODY")" "401" "problem status"

call "rdk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /v1/workflows
expect_eq "$STATUS" "401" "bad key"
expect_has "$BODY" "the API key is not valid" "bad key message"

call "$auditor" GET /v1/workflows
expect_eq "$STATUS" "200" "auditor lists workflows"
expect_eq "$(jq -r '.workflows[0].name' <<<"$BODY")" "dispute" "workflow listed"

# --- open and read ----------------------------------------------------------------
call "$agent" POST /v1/disputes --data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "201" "agent opens a dispute"
id=$(jq -r .id <<<"$BODY")
expect_eq "$(header Location)" "/v1/disputes/$id" "Location of the new dispute"
expect_eq "$(header ETag)" '"1"' "ETag of the new dispute"

call "$agent" GET "/v1/disputes/$id"
expect_eq "$STATUS" "200" "GET the dispute"
expect_eq "$(header ETag)" '"1"' "ETag is the version"
expect_eq "$(jq -r '.id + " " + .state' <<<"$BODY")" "$id opened" "dispute body"
expect_eq "$(rd show "$id" --json | jq -r '.version')" "1" "stored too"

call "$auditor" POST /v1/disputes --data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "403" "auditor may not open"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/forbidden" "403 type"

call "$acme" GET "/v1/disputes/$id"
expect_eq "$STATUS" "200" "storefront reads its own dispute"
call "$other" GET "/v1/disputes/$id"
expect_eq "$STATUS" "404" "another storefront's dispute is not found"
hidden=$BODY
call "$other" GET "/v1/disputes/01ARZ3NDEKTSV4RRFFQ69G5FAV"
expect_eq "$STATUS" "404" "missing dispute"
expect_eq "$(jq -r .detail <<<"$hidden" | sed "s/$id/ID/")" \
	"$(jq -r .detail <<<"$BODY" | sed 's/01ARZ3NDEKTSV4RRFFQ69G5FAV/ID/')" \
	"hidden and missing disputes answer alike"

call "$other" POST /v1/disputes --data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "403" "storefront may not open for another storefront"
expect_eq "$(jq -r .field <<<"$BODY")" "storefront" "403 names the field"
call "$other" POST "/v1/disputes/$id/events" --data '{"event":"withdraw"}'
expect_eq "$STATUS" "404" "storefront cannot act on another's dispute"
expect_eq "$(rd show "$id" --json | jq -r .state)" "opened" "nothing changed"

# --- events, ETag and If-Match --------------------------------------------------
call "$agent" POST "/v1/disputes/$id/events" -H 'If-Match: "1"' \
	--data '{"event":"investigate","note":"on it"}'
expect_eq "$STATUS" "200" "investigate"
expect_eq "$(jq -r '.state + " " + (.version|tostring)' <<<"$BODY")" "investigating 2" "moved"
expect_eq "$(header ETag)" '"2"' "ETag after the event"
expect_eq "$(rd show "$id" --json | jq -r .assignee)" "alice" "attributed to the key"

call "$agent" POST "/v1/disputes/$id/events" -H 'If-Match: "1"' \
	--data '{"event":"escalate"}'
expect_eq "$STATUS" "412" "stale If-Match"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/stale" "412 type"
expect_eq "$(rd show "$id" --json | jq -r .state)" "investigating" "stale changed nothing"

call "$agent" POST "/v1/disputes/$id/events" --data '{"event":"make_offer"}'
expect_eq "$STATUS" "409" "guard refuses"
expect_eq "$(header Content-Type)" "application/problem+json" "guard problem type"
expect_eq "$(jq -r '.guard // "" | length > 0' <<<"$BODY")" "true" "guard named"

call "$agent" POST "/v1/disputes/$id/events" --data '{"event":"escalate","colour":"red"}'
expect_eq "$STATUS" "422" "unknown member refused"
expect_eq "$(jq -r .field <<<"$BODY")" "colour" "unknown member named"
call "$agent" POST "/v1/disputes/$id/events" --data '{"event":'
expect_eq "$STATUS" "400" "malformed JSON"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/malformed" "malformed type"
call "$agent" POST "/v1/disputes/$id/events" -H 'If-Match: 2' --data '{"event":"escalate"}'
expect_eq "$STATUS" "400" "If-Match without quotes"
expect_eq "$(rd show "$id" --json | jq -r .version)" "2" "refusals changed nothing"

# --- routing and limits -----------------------------------------------------------
call "$agent" DELETE /v1/workflows
expect_eq "$STATUS" "405" "wrong method"
expect_eq "$(header Allow)" "GET" "Allow header"
call "$agent" GET /v1/nothing
expect_eq "$STATUS" "404" "unknown path"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$E2E_TMP/big"
call "$agent" POST /v1/disputes --data-binary "@$E2E_TMP/big"
expect_eq "$STATUS" "413" "oversized body"
expect_eq "$(rd list --json | jq -r '.disputes | length')" "1" "no dispute from refused requests"

# --- keep-alive: two requests on one connection ----------------------------------
n=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$SERVER_BASE/healthz" "$SERVER_BASE/healthz" | awk '{s += $1} END {print s}')
expect_eq "$n" "1" "keep-alive reuses the connection"

# --- read routes: list, offers, history, verify, evidence -------------------------
photo=$(sample_file photo)
expect_exit 0 rd evidence add "$id" "$photo" --kind photo --captured-at 2026-03-01T08:00:00Z \
	--note "box crushed" --as agent:alice --json
sed 's/"acme-eu"/"other-shop"/' "$REDRESS_SOURCE_DIR/examples/dispute.json" >"$E2E_TMP/other.json"
call "$other" POST /v1/disputes --data-binary "@$E2E_TMP/other.json"
expect_eq "$STATUS" "201" "other storefront opens its own dispute"
oid=$(jq -r .id <<<"$BODY")

call "$auditor" GET /v1/disputes
expect_eq "$STATUS" "200" "auditor lists disputes"
expect_eq "$(jq -r '.disputes | length' <<<"$BODY")" "2" "every dispute listed"
expect_eq "$(jq -r .next_cursor <<<"$BODY")" "null" "one page"
call "$agent" GET "/v1/disputes?limit=1"
expect_eq "$(jq -r '.disputes | length' <<<"$BODY")" "1" "limit=1 gives one"
cursor=$(jq -r .next_cursor <<<"$BODY")
first=$(jq -r '.disputes[0].id' <<<"$BODY")
call "$agent" GET "/v1/disputes?limit=1&cursor=$cursor"
expect_eq "$STATUS" "200" "second page"
expect_eq "$(jq -r '(.disputes[0].id != "'"$first"'") and (.next_cursor == null)' <<<"$BODY")" "true" "second page holds the other dispute, last"
call "$agent" GET "/v1/disputes?state=investigating"
expect_eq "$(jq -r '[.disputes[].id] | join(" ")' <<<"$BODY")" "$id" "state filter"
call "$acme" GET /v1/disputes
expect_eq "$(jq -r '[.disputes[].id] | join(" ")' <<<"$BODY")" "$id" "storefront key sees its own disputes only"
call "$other" GET "/v1/disputes?storefront=other-shop"
expect_eq "$(jq -r '[.disputes[].id] | join(" ")' <<<"$BODY")" "$oid" "other storefront sees its own"
call "$other" GET "/v1/disputes?storefront=acme-eu"
expect_eq "$STATUS" "403" "storefront key may not list another storefront"
expect_eq "$(jq -r .field <<<"$BODY")" "storefront" "403 names storefront"
call "$agent" GET "/v1/disputes?limit=0"
expect_eq "$STATUS" "422" "limit=0 refused"
expect_eq "$(jq -r .field <<<"$BODY")" "limit" "422 names limit"
expect_eq "$(header Content-Type)" "application/problem+json" "422 is a problem"
call "$agent" GET "/v1/disputes?overdue=maybe"
expect_eq "$(problem_field)" "422 overdue" "bad overdue"
call "$agent" GET "/v1/disputes?created_from=yesterday"
expect_eq "$(problem_field)" "422 created_from" "bad created_from"
call "$agent" GET "/v1/disputes?colour=red"
expect_eq "$(problem_field)" "422 colour" "unknown parameter"
call "$agent" GET "/v1/disputes?cursor=garbage"
expect_eq "$(problem_field)" "422 cursor" "bad cursor"
call "" GET /v1/disputes
expect_eq "$STATUS" "401" "listing needs a key"
call "$agent" PUT /v1/disputes
expect_eq "$STATUS" "405" "PUT on the list"
expect_eq "$(header Allow)" "GET, POST" "the list takes GET and POST"

call "$auditor" GET "/v1/disputes/$id/offers"
expect_eq "$STATUS" "200" "offers"
expect_eq "$(header ETag)" '"3"' "offers carry the dispute's ETag"
expect_eq "$(jq -r '.dispute + " " + (.version|tostring)' <<<"$BODY")" "$id 3" "offers name the dispute"
expect_eq "$(jq -r '.offers | length > 0' <<<"$BODY")" "true" "offers proposed"
expect_eq "$(jq -r '.cut | type' <<<"$BODY")" "array" "cut offers listed"
expect_has "$(jq -r '[.offers[].type] | join(",")' <<<"$BODY")" "refund_keep_item" "refund offered"

call "$acme" GET "/v1/disputes/$id/history"
expect_eq "$STATUS" "200" "history"
expect_eq "$(jq -r '[.events[].event] | join(",")' <<<"$BODY")" "opened,investigate,evidence_added" "events in order"
expect_eq "$(jq -r '.commits | length' <<<"$BODY")" "3" "one commit per change"
expect_eq "$(jq -r '.commits[0].parent' <<<"$BODY")" "null" "first commit has no parent"
expect_eq "$(jq -r '.commits[1].parent == .commits[0].commit' <<<"$BODY")" "true" "history is linear"
expect_has "$(jq -r '.commits[0].at' <<<"$BODY")" "T" "commit time is RFC 3339"

call "$auditor" GET "/v1/disputes/$id/verify"
expect_eq "$STATUS" "200" "verify"
expect_eq "$(jq -r '.ok' <<<"$BODY")" "true" "verification passes"
expect_eq "$(jq -r '.disputes' <<<"$BODY")" "1" "one dispute verified"
expect_eq "$(jq -r '.files_hashed' <<<"$BODY")" "1" "the evidence file re-hashed"

call "$agent" GET "/v1/disputes/$id/evidence"
expect_eq "$STATUS" "200" "evidence"
expect_eq "$(jq -r '.evidence[0].kind + " " + .evidence[0].sha256' <<<"$BODY")" \
	"photo $(sha256sum "$photo" | cut -d' ' -f1)" "evidence row"

for tail in offers history verify evidence; do
	call "$other" GET "/v1/disputes/$id/$tail"
	expect_eq "$STATUS" "404" "$tail: another storefront's dispute is not found"
	hidden=$BODY
	call "$other" GET "/v1/disputes/01ARZ3NDEKTSV4RRFFQ69G5FAV/$tail"
	expect_eq "$STATUS" "404" "$tail: missing dispute"
	expect_eq "$(jq -c 'del(.detail)' <<<"$hidden") $(jq -r .detail <<<"$hidden" | sed "s/$id/ID/")" \
		"$(jq -c 'del(.detail)' <<<"$BODY") $(jq -r .detail <<<"$BODY" | sed 's/01ARZ3NDEKTSV4RRFFQ69G5FAV/ID/')" \
		"$tail: hidden and missing disputes answer alike"
	call "$agent" DELETE "/v1/disputes/$id/$tail"
	expect_eq "$STATUS" "405" "$tail: wrong method"
	allow=GET
	[ "$tail" = evidence ] && allow="GET, POST"
	expect_eq "$(header Allow)" "$allow" "$tail: Allow"
done
call "$other" GET "/v1/disputes/$oid/evidence"
expect_eq "$(jq -r '(.evidence | length | tostring)' <<<"$BODY")" "0" "storefront reads its own evidence list"

# --- evidence upload and download -------------------------------------------------
evcount() { call "$agent" GET "/v1/disputes/$id/evidence"; jq -r '.evidence | length' <<<"$BODY"; }
before=$(evcount)
sum=$(sha256sum "$photo" | cut -d' ' -f1)
call "$acme" POST "/v1/disputes/$id/evidence?kind=photo&captured_at=2026-03-01T08:30:00Z&name=box.png&note=dented%20corner" \
	-H 'Content-Type: application/octet-stream' --data-binary "@$photo"
expect_eq "$STATUS" "201" "storefront uploads a photo"
n=$(jq -r .n <<<"$BODY")
expect_eq "$(header Location)" "/v1/disputes/$id/evidence/$n" "Location of the evidence"
expect_eq "$(jq -r .sha256 <<<"$BODY")" "$sum" "uploaded digest is the file's"
expect_eq "$(jq -r '.kind + " " + .original_name + " " + .note + " " + .content_type' <<<"$BODY")" \
	"photo box.png dented corner image/png" "upload metadata"
expect_eq "$(evcount)" "$((before + 1))" "one more evidence row"

call "$auditor" GET "/v1/disputes/$id/evidence/$n"
if cmp -s "$photo" "$RESPONSE_FILE"; then ok; else fail "downloaded bytes differ"; fi
expect_eq "$(header Content-Type)" "image/png" "download Content-Type"
expect_eq "$(header Content-Disposition)" "attachment; filename=\"evidence-$n.png\"" "download Content-Disposition"
expect_eq "$(header X-Content-Type-Options)" "nosniff" "download nosniff"
expect_eq "$(header ETag)" "\"$sum\"" "download ETag is the digest"
b64=$(printf '%s' "$sum" | perl -ne 'print pack("H*", $_)' | base64)
expect_eq "$(header Repr-Digest)" "sha-256=:$b64:" "download Repr-Digest"
call "$acme" GET "/v1/disputes/$id/evidence/$n"
expect_eq "$STATUS" "200" "storefront downloads its own evidence"
call "$other" GET "/v1/disputes/$id/evidence/$n"
expect_eq "$STATUS" "404" "another storefront's evidence is not found"
call "$agent" GET "/v1/disputes/$id/evidence/99"
expect_eq "$STATUS" "404" "unknown evidence number"
call "$agent" GET "/v1/disputes/$id/evidence/x1"
expect_eq "$STATUS" "404" "evidence number not a number"
call "$agent" DELETE "/v1/disputes/$id/evidence/$n"
expect_eq "$(header Allow)" "GET" "evidence file takes GET only"

note=$(sample_file note)
call "$agent" POST "/v1/disputes/$id/evidence?kind=photo&captured_at=2026-03-01T08:30:00Z" \
	-H 'Content-Type: application/octet-stream' --data-binary "@$note"
expect_eq "$STATUS" "415" "text as a photo"
expect_eq "$(header Content-Type)" "application/problem+json" "415 is a problem"
call "$agent" POST "/v1/disputes/$id/evidence?kind=hologram" --data-binary "@$note"
expect_eq "$STATUS" "422" "unknown kind"
call "$agent" POST "/v1/disputes/$id/evidence" --data-binary "@$note"
expect_eq "$(problem_field)" "422 kind" "kind is required"
call "$agent" POST "/v1/disputes/$id/evidence?kind=photo" --data-binary "@$photo"
expect_eq "$STATUS" "422" "photo without captured_at"
call "$agent" POST "/v1/disputes/$id/evidence?kind=photo&captured_at=yesterday" --data-binary "@$photo"
expect_eq "$(problem_field)" "422 captured_at" "bad captured_at"
call "$auditor" POST "/v1/disputes/$id/evidence?kind=note" --data-binary "@$note"
expect_eq "$STATUS" "403" "auditor may not upload"
call "$other" POST "/v1/disputes/$id/evidence?kind=note" --data-binary "@$note"
expect_eq "$STATUS" "404" "another storefront's dispute takes no upload"
call "$agent" POST "/v1/disputes/$id/evidence?kind=note" -H 'Transfer-Encoding: chunked' --data-binary "@$note"
expect_eq "$(problem_field)" "400 Content-Length" "upload needs Content-Length"
call "$agent" POST "/v1/disputes/$id/evidence?kind=note" --data-binary "@$E2E_TMP/big"
expect_eq "$STATUS" "413" "2 MiB note over its kind's limit"
call "" POST "/v1/disputes/$id/evidence?kind=note" --data-binary "@$note"
expect_eq "$STATUS" "401" "upload needs a key"
call "$agent" POST "/v1/disputes/$id/evidence?kind=note" --data-binary "@$note"
expect_eq "$STATUS" "201" "a note after refusals, on the same server"
expect_eq "$(evcount)" "$((before + 2))" "refused uploads recorded nothing"
call "$auditor" GET "/v1/disputes/$id/verify"
expect_eq "$(jq -r .ok <<<"$BODY")" "true" "uploads verify"

# --- an auditor tries every write: each refused, nothing changed ----------------------
before=$(dump)
png=$(sample_file photo)
for attempt in \
	"POST /v1/disputes --data-binary @$REDRESS_SOURCE_DIR/examples/dispute.json" \
	"POST /v1/disputes/$id/events --data {\"event\":\"withdraw\"}" \
	"POST /v1/disputes/$id/events -H If-Match:\"1\" --data {\"event\":\"investigate\"}" \
	"POST /v1/disputes/$id/evidence?kind=photo&captured_at=2026-03-01T10:00:00Z --data-binary @$png" \
	"POST /v1/disputes/$id/evidence -F kind=photo -F captured_at=2026-03-01T10:00:00Z -F file=@$png" \
	"POST /v1/disputes -H Idempotency-Key:audit-1 --data-binary @$REDRESS_SOURCE_DIR/examples/dispute.json"; do
	# shellcheck disable=SC2086
	call "$auditor" $attempt
	expect_eq "$STATUS" "403" "auditor: $attempt"
done
expect_eq "$(dump)" "$before" "the auditor's attempts changed nothing"

# --- graceful stop ---------------------------------------------------------------
stop_server api TERM 5
expect_eq "$STOP_CODE" "0" "server exits 0 on SIGTERM within 5 s"
expect_eq "$(rd show "$id" --json | jq -r .state)" "investigating" "the dispute is still there"

finish
