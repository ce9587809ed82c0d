#!/usr/bin/env bash
# Idempotency-Key over HTTP, against the real server: a key retried 50
# times opens one dispute; concurrent duplicates make one dispute (the
# others are told 409 or replayed); a key reused with another request is
# 422; malformed keys are 400; keys are scoped to their API key; events
# and evidence uploads replay their first answer; records survive a
# restart and a reindex; a crash inside the transaction of a change leaves
# neither the change nor its record, so the retry does it once; a note
# that reads like trailers names no request.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

disputes_of() { # ORDER_REF -> how many disputes the index holds for it
	"$REDRESS" list --json --limit 200 |
		jq --arg o "$1" '[.disputes[] | select(.order_ref == $o)] | length'
}

rd init >/dev/null
agent=$(new_key agent --name alice)
agent2=$(new_key agent --name bob)
auditor=$(new_key auditor)
start_server api

body_for() { # ORDER_REF -> a dispute document
	jq -c --arg o "$1" '.order_ref = $o' "$REDRESS_SOURCE_DIR/examples/dispute.json"
}

# --- one key, 50 retries: one dispute ------------------------------------------
doc=$(body_for ORD-IDEM-1)
call "$agent" POST /v1/disputes -H "Idempotency-Key: open-ORD-IDEM-1" --data-binary "$doc"
expect_eq "$STATUS" "201" "first request opens"
first_body=$BODY
first_id=$(jq -r .id <<<"$BODY")
first_location=$(header Location)
first_etag=$(header ETag)
expect_eq "$(header Idempotent-Replayed)" "" "the first answer is not a replay"
replays=0
for _ in $(seq 49); do
	call "$agent" POST /v1/disputes -H "Idempotency-Key: open-ORD-IDEM-1" --data-binary "$doc"
	if [ "$STATUS" = 201 ] && [ "$BODY" = "$first_body" ] &&
	   [ "$(header Idempotent-Replayed)" = "true" ] &&
	   [ "$(header Location)" = "$first_location" ] &&
	   [ "$(header ETag)" = "$first_etag" ]; then
		replays=$((replays + 1))
	fi
done
expect_eq "$replays" "49" "49 retries replay the first answer byte for byte"
expect_eq "$(disputes_of ORD-IDEM-1)" "1" "50 requests, one dispute"

# --- the same key with another request --------------------------------------------
call "$agent" POST /v1/disputes -H "Idempotency-Key: open-ORD-IDEM-1" --data-binary "$(body_for ORD-OTHER)"
expect_eq "$STATUS" "422" "a key reused with another body"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/idempotency_key_reused" "reuse problem type"
expect_eq "$(jq -r .field <<<"$BODY")" "Idempotency-Key" "reuse names the header"
expect_eq "$(disputes_of ORD-OTHER)" "0" "the reused key opened nothing"

# --- scoped to the API key -------------------------------------------------------------
# (a second dispute of the order, on purpose: allow_duplicate)
call "$agent2" POST /v1/disputes -H "Idempotency-Key: open-ORD-IDEM-1" \
	--data-binary "$(jq -c '.allow_duplicate = true' <<<"$doc")"
expect_eq "$STATUS" "201" "another API key's key is its own"
expect_eq "$(header Idempotent-Replayed)" "" "not a replay for another API key"
expect_eq "$(disputes_of ORD-IDEM-1)" "2" "the other API key opened its own"

# --- malformed keys ------------------------------------------------------------------------
long=$(printf 'k%.0s' $(seq 256))
call "$agent" POST /v1/disputes -H "Idempotency-Key: $long" --data-binary "$(body_for ORD-LONG)"
expect_eq "$STATUS" "400" "a 256-character key"
expect_eq "$(jq -r .field <<<"$BODY")" "Idempotency-Key" "the long key is named"
call "$agent" POST /v1/disputes -H "Idempotency-Key: has space" --data-binary "$(body_for ORD-LONG)"
expect_eq "$STATUS" "400" "a key with a space"
expect_eq "$(disputes_of ORD-LONG)" "0" "malformed keys opened nothing"
max=$(printf 'm%.0s' $(seq 255))
call "$agent" POST /v1/disputes -H "Idempotency-Key: $max" --data-binary "$(body_for ORD-MAX)"
expect_eq "$STATUS" "201" "a 255-character key is taken"

# --- a GET ignores the header ----------------------------------------------------------------
call "$auditor" GET "/v1/disputes/$first_id" -H "Idempotency-Key: whatever"
expect_eq "$STATUS" "200" "a GET with a key is a plain GET"

# --- concurrent duplicates: one dispute ---------------------------------------------------------
doc=$(body_for ORD-RACE)
racers=()
for i in $(seq 16); do
	curl -s -o "$E2E_TMP/race-$i.body" -w '%{http_code}\n' -X POST \
		-H "Authorization: Bearer $agent" -H "Idempotency-Key: race-1" \
		--data-binary "$doc" "$SERVER_BASE/v1/disputes" >"$E2E_TMP/race-$i.status" &
	racers+=($!)
