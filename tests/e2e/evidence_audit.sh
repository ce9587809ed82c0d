#!/usr/bin/env bash
# The evidence store and the audit trail through the real binary and stock
# git: one commit per change, fsck clean, tampering of every kind detected,
# a crash between git and the index recovered, reindex reproducing the
# index exactly, and bad evidence refused with nothing written.
set -e
. "$(dirname "$0")/lib.bash"

GIT="git --git-dir=$REDRESS_DATA/evidence.git"
sq() { sqlite3 "$REDRESS_DATA/redress.db" "$@"; }

rd init >/dev/null
id=$(open_dispute)
ev "$id" investigate --as agent:alice
photo=$(sample_file photo)
expect_exit 0 rd evidence add "$id" "$photo" --kind photo --captured-at 2026-03-01T08:00:00Z \
	--note "box crushed" --as agent:alice --json
expect_eq "$(echo "$OUT" | jq -r .content_type)" "image/png" "content type from the bytes"
expect_eq "$(echo "$OUT" | jq -r .sha256)" "$(sha256sum "$photo" | cut -d' ' -f1)" "recorded SHA-256"
expect_eq "$(echo "$OUT" | jq -r .original_name)" "$(basename "$photo")" "original name kept as metadata"
add_evidence "$id" chat_transcript
ev "$id" make_offer --field offer_id="$(offer_for "$id" partial_discount 2000)"
ev "$id" accept_offer --as storefront:acme-eu
# the decision record of the offer made: policy, inputs, every proposal
decision=$(git --git-dir="$REDRESS_DATA/evidence.git" show "refs/disputes/$id:decisions/000005.json")
chosen=$(echo "$decision" | jq -r .chosen)
case "$chosen" in
o-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-partial_discount-2000) ok ;;
*) fail "decision names the offer made: $chosen" ;;
esac
expect_eq "$(echo "$decision" | jq -r '.policy.name + " v" + (.policy.version | tostring)')" "default v1" "decision names the policy"
expect_eq "$(echo "$decision" | jq -r .inputs.price)" "10000" "decision keeps the inputs"
expect_eq "$(echo "$decision" | jq -r '[.proposals[] | select(.offer_id == "'"$chosen"'")] | length')" "1" "decision keeps the proposals"

# --- stock git reads the history -------------------------------------------
expect_eq "$($GIT log --format=%s "refs/disputes/$id" | wc -l | tr -d ' ')" "6" "one commit per change"
expect_eq "$($GIT log --format=%ae -1 "refs/disputes/$id")" "storefront@redress" "author is the actor's role"
expect_eq "$($GIT log --format=%an --reverse "refs/disputes/$id" | sed -n 2p)" "alice" "author is the actor"
expect_has "$($GIT log --format=%s "refs/disputes/$id")" "evidence_added by agent:alice" "message says what happened"
expect_eq "$($GIT show "refs/disputes/$id:dispute.json" | jq -r .state)" "discount_pending" "snapshot in git"
$GIT show "refs/disputes/$id:evidence/0001/content.png" >"$E2E_TMP/out.png"
expect_eq "$(sha256sum <"$E2E_TMP/out.png")" "$(sha256sum <"$photo")" "evidence bytes in git"
expect_exit 0 $GIT fsck --strict
expect_exit 0 rd audit verify "$id"
expect_has "$OUT" "ok:" "verify passes"
expect_exit 0 rd audit log "$id"
expect_eq "$(echo "$OUT" | wc -l | tr -d ' ')" "6" "audit log shows every commit"
expect_exit 0 rd evidence get "$id" 1 -o "$E2E_TMP/got.png"
expect_eq "$(sha256sum <"$E2E_TMP/got.png")" "$(sha256sum <"$photo")" "evidence get returns the bytes"

# --- withdrawal is a new commit; nothing is deleted -------------------------
expect_exit 2 rd evidence withdraw "$id" 2
ev_out=$(rd evidence withdraw "$id" 2 --reason "wrong dispute" --json)
expect_eq "$(echo "$ev_out" | jq -r .version)" "7" "withdrawal is a change"
expect_eq "$($GIT show "refs/disputes/$id:evidence/0002/meta.json" | jq -r .withdrawn_reason)" "wrong dispute" "withdrawn in git"
expect_exit 0 $GIT cat-file -e "refs/disputes/$id:evidence/0002/content.txt"
expect_exit 5 rd evidence withdraw "$id" 2 --reason again
expect_exit 7 rd evidence withdraw "$id" 1 --reason x --as storefront:acme-eu

