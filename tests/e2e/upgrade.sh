#!/usr/bin/env bash
# A data directory written by release 1 (git as the record, SQLite as the
# index; tests/upgrade/release-1-data.tar.gz, made by
# tests/upgrade/make-fixture.bash with that release's binary) is upgraded
# in place, losing nothing: `redress upgrade` upgrades it, and says so; a
# second run has nothing to do and says that; the CLI and API show every
# dispute, event, evidence byte, offer, key, quota, deadline and
# idempotency record exactly as release 1 did (tests/upgrade/dump.bash
# against tests/upgrade/release-1-expected/), and finds each dispute by
# its words; audit verify --all and git
# fsck --strict are clean and every ref head is the object it was. A
# directory merely opened by any command is upgraded as well. Upgraded
# disputes, version-1 and version-2 ones, take new events, recorded in
# the mirror.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

UPGRADE_DIR=$REDRESS_SOURCE_DIR/tests/upgrade
TARBALL=$UPGRADE_DIR/release-1-data.tar.gz
EXPECTED=$UPGRADE_DIR/release-1-expected

if ! "$REDRESS" upgrade --help >/dev/null 2>&1; then
	fail "this redress has no \`upgrade\` command ($("$REDRESS" --version 2>&1))"
	finish
	exit 1
fi

# unpack NAME: the fixture in $E2E_TMP/NAME (NAME/release-1/data and
# NAME/release-1/fixture); sets DIR and FIX
unpack() {
	mkdir -p "$E2E_TMP/$1"
	tar -xzf "$TARBALL" -C "$E2E_TMP/$1"
	DIR=$E2E_TMP/$1/release-1/data
	FIX=$E2E_TMP/$1/release-1/fixture
}

refs_of() { # DATA_DIR
	git --git-dir "$1/evidence.git" for-each-ref --format='%(objectname) %(refname)' refs/disputes
}

# dump_and_compare DATA_DIR WHAT: dump.bash with this binary, diffed
# against what release 1 showed
dump_and_compare() {
	local out=$E2E_TMP/dump-$2
	if ! bash "$UPGRADE_DIR/dump.bash" "$1" "$REDRESS" "$out" 2>"$E2E_TMP/dump.err"; then
		fail "$2: dump.bash failed: $(tail -5 "$E2E_TMP/dump.err")"
		return
	fi
	if diff -r -u "$EXPECTED" "$out" >"$E2E_TMP/dump.diff"; then
		ok
	else
		fail "$2: the upgraded directory reads otherwise than release 1's:
$(head -n 200 "$E2E_TMP/dump.diff")"
	fi
}

# the mirror shows REF at HEAD within 5 s
mirror_has() { # DATA_DIR REF HEAD WHAT
	local got=""
	for _ in $(seq 50); do
		got=$(git --git-dir "$1/evidence.git" rev-parse -q --verify "$2" 2>/dev/null || true)
		[ "$got" = "$3" ] && break
		sleep 0.1
	done
	expect_eq "$got" "$3" "$4"
}

unpack a
# shellcheck source=/dev/null
. "$FIX/disputes.env"
# shellcheck source=/dev/null
. "$FIX/keys.env"
export REDRESS_WORKFLOWS=$FIX/config/workflows
export REDRESS_POLICY=$FIX/config/policy.json
export REDRESS_KINDS=$FIX/config/kinds.json
REDRESS_NOW=$(cat "$FIX/now")
export REDRESS_NOW
export REDRESS_DATA=$DIR
refs_before=$(refs_of "$DIR")
expect_eq "$(wc -l <<<"$refs_before" | tr -d ' ')" "14" "the fixture holds 14 disputes"

# --- redress upgrade, then again ----------------------------------------------------------
expect_exit 0 rd upgrade --data "$DIR"
if [ -n "$OUT$ERR" ]; then ok; else fail "the upgrade said nothing"; fi
expect_exit 0 rd upgrade --data "$DIR"
case "$OUT $ERR" in
*already*|*"nothing to"*|*"up to date"*|*"up-to-date"*) ok ;;
*) fail "a second upgrade does not say it had nothing to do: \"$OUT $ERR\"" ;;
esac
expect_eq "$(refs_of "$DIR")" "$refs_before" "no ref head moved in the upgrade"

dump_and_compare "$DIR" upgraded
expect_exit 0 rd audit verify --all --data "$DIR"
expect_exit 0 git --git-dir "$DIR/evidence.git" fsck --strict
expect_eq "$(refs_of "$DIR")" "$refs_before" "ref heads equal after the upgrade and the dump"

# --- what release 1 wrote is found by its words (schema 20 indexed it) -----------------
expect_exit 0 rd list --q "ORD-3007" --json --data "$DIR"
expect_eq "$(jq -r '[.disputes[].order_ref] | join(" ")' <<<"$OUT")" "ORD-3007" \
	"a release-1 dispute found by its order reference"
