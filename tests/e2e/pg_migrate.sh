#!/usr/bin/env bash
# `redress migrate --from DATA_DIR --to URI` moves an embedded record into
# PostgreSQL with every id unchanged. An embedded data directory is built
# through the workflow (offers accepted, evidence of several sizes, one
# withdrawn, keys, an Idempotency-Key request through a server), then
# moved into the test's database; a node with a new data directory on it
# verifies the record, shows every dispute as the source does, serves the
# same evidence bytes, the same git ids and heads, takes the source's API
# keys, replays the Idempotency-Key request, and builds a mirror that
# passes git fsck. The source is left as it was. A second migrate into the
# (no longer empty) database, a --from that is no data directory, a --to
# that is no PostgreSQL URI, and a source a server has open are refused.
# PostgreSQL only (ctest runs it as e2e/pg_migrate@pg).
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

if ! on_postgres; then
	echo "PostgreSQL only: run as e2e/pg_migrate@pg" >&2
	exit 1
fi

# The source is embedded: no REDRESS_STORE until the migrate.
PG_URI=$REDRESS_STORE
unset REDRESS_STORE
SRC=$REDRESS_DATA
NODE=$E2E_TMP/node

rd init >/dev/null
agent=$(new_key agent --name migrating-agent)
# a webhook endpoint, whose events, position and deliveries move too
endpoint=$(rd webhook create --url https://shop.example/hooks --events '*' \
	--storefront acme-eu --json | jq -r .id)
revoked_id=$(rd key create --role auditor --name gone --json | jq -r .id)
rd key revoke "$revoked_id" >/dev/null
rd key quota acme-eu --daily 1GiB >/dev/null

# a refund, accepted and paid
refund=$(open_dispute)
ev "$refund" investigate --as agent:alice
ev "$refund" make_offer --field offer_id="$(offer_for "$refund" refund_keep_item)"
ev "$refund" accept_offer --as storefront:acme-eu
ev "$refund" refund_issued --as storefront:acme-eu --field payment_ref=PAY-1

# a reshipment with evidence: small, 1.5 MiB, 3 MiB + a little, one withdrawn
reship=$(open_dispute)
ev "$reship" investigate
ev "$reship" make_offer --field offer_id="$(offer_for "$reship" reshipment 7000)"
ev "$reship" accept_offer --as storefront:acme-eu
add_evidence "$reship" photo
add_evidence "$reship" tracking_record
rd evidence withdraw "$reship" 2 --reason "wrong parcel" >/dev/null
for size in $((1536 * 1024)) $((3 * 1024 * 1024 + 77)); do
	head -c "$size" /dev/urandom | base64 -w 76 | head -c "$size" >"$E2E_TMP/note-$size.txt"
	rd evidence add "$reship" "$E2E_TMP/note-$size.txt" --kind chat_transcript --channel email >/dev/null
done

# the conversation: an internal note, an answer and an unanswered message
rd message "$reship" --direction internal --channel other --body "note before the move" >/dev/null
rd message "$reship" --direction outbound --channel email --body "Your replacement is on its way." >/dev/null
rd message "$reship" --direction inbound --channel email --body "Thanks, where is it?" >/dev/null
src_reply=$(rd show "$reship" --json | jq -c .reply_deadline)

# one more, opened through a server with an Idempotency-Key
start_server src --sweep-interval 0
doc=$(jq -c '. + {allow_duplicate: true}' "$REDRESS_SOURCE_DIR/examples/dispute.json")
call "$agent" POST /v1/disputes -H "Idempotency-Key: migrate-1" --data-binary "$doc"
expect_eq "$STATUS" "201" "the source's server opens a dispute"
idem_id=$(jq -r .id <<<"$BODY")
idem_body=$BODY

# the feed as the source has it, once its server has fanned it out
call "$agent" GET "/v1/events?limit=500"
src_feed=$(jq -r '[.items[].id] | join(" ")' <<<"$BODY")
for _ in $(seq 100); do
	[ "$(rd webhook deliveries "$endpoint" --json --limit 100 | jq '.items | length')" -ge "$(wc -w <<<"$src_feed")" ] && break
	sleep 0.1
done
src_deliveries=$(rd webhook deliveries "$endpoint" --json --limit 100 | jq -r '[.items[].id] | join(" ")')
expect_eq "$(wc -w <<<"$src_deliveries")" "$(wc -w <<<"$src_feed")" "the source fanned every event out to its endpoint"

# --- refused while a server has the source open ---------------------------
expect_exit 8 rd migrate --from "$SRC" --to "$PG_URI"
expect_has "$ERR" "has it open" "a source in use is refused"
expect_has "$ERR" "serve" "the message names the server"
stop_server src

