#!/usr/bin/env bash
# 32 clients, each with its own key, write to one dispute at once with
# If-Match: each reads the dispute (ETag and state), then posts the event
# the state allows (escalate from investigating, resume from escalated)
# conditional on the version it read. Exactly one write succeeds per
# version: every 2xx carries a new, distinct version one above the one
# its client read, every other answer is 412 and changed nothing, and no
# update is lost (the final version and the history count every success).
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

WRITERS=32
ROUNDS=3

rd init >/dev/null
for w in $(seq "$WRITERS"); do
	new_key admin --name "writer-$w" >"$E2E_TMP/key-$w"
done
key1=$(cat "$E2E_TMP/key-1")

start_server s --sweep-interval 0
BASE=$SERVER_BASE

api "$key1" POST "$BASE/v1/disputes" --data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "201" "dispute opened"
id=$(jq -r .id <<<"$BODY")
api "$key1" POST "$BASE/v1/disputes/$id/events" -H 'If-Match: "1"' --data '{"event":"investigate"}'
expect_eq "$STATUS" "200" "investigating"
START_VERSION=2

# writer N uses its own key; each attempt logs "STATUS READ ANSWERED
# EVENT TYPE" (server.bash, race_if_match)
race_key() { cat "$E2E_TMP/key-$1"; }
race_if_match "$BASE" "$id" "$ROUNDS" "$WRITERS" "$E2E_TMP/results"

R="$E2E_TMP/results"
expect_eq "$(wc -l <"$R" | tr -d ' ')" "$((WRITERS * ROUNDS))" "every attempt answered"
expect_eq "$(awk '$1 != 200 && $1 != 412' "$R")" "" "every answer is 200 or 412"
expect_eq "$(awk '$1 == 412 && $5 != "https://redress.dev/problems/stale"' "$R")" "" "every 412 is a stale problem"
expect_eq "$(awk '$1 == 200 && $3 != $2 + 1' "$R")" "" "every 2xx answers the version read plus one"
successes=$(awk '$1 == 200' "$R" | wc -l | tr -d ' ')
if [ "$successes" -ge "$ROUNDS" ]; then ok; else fail "only $successes writes succeeded"; fi
expect_eq "$(awk '$1 == 200 {print $3}' "$R" | sort -n | uniq -d)" "" "no two successes share a version"
expect_eq "$(awk '$1 == 200 {print $3}' "$R" | sort -n | tr '\n' ' ')" \
	"$(seq $((START_VERSION + 1)) $((START_VERSION + successes)) | tr '\n' ' ')" \
	"the successes are versions $((START_VERSION + 1)) to $((START_VERSION + successes)), one each"
expect_eq "$(awk '$1 == 200 && $2 == '"$START_VERSION"'' "$R" | wc -l | tr -d ' ')" "1" \
	"of the $WRITERS that read version $START_VERSION, exactly one wrote"

api "$key1" GET "$BASE/v1/disputes/$id"
final=$(jq -r .version <<<"$BODY")
expect_eq "$final" "$((START_VERSION + successes))" "final version: start + successes (no lost update)"
expect_eq "$(tr -d '\r' <<<"$HDRS" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')" "\"$final\"" "ETag of the final version"
api "$key1" GET "$BASE/v1/disputes/$id/history"
expect_eq "$(jq '.events | length' <<<"$BODY")" "$final" "one event per version"
expect_eq "$(jq '.commits | length' <<<"$BODY")" "$final" "one commit per version"
expect_eq "$(jq -r '[.events[2:][] | .event] | to_entries | map(select(.value != (if .key % 2 == 0 then "escalate" else "resume" end))) | length' <<<"$BODY")" \
	"0" "events alternate escalate and resume: each was applied to the state its writer read"
expect_eq "$(jq -r '[.events[2:][] | select(.actor.role != "admin" or (.actor.name | test("^writer-[0-9]+$") | not))] | length' <<<"$BODY")" \
	"0" "every write attributed to the key of its writer"
expect_eq "$(awk '$1 == 200 {print $3}' "$R" | sort -n | tail -1)" "$final" "the last success is the final version"

stop_server s
expect_eq "$STOP_CODE" "0" "server stops with 0"
expect_exit 0 rd audit verify "$id"

finish
