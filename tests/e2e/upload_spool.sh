#!/usr/bin/env bash
# The temporary bytes of the upload paths, against the real server with
# TMPDIR pointed at a fresh directory: a 24 MiB "note" (its kind's limit
# is 64 KiB) sent as a form with the kind before the file part, as a form
# with the kind in the query, and as a raw body, is refused (413) having
# written at most about its limit: the bytes the server process wrote
# (wchar of /proc/PID/io, every write(2) it made, sockets included) and
# the peak size of its spool file (its unlinked temporary file, watched
# through /proc/PID/fd while the body arrives) stay under 1 MiB, and the
# evidence store's objects do not grow. A form that fits is stored and
# leaves nothing behind in TMPDIR.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

if [ ! -r /proc/self/io ]; then
	echo "no /proc/PID/io: written bytes cannot be read here"
	exit 0
fi

SIZE=$((24 * 1024 * 1024))
WRITTEN_LIMIT=$((1024 * 1024))

rd init >/dev/null
agent=$(new_key agent --name alice)
id=$(open_dispute)
spool_dir="$E2E_TMP/spool"
mkdir "$spool_dir"
{ printf 'A long note\n'; head -c $((SIZE - 12)) /dev/zero | tr '\0' 'n'; } >"$E2E_TMP/big-note.txt"
printf 'Buyer called: the parcel was left at the door.\n' >"$E2E_TMP/note.txt"

TMPDIR="$spool_dir" start_server s --sweep-interval 0
pid=$PID_s

wchar() {
	awk '/^wchar:/ {print $2}' "/proc/$pid/io"
}
objects_bytes() {
	du -sb "$REDRESS_DATA/evidence.git/objects" | cut -f1
}
# watch_spool FILE: until killed, keep in FILE the largest size seen of a
# file the server holds open under the spool directory
watch_spool() {
	local peak=0 fd target size
	echo 0 >"$1"
	while :; do
		for fd in /proc/"$pid"/fd/*; do
			target=$(readlink "$fd" 2>/dev/null) || continue
			case "$target" in
			"$spool_dir"/*)
				size=$(stat -L -c %s "$fd" 2>/dev/null) || continue
				if [ "$size" -gt "$peak" ]; then
					peak=$size
					echo "$peak" >"$1"
				fi ;;
			esac
		done
		sleep 0.02
	done
}
# measured DESCRIPTION CURL-ARGS...: one upload, rate-limited so that the
# watcher sees the spool grow; checks 413, the bytes written and the peak
measured() {
	local what=$1 before after objects watcher
	shift
	objects=$(objects_bytes)
	watch_spool "$E2E_TMP/peak" &
	watcher=$!
	before=$(wchar)
	call "$agent" POST "$@" --limit-rate 16M
	after=$(wchar)
	kill "$watcher"
	wait "$watcher" 2>/dev/null || true
	expect_eq "$STATUS" "413" "$what: refused: $BODY"
	echo "$what: $((after - before)) bytes written, spool peak $(cat "$E2E_TMP/peak") bytes"
	if [ $((after - before)) -lt "$WRITTEN_LIMIT" ]; then ok; else
		fail "$what: the server wrote $((after - before)) bytes for a refused upload"
	fi
	if [ "$(cat "$E2E_TMP/peak")" -lt "$WRITTEN_LIMIT" ]; then ok; else
		fail "$what: the spool reached $(cat "$E2E_TMP/peak") bytes"
	fi
	expect_eq "$(objects_bytes)" "$objects" "$what: nothing written to the evidence store"
}

measured "form, kind before the file" "/v1/disputes/$id/evidence" \
	-F kind=note -F "file=@$E2E_TMP/big-note.txt;type=text/plain"
expect_eq "$(jq -r .field <<<"$BODY")" "file" "the file part is named"
measured "form, kind in the query" "/v1/disputes/$id/evidence?kind=note" \
	-F "file=@$E2E_TMP/big-note.txt;type=text/plain"
measured "raw body" "/v1/disputes/$id/evidence?kind=note" \
	-H 'Content-Type: text/plain' -H 'Expect:' --data-binary "@$E2E_TMP/big-note.txt"

call "$agent" POST "/v1/disputes/$id/evidence" -F kind=note -F "file=@$E2E_TMP/note.txt"
expect_eq "$STATUS" "201" "a note that fits: $BODY"
expect_eq "$(rd evidence list "$id" --json | jq '.evidence | length')" "1" "only it stored"
expect_eq "$(find "$spool_dir" -mindepth 1 | wc -l)" "0" "nothing left in TMPDIR"

finish
