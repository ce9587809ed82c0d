#!/usr/bin/env bash
# Nothing left behind by a crash: a server killed with SIGKILL in the middle
# of a large upload leaves the evidence file it was receiving
# (blobs/upload.tmp-*) and its holder files (holder-<pid>-*) behind; the
# next start removes them. A temporary of a live process is never removed:
# commands run beside the uploading server, and a second server started
# beside it, leave it be.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

SIZE=$((24 * 1024 * 1024))
BLOBS="$REDRESS_DATA/blobs"

rd init >/dev/null
agent=$(new_key agent)
id=$(open_dispute)
{
	printf '\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41'
	head -c $((SIZE - 32)) /dev/urandom
} >"$E2E_TMP/big.mp4"

temporaries() { # the leftover-candidates, one a line
	{
		find "$BLOBS" -maxdepth 1 -name 'upload.tmp-*' -type f
		find "$REDRESS_DATA/evidence.git/objects" -name '*_git2_*' -type f 2>/dev/null
	} | sort
}

holders() { # PID: the holder files of that process, one a line
	find "$REDRESS_DATA" -maxdepth 1 -name "holder-$1-*" | sort
}

# await_temporary: wait (up to 10 s) for an evidence file being received of
# at least 1 MiB, i.e. an upload well under way; its path in $TEMP_FILE.
await_temporary() {
	TEMP_FILE=""
	for _ in $(seq 200); do
		TEMP_FILE=$(find "$BLOBS" -maxdepth 1 -name 'upload.tmp-*' \
			-size +1024k | head -1)
		[ -n "$TEMP_FILE" ] && return 0
		sleep 0.05
	done
}

# slow_upload: the 24 MiB video at 3 MiB/s (about 8 s), in the background
slow_upload() {
	curl -s -o /dev/null --limit-rate 3M -H "Authorization: Bearer $agent" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$E2E_TMP/big.mp4" \
		"$SERVER_BASE/v1/disputes/$id/evidence?kind=video&captured_at=2026-03-01T08:00:00Z" &
	UPLOAD_PID=$!
}

start_server s --sweep-interval 0
mirror_wait
expect_eq "$(temporaries)" "" "no temporary before the upload"
slow_upload
await_temporary
[ -n "$TEMP_FILE" ] && ok || fail "no temporary file while uploading: $(ls "$BLOBS")"

# --- a live process's temporary is left alone ------------------------------
expect_exit 0 rd list
expect_exit 0 rd evidence add "$id" "$(sample_file note)" --kind note
[ -f "$TEMP_FILE" ] && ok || fail "a command removed the live server's temporary"
start_server t --sweep-interval 0
[ -f "$TEMP_FILE" ] && ok || fail "a second server removed the live server's temporary"
stop_server t
expect_eq "$STOP_CODE" "0" "the second server stops cleanly"

# --- SIGKILL mid-way leaves it; the next start removes it ------------------
killed=$PID_s
[ -n "$(holders "$killed")" ] && ok || fail "the running server has no holder file"
stop_server s KILL
wait "$UPLOAD_PID" 2>/dev/null || true
[ -f "$TEMP_FILE" ] && ok || fail "SIGKILL left no temporary (the test proves nothing)"
left=$(stat -c %s "$TEMP_FILE" 2>/dev/null || echo 0)
[ "$left" -gt $((1024 * 1024)) ] && ok || fail "the leftover is only $left bytes"
[ "$left" -lt "$SIZE" ] && ok || fail "the upload was not cut short ($left bytes)"
[ -n "$(holders "$killed")" ] && ok || fail "SIGKILL left no holder file (the test proves nothing)"

start_server s --sweep-interval 0
mirror_wait
expect_eq "$(temporaries)" "" "the restarted server removed the leftover"
expect_eq "$(holders "$killed")" "" "the restarted server removed the killed one's holder files"
expect_eq "$(rd evidence list "$id" --json | jq -c '[.evidence[].kind]')" '["note"]' \
	"the killed upload was not recorded; the note was"
expect_exit 0 rd audit verify --all

# The same upload, not killed, completes and leaves nothing behind.
slow_upload
wait "$UPLOAD_PID"
expect_eq "$(rd evidence list "$id" --json | jq '.evidence | length')" "2" "a whole upload is stored"
# the server's mirror writer packs the upload meanwhile (its pack is a
# temporary while it is written): once the mirror holds it, nothing is left
mirror_wait "$id"
expect_eq "$(temporaries)" "" "a whole upload leaves no temporary"
stop_server s
expect_eq "$STOP_CODE" "0" "server stops cleanly"
expect_eq "$(find "$REDRESS_DATA" -maxdepth 1 -name 'holder-*')" "" "a clean stop leaves no holder file"

finish