ids=$(rd list --json --limit 500 | jq -r '.disputes[].id' | sort)
expect_eq "$(wc -l <<<"$ids")" "3" "three disputes in the source"
for id in $ids; do rd show "$id" --json >"$E2E_TMP/src-$id.json"; done
sqlite3 "$SRC/redress.db" "SELECT dispute_id || ' ' || head FROM refs ORDER BY 1" >"$E2E_TMP/src-refs"
sqlite3 "$SRC/redress.db" "SELECT lower(hex(id)) || ' ' || type || ' ' || size FROM objects ORDER BY n" >"$E2E_TMP/src-objects"
sqlite3 "$SRC/redress.db" "SELECT state || ' ' || disputes FROM stats_states ORDER BY 1;
	SELECT name || ' ' || value FROM stats_totals ORDER BY 1;
	SELECT storefront || ' ' || what || ' ' || name || ' ' || value FROM stats_overview ORDER BY 1;
	SELECT storefront || ' ' || day || ' ' || bytes FROM evidence_usage ORDER BY 1" >"$E2E_TMP/src-totals"
"$REDRESS_TOOLS/rd-dump" "$SRC" >"$E2E_TMP/src.dump"
src_sum=$(find "$SRC" -path "$SRC/evidence.git" -prune -o -type f ! -name 'holder-*' ! -name 'redress.db-wal' ! -name 'redress.db-shm' -print0 |
	sort -z | xargs -0 sha256sum | sha256sum)

# --- bad arguments ---------------------------------------------------------
expect_exit 3 rd migrate --from "$E2E_TMP/nowhere" --to "$PG_URI"
expect_has "$ERR" "not a directory" "a --from that does not exist"
mkdir "$E2E_TMP/empty"
expect_exit 3 rd migrate --from "$E2E_TMP/empty" --to "$PG_URI"
expect_has "$ERR" "not a redress data directory" "a --from without a record"
expect_exit 2 rd migrate --from "$SRC" --to "$E2E_TMP/other.db"
expect_has "$ERR" "not a PostgreSQL URI" "a --to that is no URI"
expect_exit 2 rd migrate --from "$SRC"
expect_has "$ERR" "--to" "--to is needed"
expect_eq "$(psql -X -q -A -t "$PG_URI" -c "SELECT count(*) FROM pg_tables WHERE tablename = 'disputes'")" "0" \
	"refusals leave the target untouched"

# --- the move --------------------------------------------------------------
expect_exit 0 rd migrate --from "$SRC" --to "$PG_URI" --json
expect_eq "$(jq -r .disputes <<<"$OUT")" "3" "three disputes moved"
expect_eq "$(jq -r .files <<<"$OUT")" "4" "four evidence files moved"
expect_eq "$(jq -r .keys <<<"$OUT")" "2" "both keys moved, the revoked one too"

# the source is as it was
after_sum=$(find "$SRC" -path "$SRC/evidence.git" -prune -o -type f ! -name 'holder-*' ! -name 'redress.db-wal' ! -name 'redress.db-shm' -print0 |
	sort -z | xargs -0 sha256sum | sha256sum)
expect_eq "$after_sum" "$src_sum" "the source's files are unchanged"
# a read-only reader of a WAL database leaves SQLite's index of an empty log
expect_eq "$(stat -c %s "$SRC/redress.db-wal" 2>/dev/null || echo 0)" "0" "nothing was logged to be written"

export REDRESS_STORE=$PG_URI
export REDRESS_DATA=$NODE
rd init >/dev/null
expect_exit 0 rd audit verify --all
expect_has "$OUT" "0 mismatches" "the moved record verifies"
for id in $ids; do
	rd show "$id" --json >"$E2E_TMP/pg-$id.json"
	expect_exit 0 cmp "$E2E_TMP/src-$id.json" "$E2E_TMP/pg-$id.json"
done
expect_eq "$(record_sql "SELECT dispute_id || ' ' || head FROM refs ORDER BY 1")" "$(cat "$E2E_TMP/src-refs")" \
	"the same heads"
expect_eq "$(record_sql "SELECT encode(id, 'hex') || ' ' || type || ' ' || size FROM objects ORDER BY n")" \
	"$(cat "$E2E_TMP/src-objects")" "the same objects, in the same order"
expect_eq "$(record_sql "SELECT state || ' ' || disputes FROM stats_states ORDER BY 1;
	SELECT name || ' ' || value FROM stats_totals ORDER BY 1;
	SELECT storefront || ' ' || what || ' ' || name || ' ' || value FROM stats_overview ORDER BY 1;
	SELECT storefront || ' ' || day || ' ' || bytes FROM evidence_usage ORDER BY 1")" \
	"$(cat "$E2E_TMP/src-totals")" "the same running totals"
"$REDRESS_TOOLS/rd-dump" "$NODE" >"$E2E_TMP/pg.dump"
expect_exit 0 diff "$E2E_TMP/src.dump" "$E2E_TMP/pg.dump"
expect_eq "$(record_sql "SELECT count(*) FROM changes c JOIN commits m ON m.n = c.seq AND m.batch = c.batch")" \
	"$(record_sql "SELECT count(*) FROM changes")" "each change is its own commit"