# --- bad evidence: a clear error, nothing written to git or SQLite ----------
before_db=$(dump)
before_refs=$($GIT for-each-ref)
before_objects=$($GIT count-objects -v | grep -E '^(count|in-pack):')
refused() { # CODE NEEDLE COMMAND...
	local code=$1 needle=$2
	shift 2
	expect_exit "$code" "$@"
	expect_has "$ERR" "$needle" "message of '$*'"
	expect_eq "$(dump)" "$before_db" "index unchanged by '$*'"
	expect_eq "$($GIT for-each-ref)" "$before_refs" "refs unchanged by '$*'"
	expect_eq "$($GIT count-objects -v | grep -E '^(count|in-pack):')" "$before_objects" "no object written by '$*'"
}
: >"$E2E_TMP/empty.txt"
head -c 70000 /dev/zero | tr '\0' 'a' >"$E2E_TMP/big-note.txt"
printf '%%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%%%EOF\n' >"$E2E_TMP/doc.pdf"
refused 3 "empty" rd evidence add "$id" "$E2E_TMP/empty.txt" --kind note
refused 3 "limit" rd evidence add "$id" "$E2E_TMP/big-note.txt" --kind note
refused 3 "unknown evidence kind" rd evidence add "$id" "$photo" --kind selfie
refused 3 "application/pdf" rd evidence add "$id" "$E2E_TMP/doc.pdf" --kind photo --captured-at 2026-03-01T08:00:00Z
refused 3 "image/png" rd evidence add "$id" "$photo" --kind note
refused 3 "captured" rd evidence add "$id" "$photo" --kind photo
refused 3 "file name" rd evidence add "$id" "$photo" --kind photo --captured-at 2026-03-01T08:00:00Z --name ../../x
refused 3 "file name" rd evidence add "$id" "$photo" --kind photo --captured-at 2026-03-01T08:00:00Z --name .git/config
refused 3 "file name" rd evidence add "$id" "$photo" --kind photo --captured-at 2026-03-01T08:00:00Z --name "$(printf 'a\tb')"
refused 3 "file name" rd evidence add "$id" "$photo" --kind photo --captured-at 2026-03-01T08:00:00Z --name "$(printf 'bad\xff')"
refused 3 "file name" rd evidence add "$id" "$photo" --kind photo --captured-at 2026-03-01T08:00:00Z --name "$(head -c 10000 /dev/zero | tr '\0' n)"
refused 4 "no dispute" rd evidence add 01ARZ3NDEKTSV4RRFFQ69G5FAV "$photo" --kind photo
refused 4 "not a dispute id" rd evidence add ../../refs/heads "$photo" --kind photo
refused 7 "auditor" rd evidence add "$id" "$photo" --kind photo --as auditor:eve

# --- a crash inside the transaction of a change --------------------------------
crash=$(open_dispute)
head_before=$(sq "SELECT head FROM refs WHERE dispute_id = '$crash'")
changes_before=$(sq "SELECT count(*) FROM changes")
set +e
REDRESS_TEST_CRASH=after-git-commit "$REDRESS" event "$crash" investigate --as agent:bob >/dev/null 2>&1
status=$?
set -e
expect_eq "$status" "134" "the process aborted after its commit object, before the transaction committed"
expect_eq "$(sq "SELECT version FROM disputes WHERE id = '$crash'")" "1" "the index did not commit"
expect_eq "$(sq "SELECT head FROM refs WHERE dispute_id = '$crash'")" "$head_before" "nor did the record's head"
expect_eq "$(sq "SELECT count(*) FROM changes")" "$changes_before" "nor a change"
expect_eq "$(state_of "$crash")" "opened/-" "nothing of the change is seen"
rd event "$crash" investigate --as agent:bob >/dev/null
expect_eq "$(rd show "$crash" --json | jq -r .assignee)" "bob" "the retry does it whole"
expect_exit 0 rd audit verify --all
ev "$crash" escalate --as agent:bob

# --- reindex reproduces the index exactly -----------------------------------
before=$(dump)
expect_exit 0 rd reindex
expect_has "$OUT" "2 disputes" "reindex counts disputes"
expect_eq "$(dump)" "$before" "reindex equals the old index"
expect_exit 0 rd audit verify --all