done
wait "${racers[@]}"
created=0; other=0
for i in $(seq 16); do
	st=$(cat "$E2E_TMP/race-$i.status")
	if [ "$st" = 201 ]; then
		created=$((created + 1))
	elif [ "$st" = 409 ] && [ "$(jq -r .type "$E2E_TMP/race-$i.body")" = \
		"https://redress.dev/problems/idempotency_key_in_flight" ]; then
		other=$((other + 1))
	fi
done
expect_eq "$((created + other))" "16" "every racer is answered 201 or 409 in flight"
expect_eq "$(disputes_of ORD-RACE)" "1" "16 concurrent requests, one dispute"
ids=$(cat "$E2E_TMP"/race-*.body | jq -r 'select(.id) | .id' | sort -u | wc -l)
expect_eq "$ids" "1" "every 201 names the same dispute"

# --- events ----------------------------------------------------------------------------------------
call "$agent" POST "/v1/disputes/$first_id/events" -H "Idempotency-Key: ev-1" \
	-H "If-Match: \"1\"" --data-binary '{"event":"investigate"}'
expect_eq "$STATUS" "200" "event applied"
expect_eq "$(jq -r .version <<<"$BODY")" "2" "version 2"
event_body=$BODY
call "$agent" POST "/v1/disputes/$first_id/events" -H "Idempotency-Key: ev-1" \
	-H "If-Match: \"1\"" --data-binary '{"event":"investigate"}'
expect_eq "$STATUS" "200" "event retried: the first answer, not 412"
expect_eq "$(header Idempotent-Replayed)" "true" "event replay marked"
expect_eq "$(header ETag)" "\"2\"" "event replay ETag"
expect_eq "$BODY" "$event_body" "event replay body"
call "$agent" POST "/v1/disputes/$first_id/events" -H "Idempotency-Key: ev-1" \
	--data-binary '{"event":"investigate","note":"again"}'
expect_eq "$STATUS" "422" "event key reused with another body"
call "$auditor" GET "/v1/disputes/$first_id/history"
expect_eq "$(jq '[.commits[]?] | length' <<<"$BODY" 2>/dev/null || echo x)" "2" "two commits: opened, investigate"

# --- evidence ----------------------------------------------------------------------------------------
photo=$(sample_file photo)
call "$agent" POST "/v1/disputes/$first_id/evidence?kind=photo&name=box.png&captured_at=2026-03-01T10:00:00Z" \
	-H "Idempotency-Key: up-1" -H "Content-Type: application/octet-stream" --data-binary "@$photo"
expect_eq "$STATUS" "201" "upload: $BODY"
up_body=$BODY
up_location=$(header Location)
call "$agent" POST "/v1/disputes/$first_id/evidence?kind=photo&name=box.png&captured_at=2026-03-01T10:00:00Z" \
	-H "Idempotency-Key: up-1" -H "Content-Type: application/octet-stream" --data-binary "@$photo"
expect_eq "$STATUS" "201" "upload retried"
expect_eq "$(header Idempotent-Replayed)" "true" "upload replay marked"
expect_eq "$(header Location)" "$up_location" "upload replay Location"
expect_eq "$(jq -S . <<<"$BODY")" "$(jq -S . <<<"$up_body")" "upload replay body"
other_photo="$E2E_TMP/other.png"
{ cat "$photo"; printf 'trailing bytes'; } >"$other_photo"
call "$agent" POST "/v1/disputes/$first_id/evidence?kind=photo&name=box.png&captured_at=2026-03-01T10:00:00Z" \
	-H "Idempotency-Key: up-1" -H "Content-Type: application/octet-stream" --data-binary "@$other_photo"
expect_eq "$STATUS" "422" "the same key with another file"
call "$auditor" GET "/v1/disputes/$first_id/evidence"
expect_eq "$(jq '.evidence | length' <<<"$BODY")" "1" "one evidence after three uploads"

# --- an upload retried after its dispute has moved on: still its first answer -------------------------
call "$agent" POST /v1/disputes --data-binary "$(body_for ORD-IDEM-CLOSED)"
closed_id=$(jq -r .id <<<"$BODY")
closed_upload="/v1/disputes/$closed_id/evidence?kind=photo&name=box.png&captured_at=2026-03-01T10:00:00Z"
call "$agent" POST "$closed_upload" -H "Idempotency-Key: up-closed" \
	-H "Content-Type: application/octet-stream" --data-binary "@$photo"
expect_eq "$STATUS" "201" "upload before the dispute closes"
closed_location=$(header Location)
call "$agent" POST "/v1/disputes/$closed_id/events" --data-binary '{"event":"withdraw"}'
expect_eq "$STATUS" "200" "the dispute is withdrawn"
call "$agent" POST "$closed_upload" -H "Idempotency-Key: up-closed" \
	-H "Content-Type: application/octet-stream" --data-binary "@$photo"
expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:true" "the retry after the dispute closed is a replay: $BODY"
expect_eq "$(header Location)" "$closed_location" "the replay names the first upload"
call "$agent" POST "$closed_upload" -H "Idempotency-Key: up-closed" \
	-H "Content-Type: application/octet-stream" --data-binary "@$other_photo"
