#!/usr/bin/env bash
# `redress backup --to DIR` copies a data directory while a server writes
# to it: writers open disputes, apply events and upload evidence through
# the API the whole time, and the backup is taken in the middle. Restored
# (REDRESS_DATA pointed at DIR, `redress mirror --rebuild`), the copy
# verifies clean, its mirror passes `git fsck --strict`, every dispute and
# evidence file acknowledged before the backup began is in it with the
# same bytes, and it takes new writes. A directory that is not empty, or
# that lies inside the data directory, is refused and left as it was.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

WRITERS=2
DATA=$REDRESS_DATA
BACKUP=$E2E_TMP/backup

rd init >/dev/null
for w in $(seq "$WRITERS"); do
	new_key admin --name "writer-$w" >"$E2E_TMP/key-$w"
done
start_server s
BASE=$SERVER_BASE

# post N PATH CURL-ARGS...: 0 when the answer was a complete 2xx, its body
# in $E2E_TMP/wN.body
post() {
	local n=$1 path=$2 status
	shift 2
	status=$(curl -s -o "$E2E_TMP/w$n.body" -w '%{http_code}' \
		-H "Authorization: Bearer $(cat "$E2E_TMP/key-$n")" "$@" \
		"$BASE$path") || return 1
	[ "${status:0:1}" = 2 ]
}

# writer N: until $E2E_TMP/stop exists, open a dispute, upload a note,
# apply an event, upload another. Acknowledged writes are appended to
# $E2E_TMP/acks-N: "ID dispute VERSION" and "ID evidence N SHA256".
writer() {
	local n=$1 id version i=0 note="$E2E_TMP/note-$1"
	local doc
	doc=$(jq -c '. + {allow_duplicate: true}' "$REDRESS_SOURCE_DIR/examples/dispute.json")
	upload() {
		head -c 24000 /dev/urandom | base64 >"$note"
		post "$n" "/v1/disputes/$id/evidence?kind=note&name=n$n-$i.txt" \
			-H 'Content-Type: text/plain' --data-binary "@$note" ||
			return 0
		echo "$id evidence $(jq -r .n <"$E2E_TMP/w$n.body") $(sha256sum <"$note" | cut -d' ' -f1)" \
			>>"$E2E_TMP/acks-$n"
	}
	while [ ! -e "$E2E_TMP/stop" ]; do
		i=$((i + 1))
		post "$n" /v1/disputes --data-binary "$doc" || continue
		id=$(jq -r .id <"$E2E_TMP/w$n.body")
		echo "$id dispute $(jq -r .version <"$E2E_TMP/w$n.body")" >>"$E2E_TMP/acks-$n"
		upload
		if post "$n" "/v1/disputes/$id/events" -d '{"event":"investigate"}'; then
			echo "$id dispute $(jq -r .version <"$E2E_TMP/w$n.body")" >>"$E2E_TMP/acks-$n"
		fi
		upload
	done
}

pids=()
for w in $(seq "$WRITERS"); do
	writer "$w" &
	pids+=($!)
done
sleep 1.5
# What was acknowledged before the backup began must be in it.
cat "$E2E_TMP"/acks-* >"$E2E_TMP/acked-before"
expect_exit 0 rd backup --to "$BACKUP" --json
cp "$E2E_TMP/stderr" "$E2E_TMP/backup.err"
echo "$OUT" >"$E2E_TMP/backup.json"
sleep 0.5
touch "$E2E_TMP/stop"
wait "${pids[@]}"
cat "$E2E_TMP"/acks-* >"$E2E_TMP/acked-all"

disputes=$(grep -c ' dispute 1$' "$E2E_TMP/acked-before" || true)
files=$(grep -c ' evidence ' "$E2E_TMP/acked-before" || true)
echo "acknowledged before the backup: $disputes disputes, $files evidence files;" \
	"in all: $(wc -l <"$E2E_TMP/acked-all") writes"
echo "backup: $(jq -c . "$E2E_TMP/backup.json")"
if [ "$disputes" -ge "$WRITERS" ] && [ "$files" -ge "$WRITERS" ]; then ok; else
	fail "no load before the backup: $disputes disputes, $files files"
fi
if [ "$(wc -l <"$E2E_TMP/acked-all")" -gt "$(wc -l <"$E2E_TMP/acked-before")" ]; then ok; else
	fail "the writers wrote nothing during or after the backup"
