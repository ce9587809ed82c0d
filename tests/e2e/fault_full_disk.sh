#!/usr/bin/env bash
# A full disk during an evidence upload over HTTP, simulated two ways:
#
#   fsize  the server runs with RLIMIT_FSIZE at 1 MiB and SIGXFSZ ignored
#          (prlimit, no privileges needed): writing past 1 MiB into a file
#          fails with EFBIG, as a full disk fails with ENOSPC;
#   tmpfs  the data directory is on a 4 MiB tmpfs mounted in a user and
#          mount namespace of its own (unshare -rm): writes fail with
#          ENOSPC. Skipped, saying so, where user namespaces are not
#          allowed.
#
# Each way: a 2 MiB (or 6 MiB) photo the disk cannot take, sent raw or as a
# form, is answered with a clean 500 problem (type io) and leaves nothing
# behind: the record (its objects, heads and changes), the index dump, the
# mirror's refs, the evidence list and the data directory's files are as
# before, with no temporary file left. A smaller upload that fits then works, and so
# does the big one, with the same Idempotency-Key, once the limit is lifted
# (a first execution, not a replay); audit verify and git fsck are clean.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

MODE=${1:-fsize}

# A PNG signature (libmagic: image/png) and incompressible bytes, as a
# phone's photo would be; git cannot shrink it.
png() { # FILE TOTAL-BYTES
	{
		printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x02\x00\x00\x00\xd3\x10\x3f\x31'
		head -c $(($2 - 33)) /dev/urandom
	} >"$1"
}

# What must not change: the record (objects, heads, changes), the index,
# the mirror's refs, the files (but the holder files of the server's worker
# threads, which come and go with them, and the database's side files:
# SQLite's, and redress.db-claims, made by the first Idempotency-Key).
state() {
	sqlite3 -readonly "$REDRESS_DATA/redress.db" \
		"SELECT hex(id), type, size, change FROM objects ORDER BY id;
		 SELECT dispute_id, head FROM refs ORDER BY dispute_id;
		 SELECT seq, dispute_id, head FROM changes ORDER BY seq;"
	dump
	git --git-dir="$REDRESS_DATA/evidence.git" for-each-ref
	(cd "$REDRESS_DATA" && find . -type f ! -name 'holder-*' \
		! -name 'redress.db-wal' ! -name 'redress.db-shm' \
		! -name 'redress.db-claims' | sort)
}

# Temporary files a failed write could leave: the evidence file being
# received, libgit2's temporaries and lock files in the mirror (but
# mirror.lock and mirror-compact.lock, the mirror writers' locks, which
# are never removed), a holder file in the making.
leftovers() {
	find "$REDRESS_DATA" \( -name 'upload.tmp-*' -o -name 'tmp_*' -o -name '*_git2_*' \
		-o -name '*.lock' -o -name '.new-*' \) ! -path "$REDRESS_DATA/mirror.lock" \
		! -path "$REDRESS_DATA/mirror-compact.lock" -print
}

upload() { # FILE KEY -> $STATUS, $BODY, $HDRS
	api "$agent" POST "$SERVER_BASE/v1/disputes/$id/evidence?kind=photo&captured_at=2026-03-01T08:00:00Z&name=box.png" \
		-H 'Content-Type: application/octet-stream' -H "Idempotency-Key: $2" \
		--data-binary "@$1"
}