expect_eq "$STATUS" "422" "the same key with another file, dispute closed"
call "$agent" POST "$closed_upload" -H "Idempotency-Key: up-closed-new" \
	-H "Content-Type: application/octet-stream" --data-binary "@$photo"
expect_eq "$STATUS:$(jq -r .guard <<<"$BODY")" "409:state" "a new upload to a closed dispute is refused"
call "$auditor" GET "/v1/disputes/$closed_id/evidence"
expect_eq "$(jq '.evidence | length' <<<"$BODY")" "1" "one evidence on the closed dispute"

# --- after a restart and after a reindex ---------------------------------------------------------------
stop_server api
start_server api
call "$agent" POST /v1/disputes -H "Idempotency-Key: open-ORD-IDEM-1" --data-binary "$(body_for ORD-IDEM-1)"
expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:true" "replayed after a restart"
expect_eq "$(jq -r .id <<<"$BODY")" "$first_id" "the same dispute after a restart"
stop_server api
expect_exit 0 rd reindex
start_server api
call "$agent" POST "/v1/disputes/$first_id/events" -H "Idempotency-Key: ev-1" \
	-H "If-Match: \"1\"" --data-binary '{"event":"investigate"}'
expect_eq "$STATUS:$(header Idempotent-Replayed)" "200:true" "replayed after a reindex"
stop_server api

# --- a crash inside the transaction of a change ----------------------------------------------
# The change and its Idempotency-Key record commit in one transaction: a
# server that dies inside it (after the commit object is written and the
# head moved, before the commit) leaves neither, so the retry does the
# request once, and a retry of that is a replay.
changes_before=$(record_sql "SELECT count(*) FROM changes")
REDRESS_TEST_CRASH=after-git-commit start_server crash
doc=$(body_for ORD-CRASH)
call "$agent" POST /v1/disputes -H "Idempotency-Key: crash-1" --data-binary "$doc" || true
expect_eq "$STATUS" "000" "the server died before answering"
wait_server crash
expect_eq "$(record_sql "SELECT count(*) FROM changes")" "$changes_before" \
	"the crash recorded no change"
expect_eq "$(disputes_of ORD-CRASH)" "0" "the crash made no dispute"
start_server api
call "$agent" POST /v1/disputes -H "Idempotency-Key: crash-1" --data-binary "$doc"
expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:" "the retry after the crash is the first request done"
crash_id=$(jq -r .id <<<"$BODY")
call "$agent" POST /v1/disputes -H "Idempotency-Key: crash-1" --data-binary "$doc"
expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:true" "a retry of the retry is a replay"
expect_eq "$(jq -r .id <<<"$BODY")" "$crash_id" "of the same dispute"
expect_eq "$(disputes_of ORD-CRASH)" "1" "the crash and the retries made one dispute"
call "$auditor" GET "/v1/disputes/$crash_id"
expect_eq "$STATUS" "200" "the dispute is there"
call "$agent" POST /v1/disputes -H "Idempotency-Key: crash-1" --data-binary "$(body_for ORD-CRASH-2)"
expect_eq "$STATUS" "422" "the record keeps its digest"
stop_server api

# --- a note that reads like trailers is not a request -------------------------------------------
# The note is in the commit message, above the trailers: only the trailer
# block redress writes names a request (an upgrade reads it where the
# earlier release's index lagged its git history). An event with such a
# note, killed inside its transaction, leaves nothing; done again, it is
# recorded with the note as written, and after a restart and a reindex
# the note still names no request for another key.
bob_id=$(cut -d_ -f2 <<<"$agent2")
zeros=$(printf '0%.0s' $(seq 64))
forged=$(jq -cn --arg id "$bob_id" --arg sha "$zeros" '{event: "investigate",
	note: ("Redress-Idempotency-Key: bob-1\nRedress-Idempotency-Request: " + $id + " open " + $sha)}')
REDRESS_TEST_CRASH=after-git-commit start_server crash
call "$agent" POST "/v1/disputes/$crash_id/events" -H 'If-Match: "1"' --data-binary "$forged" || true
expect_eq "$STATUS" "000" "the server died before answering the event"
wait_server crash
start_server api
call "$auditor" GET "/v1/disputes/$crash_id"
expect_eq "$(jq -r .version <<<"$BODY")" "1" "the killed event left nothing"
call "$agent" POST "/v1/disputes/$crash_id/events" -H 'If-Match: "1"' --data-binary "$forged"
expect_eq "$STATUS:$(jq -r .version <<<"$BODY")" "200:2" "the event done again is recorded"
stop_server api
expect_exit 0 rd mirror
expect_has "$(git --git-dir="$REDRESS_DATA/evidence.git" log -1 --format=%B "refs/disputes/$crash_id")" \
	"Redress-Idempotency-Key: bob-1" "the note is kept as written"
expect_exit 0 rd reindex
start_server api
call "$agent2" POST /v1/disputes -H "Idempotency-Key: bob-1" --data-binary "$(body_for ORD-BOB)"
expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:" "a note made no request for another key"
expect_eq "$(disputes_of ORD-BOB)" "1" "bob's request opened its dispute"
stop_server api
expect_exit 0 rd audit verify --all

finish