fi
if [ "$(jq .disputes "$E2E_TMP/backup.json")" -ge "$disputes" ] &&
	[ "$(jq .files "$E2E_TMP/backup.json")" -ge "$files" ]; then ok; else
	fail "the report counts fewer than were acknowledged: $(cat "$E2E_TMP/backup.json")"
fi
expect_eq "$(jq -c .restore "$E2E_TMP/backup.json")" \
	'["redress mirror --rebuild","redress audit verify --all"]' "the restore steps"

# The copy: the database and the evidence files, nothing of the processes
# nor the mirror, no temporary left.
expect_eq "$(ls "$BACKUP" | tr '\n' ' ')" "blobs redress.db " "the backup's entries"
expect_eq "$(find "$BACKUP" -name '*.tmp*' | wc -l | tr -d ' ')" "0" "no temporary left in the backup"
expect_eq "$(find "$DATA" -name 'redress.db.tmp*' | wc -l | tr -d ' ')" "0" "no temporary left in the data directory"
expect_eq "$(find "$BACKUP/blobs" -type f | wc -l | tr -d ' ')" "$(jq .files "$E2E_TMP/backup.json")" \
	"as many evidence files as reported"

stop_server s TERM
expect_eq "$STOP_CODE" "0" "the server, backed up while it ran, exits 0"
expect_exit 0 rd audit verify --all

# Restore: the backup becomes a data directory.
export REDRESS_DATA=$BACKUP
expect_exit 0 rd mirror --rebuild
expect_exit 0 rd audit verify --all
expect_has "$OUT" "0 mismatches" "the restored copy verifies clean"
expect_exit 0 git --git-dir "$BACKUP/evidence.git" fsck --strict

missing=0
while read -r id what a b; do
	case "$what" in
	dispute)
		version=$(rd show "$id" --json 2>/dev/null | jq -r .version) || version=""
		if [ -z "$version" ] || [ "$version" -lt "$a" ]; then
			fail "$id at version $a was acknowledged before the backup; the copy has \"$version\""
			missing=$((missing + 1))
		fi ;;
	evidence)
		if ! rd evidence get "$id" "$a" -o "$E2E_TMP/got" 2>"$E2E_TMP/stderr"; then
			fail "$id evidence $a acknowledged before the backup: $(cat "$E2E_TMP/stderr")"
			missing=$((missing + 1))
		elif [ "$(sha256sum <"$E2E_TMP/got" | cut -d' ' -f1)" != "$b" ]; then
			fail "$id evidence $a: other bytes in the copy"
			missing=$((missing + 1))
		fi ;;
	esac
done <"$E2E_TMP/acked-before"
expect_eq "$missing" "0" "every write acknowledged before the backup is in it"

# The restored copy takes writes, and its mirror follows.
id=$(open_dispute)
add_evidence "$id" note
ev "$id" investigate
expect_exit 0 rd audit verify "$id"
mirror_wait "$id" && ok
expect_exit 0 git --git-dir "$BACKUP/evidence.git" fsck --strict

# Refusals, leaving the directory as it was.
export REDRESS_DATA=$DATA
mkdir "$E2E_TMP/full"
echo keep >"$E2E_TMP/full/file"
expect_exit 3 rd backup --to "$E2E_TMP/full"
expect_has "$ERR" "is not empty" "a directory that is not empty is refused"
expect_eq "$(ls "$E2E_TMP/full")" "file" "and left as it was"
expect_exit 3 rd backup --to "$BACKUP"
expect_has "$ERR" "is not empty" "a backup is not written over"
expect_exit 3 rd backup --to "$DATA/backup"
expect_has "$ERR" "inside the data directory" "a directory inside the data directory is refused"
[ ! -e "$DATA/backup" ] && ok || fail "$DATA/backup was created"
ln -s "$DATA" "$E2E_TMP/link"
expect_exit 3 rd backup --to "$E2E_TMP/link/backup"
expect_has "$ERR" "inside the data directory" "also through a symbolic link"
expect_exit 3 rd backup --to "$DATA"
expect_exit 2 rd backup
expect_has "$ERR" "--to DIR" "--to is required"

# An empty directory is accepted.
mkdir "$E2E_TMP/empty"
expect_exit 0 rd backup --to "$E2E_TMP/empty"
expect_has "$OUT" "redress mirror --rebuild" "the restore steps are printed"

finish