# scenario BIG-BYTES LIFT-COMMAND...: the server is running on a disk that
# cannot take BIG-BYTES more; LIFT-COMMAND makes room.
scenario() {
	local big=$1 before after
	shift
	png "$E2E_TMP/big.png" "$big"
	png "$E2E_TMP/small.png" 200000

	# every worker thread has opened its service before the state is taken
	for _ in 1 2 3 4; do
		api "$agent" GET "$SERVER_BASE/v1/disputes/$id/evidence"
	done
	before=$(state)
	upload "$E2E_TMP/big.png" big-1
	expect_eq "$STATUS" "500" "$MODE: an upload the disk cannot take is a server error"
	expect_has "$HDRS" "Content-Type: application/problem+json" "$MODE: as a problem"
	expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/io" "$MODE: of type io"
	echo "$MODE: $(jq -r .detail <<<"$BODY")"
	after=$(state)
	expect_eq "$after" "$before" "$MODE: index, refs and files as before"
	expect_eq "$(leftovers)" "" "$MODE: no temporary file left"
	expect_eq "$(rd evidence list "$id" --json | jq '.evidence | length')" "0" "$MODE: no evidence recorded"

	# the same as a form upload (its file part is spooled first)
	api "$agent" POST "$SERVER_BASE/v1/disputes/$id/evidence" -F kind=photo \
		-F captured_at=2026-03-01T08:00:00Z -F "file=@$E2E_TMP/big.png;filename=box.png"
	expect_eq "$STATUS" "500" "$MODE: a form upload the disk cannot take is a server error"
	echo "$MODE, form: $(jq -r .detail <<<"$BODY")"
	expect_eq "$(state)" "$before" "$MODE, form: index, refs and files as before"
	expect_eq "$(leftovers)" "" "$MODE, form: no temporary file left"

	upload "$E2E_TMP/small.png" small-1
	expect_eq "$STATUS" "201" "$MODE: a smaller upload that fits works"

	"$@"
	upload "$E2E_TMP/big.png" big-1
	expect_eq "$STATUS" "201" "$MODE: with room again the same request works"
	case "$HDRS" in
	*Idempotent-Replayed*) fail "$MODE: the retry was answered as a replay" ;;
	*) ok ;;
	esac
	expect_eq "$(jq -r .size <<<"$BODY")" "$big" "$MODE: whole"
	expect_eq "$(jq -r .sha256 <<<"$BODY")" "$(sha256sum "$E2E_TMP/big.png" | cut -d' ' -f1)" \
		"$MODE: the bytes sent"
	expect_eq "$(rd evidence list "$id" --json | jq '.evidence | length')" "2" "$MODE: two pieces of evidence"
	expect_exit 0 rd audit verify --all
	expect_exit 0 git --git-dir="$REDRESS_DATA/evidence.git" fsck --strict
	# the server's mirror writer may be writing the new pack right now:
	# once the mirror holds every change (`redress mirror` waits for that
	# writer's step) no writer starts another, and its temporary goes
	# within moments; a leftover stays
	rd mirror >/dev/null
	for _ in $(seq 100); do
		[ -z "$(leftovers)" ] && break
		sleep 0.1
	done
	expect_eq "$(leftovers)" "" "$MODE: no temporary file left at the end"
}

setup() {
	rd init >/dev/null
	agent=$(rd key create --role agent --json 2>/dev/null | jq -r .key)
	id=$(open_dispute)
}

case "$MODE" in
fsize)
	setup
	# SIGXFSZ ignored, so that a write past the limit fails with EFBIG
	# instead of killing the server; the hard limit stays unlimited so
	# that the soft one can be raised again from outside.
	limited="$E2E_TMP/redress-limited"
	printf '#!/bin/sh\ntrap "" XFSZ\nexec prlimit --fsize=%s: "%s" "$@"\n' \
		$((1024 * 1024)) "$REDRESS" >"$limited"
	chmod +x "$limited"
	REAL_REDRESS=$REDRESS
	REDRESS=$limited
	start_server s --sweep-interval 0
	REDRESS=$REAL_REDRESS
	expect_has "$(prlimit --pid "$PID_s" --fsize --output SOFT --noheadings)" "1048576" \
		"the server runs with RLIMIT_FSIZE at 1 MiB"
	scenario $((2 * 1024 * 1024)) prlimit --pid "$PID_s" --fsize=unlimited:
	stop_server s
	expect_eq "$STOP_CODE" "0" "fsize: the server stops cleanly"
	expect_eq "$(leftovers)" "" "fsize: no temporary file left once stopped"

	# The same on a real full file system, where this machine allows it.
	if unshare -rm true 2>/dev/null; then
		if unshare -rm bash "$0" tmpfs; then ok; else fail "tmpfs: see above"; fi
	else
		echo "tmpfs: skipped, user namespaces are not allowed here (unshare -rm failed)"
	fi
	;;
tmpfs)
	mkdir "$E2E_TMP/disk"
	if ! mount -t tmpfs -o size=4m tmpfs "$E2E_TMP/disk" 2>/dev/null; then
		echo "tmpfs: skipped, cannot mount a tmpfs in a user namespace here"
		exit 0
	fi
	unmount_at_exit() {
		local pid
		for pid in "${SERVER_PIDS[@]}"; do
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		done
		umount "$E2E_TMP/disk" || true
		rm -rf "$E2E_TMP"
	}
	trap unmount_at_exit EXIT
	export REDRESS_DATA="$E2E_TMP/disk/data"
	setup
	start_server s --sweep-interval 0
	scenario $((6 * 1024 * 1024)) mount -o remount,size=64m "$E2E_TMP/disk"
	stop_server s
	expect_eq "$STOP_CODE" "0" "tmpfs: the server stops cleanly"
	expect_eq "$(leftovers)" "" "tmpfs: no temporary file left once stopped"
	;;
esac
finish
