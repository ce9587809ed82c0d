#!/usr/bin/env bash
# One mirror among several nodes: two servers, each with a data directory
# of its own, on one PostgreSQL record, written through both at once. One
# of them writes the record's mirror (it holds the mirror's lead); the
# other's audit says the mirror is elsewhere. The writer killed with
# SIGKILL, the other takes the lead, makes its mirror from the record and
# keeps it current; every dispute's ref there is the record's head, git
# fsck passes, and the audit compares it. The first node, started again,
# takes over once the second stops, making its stale mirror again.
# PostgreSQL only (ctest runs it as e2e/pg_mirror@pg).
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

if ! on_postgres; then
	echo "PostgreSQL only: run as e2e/pg_mirror@pg" >&2
	exit 1
fi

DATA_A=$E2E_TMP/node-a
DATA_B=$E2E_TMP/node-b
REDRESS_DATA=$DATA_A rd init >/dev/null
REDRESS_DATA=$DATA_B rd init >/dev/null
admin=$(REDRESS_DATA=$DATA_A new_key admin)
jq '. + {allow_duplicate: true}' "$REDRESS_SOURCE_DIR/examples/dispute.json" >"$E2E_TMP/open.json"

# complete DIR: whether DIR's mirror holds every dispute at its record head
complete() {
	local git="$1/evidence.git" want have
	want=$(record_sql "SELECT dispute_id || ' ' || head FROM refs ORDER BY dispute_id")
	have=$(git --git-dir="$git" for-each-ref --format='%(refname:lstrip=2) %(objectname)' \
		refs/disputes 2>/dev/null | sort)
	[ -n "$want" ] && [ "$want" = "$have" ]
}

# await_complete DIR WHAT: wait up to 20 s for complete DIR
await_complete() {
	for _ in $(seq 200); do
		complete "$1" && { ok; return 0; }
		sleep 0.1
	done
	fail "$2: the mirror of $1 does not hold every head of the record"
}

# write_through BASE N: open N disputes through a node and take each a step
write_through() {
	local base=$1 n=$2 i id
	for i in $(seq "$n"); do
		id=$(curl -s -H "Authorization: Bearer $admin" \
			--data-binary "@$E2E_TMP/open.json" "$base/v1/disputes" | jq -r .id)
		[ -n "$id" ] && [ "$id" != null ] || { echo "open failed" >>"$E2E_TMP/errors"; continue; }
		curl -s -o /dev/null -H "Authorization: Bearer $admin" \
			--data '{"event":"investigate"}' "$base/v1/disputes/$id/events"
	done
}

# --- two nodes, one mirror -------------------------------------------------------------
REDRESS_DATA=$DATA_A start_server a --sweep-interval 0
for _ in $(seq 100); do [ -s "$DATA_A/mirror-id" ] && break; sleep 0.05; done
[ -s "$DATA_A/mirror-id" ] && ok || fail "node a did not take the mirror"
REDRESS_DATA=$DATA_B start_server b --sweep-interval 0

write_through "$BASE_a" 15 &
w1=$!
write_through "$BASE_b" 15 &
w2=$!
wait "$w1" "$w2"
[ ! -s "$E2E_TMP/errors" ] && ok || fail "writes failed: $(cat "$E2E_TMP/errors")"
expect_eq "$(record_sql "SELECT count(*) FROM refs")" "30" "30 disputes through both nodes"
await_complete "$DATA_A" "node a writes the mirror"
[ -e "$DATA_B/evidence.git" ] && fail "node b wrote a mirror of its own" || ok
expect_eq "$(record_sql "SELECT owner FROM mirror_state")" "$(cat "$DATA_A/mirror-id")" \
	"the record's mirror state is node a's"
expect_exit 0 env REDRESS_DATA="$DATA_B" "$REDRESS" audit verify --all --json
expect_eq "$(jq -c '[.ok, .mirror_elsewhere]' <<<"$OUT")" "[true,true]" \
	"node b's audit checks the record, and says the mirror is elsewhere"
expect_exit 0 env REDRESS_DATA="$DATA_A" "$REDRESS" audit verify --all --json
expect_eq "$(jq -c '[.ok, .mirror_elsewhere]' <<<"$OUT")" "[true,false]" \
	"node a's audit compares its mirror"

# --- the mirror's writer killed: the other takes over ------------------------------------
write_through "$BASE_b" 10 &
w1=$!
sleep 0.2
stop_server a KILL
wait "$w1"
write_through "$BASE_b" 5
await_complete "$DATA_B" "node b takes the mirror over and catches up"
expect_eq "$(record_sql "SELECT owner FROM mirror_state")" "$(cat "$DATA_B/mirror-id")" \
	"the record's mirror state is node b's"
expect_exit 0 git --git-dir="$DATA_B/evidence.git" fsck --strict --no-progress
expect_exit 0 env REDRESS_DATA="$DATA_B" "$REDRESS" audit verify --all --json
expect_eq "$(jq -c '[.ok, .mirror_elsewhere, .disputes]' <<<"$OUT")" "[true,false,45]" \
	"node b's mirror verifies against the record"

# --- the first node again: it waits, then takes over from a stale mirror --------------------
REDRESS_DATA=$DATA_A start_server a --sweep-interval 0
write_through "$BASE_a" 3
sleep 0.5
expect_eq "$(record_sql "SELECT owner FROM mirror_state")" "$(cat "$DATA_B/mirror-id")" \
	"node b keeps the mirror while it lives"
stop_server b
expect_eq "$STOP_CODE" "0" "node b stops with 0"
await_complete "$DATA_B" "node b's last update"
write_through "$BASE_a" 2
await_complete "$DATA_A" "node a takes the mirror back, made again"
expect_eq "$(record_sql "SELECT owner FROM mirror_state")" "$(cat "$DATA_A/mirror-id")" \
	"the record's mirror state is node a's again"
expect_exit 0 git --git-dir="$DATA_A/evidence.git" fsck --strict --no-progress
stop_server a
expect_eq "$STOP_CODE" "0" "node a stops with 0"
expect_exit 0 env REDRESS_DATA="$DATA_A" "$REDRESS" audit verify --all
expect_has "$OUT" "0 mismatches" "the record and node a's mirror verify"

finish
