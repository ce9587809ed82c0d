#!/usr/bin/env bash
# Evidence bytes in PostgreSQL, so that nodes share no disk: two servers,
# each with a data directory of its own, on one database. A file uploaded
# through one is downloaded whole through the other; neither data
# directory holds evidence bytes. A server killed in the middle of an
# upload leaves an upload no file names, which `redress clean` removes,
# and the kept file is still read whole after. PostgreSQL only
# (ctest runs it as e2e/pg_files@pg).
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

if ! on_postgres; then
	echo "PostgreSQL only: run as e2e/pg_files@pg" >&2
	exit 1
fi

DATA_A=$E2E_TMP/node-a
DATA_B=$E2E_TMP/node-b
SIZE=$((3 * 1024 * 1024 + 4321))   # four chunks, the last one short

REDRESS_DATA=$DATA_A rd init >/dev/null
REDRESS_DATA=$DATA_B rd init >/dev/null   # a second node: its own directory, the same database
agent=$(REDRESS_DATA=$DATA_A new_key agent)
id=$(REDRESS_DATA=$DATA_A open_dispute)
{
	printf '\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41'
	head -c $((SIZE - 32)) /dev/urandom
} >"$E2E_TMP/clip.mp4"

REDRESS_DATA=$DATA_A start_server a --sweep-interval 0
REDRESS_DATA=$DATA_B start_server b --sweep-interval 0

# --- uploaded through one node, read through the other -------------------------------
api "$agent" POST "$BASE_a/v1/disputes/$id/evidence?kind=video&captured_at=2026-03-01T08:00:00Z&name=clip.mp4" \
	-H 'Content-Type: video/mp4' --data-binary @"$E2E_TMP/clip.mp4"
expect_eq "$STATUS" "201" "node a stores the upload"
n=$(jq -r .n <<<"$BODY")
sha=$(jq -r .sha256 <<<"$BODY")
expect_eq "$sha" "$(sha256sum "$E2E_TMP/clip.mp4" | cut -d' ' -f1)" "its SHA-256 is that of the bytes sent"
expect_eq "$(record_sql "SELECT count(*) FROM file_chunks c JOIN files f ON f.upload = c.upload")" "4" \
	"its bytes are four chunks of the database"
expect_eq "$(record_sql "SELECT max(octet_length(data)) FROM file_chunks")" "1048576" \
	"a chunk holds 1 MiB at most"

curl -s -o "$E2E_TMP/back.mp4" -H "Authorization: Bearer $agent" "$BASE_b/v1/disputes/$id/evidence/$n"
expect_exit 0 cmp -s "$E2E_TMP/back.mp4" "$E2E_TMP/clip.mp4"
api "$agent" GET "$BASE_b/v1/disputes/$id/evidence"
expect_eq "$(jq -r '.evidence[0].sha256' <<<"$BODY")" "$sha" "node b lists it"

# the same bytes again, through the other node: kept once
api "$agent" POST "$BASE_b/v1/disputes/$id/evidence?kind=video&captured_at=2026-03-01T08:05:00Z" \
	-H 'Content-Type: video/mp4' --data-binary @"$E2E_TMP/clip.mp4"
expect_eq "$STATUS" "201" "node b stores the same bytes as new evidence"
expect_eq "$(record_sql "SELECT count(*) FROM files")" "1" "the bytes are kept once"
expect_eq "$(record_sql "SELECT count(*) FROM file_uploads")" "1" "the second upload's chunks were dropped"

# no evidence bytes on either node's disk
for dir in "$DATA_A" "$DATA_B"; do
	[ -e "$dir/blobs" ] && fail "$dir has a blobs directory" || ok
	big=$(find "$dir" -path "$dir/evidence.git" -prune -o -type f -size +1024k -print | head -1)
	expect_eq "$big" "" "no large file in $dir outside its mirror"
done

stop_server b
expect_eq "$STOP_CODE" "0" "node b stops with 0"

# --- a node killed in the middle of an upload -------------------------------------------
{
	printf '\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41'
	head -c $((8 * 1024 * 1024)) /dev/urandom
} >"$E2E_TMP/long.mp4"
curl -s -o /dev/null --limit-rate 1M -H "Authorization: Bearer $agent" -H 'Content-Type: video/mp4' \
	--data-binary @"$E2E_TMP/long.mp4" \
	"$BASE_a/v1/disputes/$id/evidence?kind=video&captured_at=2026-03-01T08:10:00Z" &
uploader=$!
chunks=0
for _ in $(seq 100); do
	chunks=$(record_sql "SELECT count(*) FROM file_chunks c WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.upload = c.upload)")
	[ "$chunks" -ge 2 ] && break
	sleep 0.1
done
[ "$chunks" -ge 2 ] && ok || fail "the upload had stored $chunks chunks after 10 s"
stop_server a KILL
wait "$uploader" || true
expect_eq "$(record_sql "SELECT count(*) FROM file_uploads u WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.upload = u.upload)")" \
	"1" "the killed upload is left, named by no file"

# any node cleans it up; the kept file stays
REDRESS_DATA=$DATA_B start_server b --sweep-interval 0
expect_exit 0 env REDRESS_DATA="$DATA_B" "$REDRESS" clean --json
expect_eq "$(jq -c '[.removed, .abandoned_uploads]' <<<"$OUT")" "[0,0]" \
	"within a day nothing is removed"
sleep 1.1   # "more than 0 seconds ago", to the second
expect_exit 0 env REDRESS_DATA="$DATA_B" "$REDRESS" clean --older-than 0 --json
expect_eq "$(jq -c '[.files, .removed, .abandoned_uploads]' <<<"$OUT")" "[1,0,1]" \
	"the upload cut short is removed, the named file kept"
expect_eq "$(record_sql "SELECT count(*) FROM file_chunks")" "4" "only the kept file's chunks remain"
curl -s -o "$E2E_TMP/back2.mp4" -H "Authorization: Bearer $agent" "$BASE_b/v1/disputes/$id/evidence/$n"
expect_exit 0 cmp -s "$E2E_TMP/back2.mp4" "$E2E_TMP/clip.mp4"
stop_server b
expect_eq "$STOP_CODE" "0" "node b stops with 0"
expect_exit 0 env REDRESS_DATA="$DATA_B" "$REDRESS" audit verify --all
expect_has "$OUT" "0 mismatches" "the record verifies, its files re-hashed from the database"

finish