# --- export ---------------------------------------------------------------------
expect_exit 0 rd audit export "$id" --out "$E2E_TMP/export.tar.gz"
mkdir "$E2E_TMP/x"
tar -xzf "$E2E_TMP/export.tar.gz" -C "$E2E_TMP/x"
root="$E2E_TMP/x/dispute-$id"
expect_eq "$(jq -r .ok "$root/verify.json")" "true" "export carries the verify result"
expect_eq "$(jq -r '.events | length' "$root/timeline.json")" "7" "export carries the timeline"
expect_eq "$(jq -r '.commits | length' "$root/timeline.json")" "7" "export carries the commits"
expect_eq "$(sha256sum <"$root/evidence/0001/content.png")" "$(sha256sum <"$photo")" "export carries the evidence"
expect_eq "$(jq -r .sha256 "$root/evidence/0001/meta.json")" "$(sha256sum "$photo" | cut -d' ' -f1)" "export carries the metadata"
expect_has "$(cat "$root/SUMMARY.txt")" "Verification: passed" "summary"
expect_eq "$(jq -r .chosen "$root/decisions/000005.json")" "$chosen" "export carries the decision record"

# --- tampering is detected and named ---------------------------------------------
# an index row's recorded SHA-256 changed
sq "UPDATE evidence SET sha256 = '$(printf '%064d' 0)' WHERE dispute_id = '$id' AND n = 1"
expect_exit 5 rd audit verify "$id"
expect_has "$OUT" "evidence 1 differs" "changed SHA-256 in the index"
rd reindex >/dev/null
expect_exit 0 rd audit verify "$id"
# an index row deleted
sq "DELETE FROM evidence WHERE dispute_id = '$id' AND n = 2"
expect_exit 5 rd audit verify --all
expect_has "$OUT" "evidence 2 is in git but has no index row" "deleted index row"
rd reindex >/dev/null
# the mirror's ref forced to a forged commit chain with other evidence bytes
mirror_wait "$id"
good=$($GIT rev-parse "refs/disputes/$id")
printf 'forged bytes\n' >"$E2E_TMP/forged.txt"
blob=$($GIT hash-object -w "$E2E_TMP/forged.txt")
tree=$($GIT ls-tree "$good" | grep -v evidence | $GIT mktree)
evtree=$($GIT ls-tree "$good:evidence" | grep -v 0002 | $GIT mktree)
ev2=$(printf '100644 blob %s\tcontent.txt\n100644 blob %s\tmeta.json\n' "$blob" \
	"$($GIT rev-parse "$good:evidence/0002/meta.json")" | $GIT mktree)
evtree=$( ($GIT ls-tree "$evtree"; printf '040000 tree %s\t0002\n' "$ev2") | $GIT mktree)
tree=$( ($GIT ls-tree "$tree"; printf '040000 tree %s\tevidence\n' "$evtree") | $GIT mktree)
forged=$(echo forged | GIT_AUTHOR_NAME=forger GIT_AUTHOR_EMAIL=forger@example.invalid \
	GIT_COMMITTER_NAME=forger GIT_COMMITTER_EMAIL=forger@example.invalid \
	$GIT commit-tree "$tree" -p "$good^")
$GIT update-ref "refs/disputes/$id" "$forged"
expect_exit 5 rd audit verify "$id"
expect_has "$OUT" "[mirror]" "forged mirror: its ref differs from the record's head"
expect_has "$OUT" "$(printf '%.12s' "$forged")" "the finding names the forged commit"
$GIT update-ref "refs/disputes/$id" "$good"
expect_exit 0 rd audit verify "$id"
# the mirror deleted: named, then made again from the record
mv "$REDRESS_DATA/evidence.git" "$E2E_TMP/evidence.git.moved"
expect_exit 5 rd audit verify --all
expect_has "$OUT" "mirror --rebuild" "a missing mirror is named, with the remedy"
expect_exit 0 rd mirror --rebuild
expect_exit 0 git --git-dir="$REDRESS_DATA/evidence.git" fsck --strict
expect_eq "$($GIT rev-parse "refs/disputes/$id")" "$good" "the rebuilt mirror has the record's head"
expect_exit 0 rd audit verify --all
# an evidence file of the record corrupted on disk
obj=$(sq "SELECT lower(hex(id)) FROM objects WHERE data IS NULL LIMIT 1")
file="$REDRESS_DATA/blobs/${obj:0:2}/${obj:2}"
chmod u+w "$file"
printf 'garbage' | dd of="$file" bs=1 seek=10 conv=notrunc 2>/dev/null
expect_exit 5 rd audit verify --all
expect_has "$OUT" "corrupted" "a corrupted evidence file is named"

finish
