#!/usr/bin/env bash
# Evidence files no change names: an upload killed after its bytes were
# stored and before its change committed leaves its file in blobs/ (on
# PostgreSQL: in the database's table of files);
# `redress clean` removes such files once older than a day (or
# --older-than SECONDS), never a file a change names, however old, nor a
# recent one; the record verifies clean after it, beside a running server
# too; a bad --older-than is refused.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

BLOBS=$REDRESS_DATA/blobs

# blob_of FILE: the path of FILE's bytes in blobs/, named by its git blob id
blob_of() {
	local oid
	oid=$(git hash-object --no-filters "$1")
	echo "$BLOBS/${oid:0:2}/${oid:2}"
}

# stored FILE: whether the record keeps FILE's bytes (exit status)
stored() {
	if on_postgres; then
		[ "$(record_sql "SELECT count(*) FROM files WHERE id = '\\x$(git hash-object --no-filters "$1")'")" = 1 ]
	else
		[ -f "$(blob_of "$1")" ]
	fi
}

# written_days_ago DAYS FILE...: the bytes of each FILE last written then
written_days_ago() {
	local days=$1 f
	shift
	for f in "$@"; do
		if on_postgres; then
			record_sql "UPDATE files SET written_at = written_at - $days * 86400 WHERE id = '\\x$(git hash-object --no-filters "$f")'" >/dev/null
		else
			touch -d "$days days ago" "$(blob_of "$f")"
		fi
	done
}

# transcript N: a chat transcript of its own, path printed
transcript() {
	printf '2026-03-01 10:0%s buyer: the lamp arrived broken (take %s)\n' "$1" "$1" \
		>"$E2E_TMP/chat-$1.txt"
	echo "$E2E_TMP/chat-$1.txt"
}

# crashed_upload ID FILE: add FILE, the process killed before its change
# commits (a crash point of the test build)
crashed_upload() {
	set +e
	REDRESS_TEST_CRASH=after-git-commit rd evidence add "$1" "$2" \
		--kind chat_transcript >/dev/null 2>&1
	set -e
}

rd init >/dev/null
id=$(open_dispute)

named=$(transcript 1)
expect_exit 0 rd evidence add "$id" "$named" --kind chat_transcript
orphan=$(transcript 2)
crashed_upload "$id" "$orphan"
stored "$orphan" && ok || fail "the killed upload left no file to clean"
expect_eq "$(rd evidence list "$id" --json | jq '.evidence | length')" "1" \
	"the killed upload is not evidence of the dispute"

# Both files are recent: nothing goes.
expect_exit 0 rd clean
expect_has "$OUT" "removed 0 evidence files that no change names (0 bytes), of 2 files" \
	"recent files are kept"

# Two days old: the unnamed one goes, the named one stays.
written_days_ago 2 "$named" "$orphan"
expect_exit 0 rd clean --json
expect_eq "$(jq -c . <<<"$OUT")" \
	"{\"files\":2,\"unnamed\":1,\"removed\":1,\"removed_bytes\":$(stat -c %s "$orphan"),\"abandoned_uploads\":0}" \
	"the old file no change names is removed, and only it"
stored "$orphan" && fail "the unnamed file is still there" || ok
stored "$named" && ok || fail "the named evidence file was removed"
expect_exit 0 rd evidence get "$id" 1 -o "$E2E_TMP/back.txt"
expect_exit 0 cmp -s "$E2E_TMP/back.txt" "$named"
expect_exit 0 rd audit verify --all

# The same bytes uploaded again after their file went: stored again, named.
expect_exit 0 rd evidence add "$id" "$orphan" --kind chat_transcript
expect_exit 0 rd evidence get "$id" 2 -o "$E2E_TMP/back2.txt"
expect_exit 0 cmp -s "$E2E_TMP/back2.txt" "$orphan"

# Beside a running server, with --older-than: a fresh orphan goes at 0 s;
# the server keeps answering and the record verifies.
start_server s --sweep-interval 0
admin=$(new_key admin)
crashed_upload "$id" "$(transcript 3)"
sleep 1.1   # "more than 0 seconds ago", to the second
expect_exit 0 rd clean --older-than 0 --json
expect_eq "$(jq .removed <<<"$OUT")" "1" "--older-than 0 removes a fresh unnamed file"
expect_eq "$(jq .files <<<"$OUT")" "3" "the two named files are looked at and kept"
call "$admin" GET "/v1/disputes/$id/evidence/2"
expect_eq "$STATUS" "200" "the server still serves the evidence"
stop_server s
expect_exit 0 rd audit verify --all

# A bad age is refused before anything is looked at.
expect_exit 2 rd clean --older-than -5
expect_has "$ERR" "--older-than must be an integer of 0 or more, not \"-5\"" \
	"a negative age is refused"
expect_exit 2 rd clean --older-than 1d
expect_has "$ERR" "not \"1d\"" "an age with a unit is refused"

finish