# evidence bytes, byte for byte
n=1
for f in "$(sample_file photo)" "$(sample_file tracking_record)" \
	"$E2E_TMP/note-$((1536 * 1024)).txt" "$E2E_TMP/note-$((3 * 1024 * 1024 + 77)).txt"; do
	rd evidence get "$reship" "$n" -o "$E2E_TMP/back-$n"
	expect_exit 0 cmp "$f" "$E2E_TMP/back-$n"
	n=$((n + 1))
done
expect_eq "$(rd evidence list "$reship" --json | jq -r '[.evidence[] | select(.withdrawn)] | length')" "1" \
	"the withdrawn evidence stays withdrawn"
expect_eq "$(rd messages "$reship" --json | jq -r '[.items[] | .direction + ":" + .body] | join("|")')" \
	"internal:note before the move|outbound:Your replacement is on its way.|inbound:Thanks, where is it?" \
	"the messages moved"
expect_eq "$(rd show "$reship" --json | jq -c .reply_deadline)" "$src_reply" "and the reply clock"
expect_eq "$(rd list --awaiting-reply --json | jq -r '[.disputes[].id] | join(" ")')" "$reship" \
	"which the awaiting-reply list finds"
# the search index, made again by the target's triggers as rows arrive
expect_eq "$(rd list --q 'replacement way' --json | jq -r '[.disputes[].id] | join(" ")')" "$reship" \
	"a search finds the moved messages"
expect_eq "$(rd list --q 'before move' --json | jq -r '.disputes | length')" "0" \
	"and never an internal note"
expect_eq "$(rd list --q ORD-1001 --json --limit 500 | jq -r '.disputes | length')" \
	"$(wc -w <<<"$ids" | tr -d ' ')" "every moved dispute is found by its order"

# the mirror: made on this node from the first change
expect_exit 0 rd mirror
expect_exit 0 git --git-dir="$NODE/evidence.git" fsck --strict
for id in $ids; do
	expect_eq "$(git --git-dir="$NODE/evidence.git" rev-parse "refs/disputes/$id")" \
		"$(grep "^$id " "$E2E_TMP/src-refs" | cut -d' ' -f2)" "the mirror's head of $id"
done

# a server on the target: the source's key works, the request replays,
# new changes go on from there
start_server pg --sweep-interval 0
call "$agent" GET "/v1/disputes/$refund"
expect_eq "$STATUS" "200" "the source's API key works"
call "$agent" POST /v1/disputes -H "Idempotency-Key: migrate-1" --data-binary "$doc"
expect_eq "$STATUS" "201" "the Idempotency-Key request replays"
expect_eq "$(jq -r .id <<<"$BODY")" "$idem_id" "the same dispute"
expect_eq "$(header Idempotent-Replayed)" "true" "marked as a replay"
expect_eq "$(jq -cS . <<<"$BODY")" "$(jq -cS . <<<"$idem_body")" "the same answer"
call "$agent" POST "/v1/disputes/$idem_id/events" -d '{"event":"investigate"}'
expect_eq "$STATUS" "200" "a new change on the moved record"
call "$agent" POST /v1/disputes --data-binary "$doc"
expect_eq "$STATUS" "201" "a new dispute on the moved record"
new_id=$(jq -r .id <<<"$BODY")
call "$agent" GET "/v1/events?limit=500"
expect_eq "$(jq -r --argjson n "$(wc -w <<<"$src_feed")" '[.items[:$n][].id] | join(" ")' <<<"$BODY")" "$src_feed" \
	"the feed holds the source's events, in their order"
expect_eq "$(jq -r '[.items[].data.id] | .[-1]' <<<"$BODY")" "$new_id" "and goes on with the new ones"
expect_eq "$(rd webhook list --json | jq -r '[.items[].id] | join(" ")')" "$endpoint" "the endpoint moved"
for _ in $(seq 100); do
	moved=$(rd webhook deliveries "$endpoint" --json --limit 100 | jq -r '[.items[].id] | join(" ")')
	# two new events (the change and the new dispute), fanned out in one
	# round or two
	[ "$(wc -w <<<"$moved")" -ge $(($(wc -w <<<"$src_deliveries") + 2)) ] && break
	sleep 0.1
done
expect_eq "${moved#* * }" "$src_deliveries" "its deliveries moved, and the new events are fanned out after them"
expect_eq "$(rd webhook deliveries "$endpoint" --json --limit 100 | jq -r --arg d "$new_id" '[.items[] | select(.dispute_id == $d) | .event_type] | join(" ")')" \
	"dispute.opened" "the new dispute's event is delivered to the moved endpoint"
mirror_wait
stop_server pg
expect_exit 0 rd audit verify --all
expect_has "$OUT" "0 mismatches" "the record verifies after new changes"
expect_exit 0 git --git-dir="$NODE/evidence.git" fsck --strict

# --- a second migrate into the same database --------------------------------
before=$(record_sql "SELECT count(*) FROM disputes")
expect_exit 5 "$REDRESS" migrate --from "$SRC" --to "$PG_URI"
expect_has "$ERR" "not empty" "a database holding a record is refused"
expect_has "$ERR" "$before disputes" "the message counts its disputes"
expect_eq "$(record_sql "SELECT count(*) FROM disputes")" "$before" "nothing was merged"

finish