expect_exit 0 rd list --q "cracked lamp" --json --limit 500 --data "$DIR"
expect_eq "$(jq -r '.disputes | length' <<<"$OUT")" "14" "every release-1 dispute by its description and title"
expect_exit 0 rd list --order-ref ORD-4001 --json --data "$DIR"
expect_eq "$(jq -r '[.disputes[].order_ref] | join(" ")' <<<"$OUT")" "ORD-4001" "and by the exact filter"

# --- new events on upgraded disputes ----------------------------------------------------
# a version-1 dispute (its definition kept only in the data directory)
expect_exit 0 rd event "$V1_OPEN" resume --as admin:ops --note "after the upgrade" --data "$DIR"
expect_eq "$(rd show "$V1_OPEN" --json --data "$DIR" | jq -r '.state + " " + (.version|tostring) + " " + (.workflow.version|tostring)')" \
	"investigating 8 1" "the version-1 dispute moved on, still pinned to version 1"
mirror_has "$DIR" "refs/disputes/$V1_OPEN" \
	"$(rd audit log "$V1_OPEN" --json --data "$DIR" | jq -r '.commits[-1].commit')" \
	"the mirror shows the version-1 dispute's new commit"
# a version-2 dispute, over HTTP with an Idempotency-Key, then its retry
start_server up --sweep-interval 0 --rate-limit 0
call "$AGENT_KEY" POST "/v1/disputes/$H_OPENED/events" -H 'Idempotency-Key: after-upgrade-1' \
	-H 'If-Match: "1"' --data-binary '{"event": "investigate"}'
expect_eq "$STATUS" "200" "an event on an upgraded dispute"
expect_eq "$(jq -r '.state + " " + (.version|tostring)' <<<"$BODY")" "investigating 2" "its new state"
first=$BODY
call "$AGENT_KEY" POST "/v1/disputes/$H_OPENED/events" -H 'Idempotency-Key: after-upgrade-1' \
	-H 'If-Match: "1"' --data-binary '{"event": "investigate"}'
expect_eq "$STATUS $(header Idempotent-Replayed)" "200 true" "its retry is replayed"
expect_eq "$BODY" "$first" "the replay answers the first answer"
# a release-1 record still replays beside the new one
call "$SHOP2_KEY" POST /v1/disputes -H 'Idempotency-Key: open-ORD-4001' \
	--data-binary @"$FIX/replays/open-h1/body"
expect_eq "$STATUS $(header Idempotent-Replayed)" "201 true" "a release-1 record replays after an event"
# a message on a dispute of an earlier workflow: recorded, and no reply
# clock, which that workflow does not have
call "$AGENT_KEY" POST "/v1/disputes/$H_OPENED/messages" \
	--data-binary '{"direction": "inbound", "channel": "email", "body": "Any news?"}'
expect_eq "$STATUS $(jq -r '.n|tostring' <<<"$BODY")" "201 1" "a message on an upgraded dispute"
call "$AGENT_KEY" GET "/v1/disputes/$H_OPENED"
expect_eq "$(jq -r '(.workflow.version|tostring) + " " + (has("reply_deadline")|tostring)' <<<"$BODY")" "2 false" \
	"its earlier workflow keeps no reply clock"
stop_server up
expect_eq "$STOP_CODE" "0" "the server stops cleanly"
mirror_has "$DIR" "refs/disputes/$H_OPENED" \
	"$(rd audit log "$H_OPENED" --json --data "$DIR" | jq -r '.commits[-1].commit')" \
	"the mirror shows the version-2 dispute's new commit"
expect_exit 0 rd audit verify --all --data "$DIR"
expect_exit 0 git --git-dir "$DIR/evidence.git" fsck --strict

# --- opened by another command first: upgraded as well ---------------------------------
unpack b
export REDRESS_DATA=$DIR
expect_exit 0 rd show "$RETURNED" --json --data "$DIR"
expect_eq "$(jq -r .outcome <<<"$OUT")" "refunded" "a command on a release-1 directory reads it"
expect_exit 0 rd upgrade --data "$DIR"
case "$OUT $ERR" in
*already*|*"nothing to"*|*"up to date"*|*"up-to-date"*) ok ;;
*) fail "a directory opened by a command is not upgraded by it: upgrade says \"$OUT $ERR\"" ;;
esac
dump_and_compare "$DIR" opened
expect_exit 0 rd audit verify --all --data "$DIR"
expect_exit 0 git --git-dir "$DIR/evidence.git" fsck --strict
expect_eq "$(refs_of "$DIR")" "$refs_before" "ref heads equal after an upgrade on open"

finish
