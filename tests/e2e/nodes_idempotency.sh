#!/usr/bin/env bash
# Idempotency-Key across nodes: two `redress serve` on one record (one
# PostgreSQL database; on SQLite, one data directory). While an upload
# with a key is still being sent to one node, the same key on the other
# node is 409 in flight, a problem document, whatever the request, and
# changes nothing; once the first node has answered, the same request on
# the other node is replayed (the same body, Idempotent-Replayed: true) and
# the evidence was added once. Both ways round. A node killed in the
# middle of such an upload leaves no claim behind: the same request on the
# other node then runs, once.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

RATE=64k                  # the slow upload: 256 KiB in about 4 s
IN_FLIGHT=https://redress.dev/problems/idempotency_key_in_flight

rd init >/dev/null
agent=$(new_key agent)
auditor=$(new_key auditor)
id=$(open_dispute)
yes 'buyer: the lamp arrived with a cracked base, photos to follow' |
	head -c 262144 >"$E2E_TMP/transcript.txt"
UPLOAD="/v1/disputes/$id/evidence?kind=chat_transcript&channel=chat&name=transcript.txt"

# claims_held: the Idempotency-Keys the nodes hold in flight, as the
# record sees them: PostgreSQL's advisory locks of the two-integer key
# space in this database; on SQLite the locks on redress.db-claims.
claims_held() {
	if on_postgres; then
		record_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
			AND objsubid = 2 AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
	else
		local ino
		ino=$(stat -c %i "$REDRESS_DATA/redress.db-claims" 2>/dev/null) || { echo 0; return; }
		awk -v ino="$ino" '$2 == "OFDLCK" { n = split($6, f, ":"); if (f[n] == ino) c++ }
			END { print c + 0 }' /proc/locks
	fi
}

# wait_claims N WHAT: wait (up to 10 s) until the nodes hold N claims
wait_claims() {
	local held=""
	for _ in $(seq 200); do
		held=$(claims_held)
		[ "$held" = "$1" ] && { ok; return 0; }
		sleep 0.05
	done
	fail "$2: the nodes hold $held claims, not $1"
}

# slow_upload NAME BASE KEY: the transcript to BASE under KEY, throttled,
# in the background; its status, headers and body in $E2E_TMP/NAME.*
slow_upload() {
	curl -s --limit-rate "$RATE" -o "$E2E_TMP/$1.body" -D "$E2E_TMP/$1.headers" \
		-w '%{http_code}' -H "Authorization: Bearer $agent" -H "Idempotency-Key: $3" \
		--data-binary "@$E2E_TMP/transcript.txt" "$2$UPLOAD" >"$E2E_TMP/$1.status" &
	SLOW_PID=$!
}

# quick_upload BASE KEY: the same upload at full speed, answered in $STATUS...
quick_upload() {
	api "$agent" POST "$1$UPLOAD" -H "Idempotency-Key: $2" \
		--data-binary "@$E2E_TMP/transcript.txt"
}

# evidence_count: rows of evidence of the dispute
evidence_count() {
	api "$auditor" GET "$BASE_a/v1/disputes/$id/evidence"
	jq '.evidence | length' <<<"$BODY"
}

# dispute_version
dispute_version() {
	api "$auditor" GET "$BASE_b/v1/disputes/$id"
	jq -r .version <<<"$BODY"
}

# in_flight_then_replayed FIRST OTHER KEY N: an upload under KEY, slow on
# node FIRST, is 409 on node OTHER while it runs and replayed there once
# answered; N evidence rows afterwards
in_flight_then_replayed() {
	local first=$1 other=$2 key=$3 want=$4 first_base other_base version
	eval "first_base=\$BASE_$first other_base=\$BASE_$other"
	version=$(dispute_version)
	slow_upload "slow-$key" "$first_base" "$key"
	wait_claims 1 "$key in flight on $first"

	quick_upload "$other_base" "$key"
	expect_eq "$STATUS" "409" "$key: the same upload on $other while $first takes it"
	expect_eq "$(header Content-Type)" "application/problem+json" "$key: a problem document"
	expect_eq "$(jq -r '.type + " " + .field' <<<"$BODY")" "$IN_FLIGHT Idempotency-Key" \
		"$key: in flight, naming the header"
	expect_eq "$(header Idempotent-Replayed)" "" "$key: the refusal is no replay"
	# the key is taken whatever the request: another route, another body
	api "$agent" POST "$other_base/v1/disputes/$id/events" -H "Idempotency-Key: $key" \
		--data-binary '{"event":"investigate"}'
	expect_eq "$STATUS:$(jq -r .type <<<"$BODY")" "409:$IN_FLIGHT" "$key: an event under it on $other"
	expect_eq "$(evidence_count)" "$((want - 1))" "$key: nothing added while in flight"

	wait "$SLOW_PID"
	expect_eq "$(cat "$E2E_TMP/slow-$key.status")" "201" "$key: $first answers the slow upload"
	expect_eq "$(tr -d '\r' <"$E2E_TMP/slow-$key.headers" | grep -ci '^Idempotent-Replayed:' || true)" \
		"0" "$key: the first answer is no replay"
	wait_claims 0 "$key answered"

	quick_upload "$other_base" "$key"
	expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:true" "$key: replayed on $other"
	if cmp -s "$RESPONSE_FILE" "$E2E_TMP/slow-$key.body"; then ok; else
		fail "$key: the replay on $other is not the first answer byte for byte"
	fi
	expect_eq "$(header Location)" \
		"$(tr -d '\r' <"$E2E_TMP/slow-$key.headers" | sed -n 's/^Location: //Ip')" \
		"$key: the same Location"
	quick_upload "$first_base" "$key"
	expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:true" "$key: replayed on $first too"

	expect_eq "$(evidence_count)" "$want" "$key: the evidence added once"
	expect_eq "$(dispute_version)" "$((version + 1))" "$key: the dispute one version up"
}

start_server a --sweep-interval 0
start_server b --sweep-interval 0

in_flight_then_replayed a b chat-1 1
in_flight_then_replayed b a chat-2 2

api "$auditor" GET "$BASE_a/v1/disputes/$id/history"
expect_eq "$(jq '.commits | length' <<<"$BODY")" "3" "opened and two uploads: three commits"

# --- a node dies with a key in flight --------------------------------------------------
slow_upload slow-chat-3 "$BASE_a" chat-3
wait_claims 1 "chat-3 in flight on a"
stop_server a KILL
wait "$SLOW_PID" || true
expect_eq "$(cat "$E2E_TMP/slow-chat-3.status")" "000" "the killed node never answered"
wait_claims 0 "the killed node's claim"
quick_upload "$BASE_b" chat-3
expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:" "chat-3 runs on b: nothing of a's was left"
first=$(cat "$RESPONSE_FILE")
quick_upload "$BASE_b" chat-3
expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:true" "chat-3 replayed on b"
expect_eq "$BODY" "$first" "chat-3: the replay is the answer b gave"
expect_eq "$(dispute_version)" "4" "chat-3 added once"

stop_server b
expect_eq "$STOP_CODE" "0" "b stops with 0"
expect_exit 0 rd audit verify --all
finish
