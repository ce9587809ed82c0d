#!/usr/bin/env bash
# A server whose PostgreSQL goes away answers 503 and connects again by
# itself once it is back; it never acknowledges a write it did not keep.
#
# On a PostgreSQL of its own (tests/support/pg.sh: halting the suite's
# shared server would fail the tests running beside this one), the
# server takes writes; then PostgreSQL stops (a fast shutdown: every
# session ended, as a restart or a failover ends them) while a client
# keeps writing. Meanwhile reads, writes (the group-commit writer's),
# an evidence upload (a streamed request), slow work (history) and
# GET /readyz answer 503 database_unavailable with Retry-After and a
# problem document, each within a few seconds, while /healthz stays 200
# and the CLI exits 11. PostgreSQL starts again on the same port and the
# same server, never restarted, serves reads and writes again; every
# write acknowledged before or during the outage is in the record, once;
# a write refused with 503 and retried with its Idempotency-Key is
# recorded once (whether or not its cut-off commit had gone through);
# the mirror and the SLA sweeper go on too.
#
# PostgreSQL only: ctest runs it as e2e/pg_connection_loss@pg (a pg_*
# script has no run on the embedded record).
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

if ! on_postgres; then
	echo "PostgreSQL only: run as e2e/pg_connection_loss@pg" >&2
	exit 1
fi

PG="$REDRESS_SOURCE_DIR/tests/support/pg.sh"
PG_STATE="$E2E_TMP/pg.state"

# the servers first, then our PostgreSQL, then what lib.bash made
cleanup() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	[ -z "${LOAD_PID:-}" ] || kill -KILL "$LOAD_PID" 2>/dev/null || true
	bash "$PG" stop "$PG_STATE" >/dev/null 2>&1 || true
	e2e_cleanup
}
trap cleanup EXIT

bash "$PG" start "$PG_STATE" >/dev/null
REDRESS_STORE=$(bash "$PG" createdb "$PG_STATE" redress)
export REDRESS_STORE
DB_PORT=$(sed -n 's/^PGPORT=//p' "$PG_STATE")
db_sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 "$REDRESS_STORE" -c "$1"
}

rd init >/dev/null
agent=$(new_key agent)
start_server s --sweep-interval 1 --rate-limit 0
pid_before=$PID_s

# body ORDER: the example dispute for order ORDER
body() {
	jq -c --arg order "$1" '.order_ref = $order' \
		"$REDRESS_SOURCE_DIR/examples/dispute.json"
}

# open ORDER KEY: POST /v1/disputes with Idempotency-Key KEY, at most 10 s
open() {
	call "$agent" POST /v1/disputes --max-time 10 -H "Idempotency-Key: $2" \
		-H 'Content-Type: application/json' --data-binary "$(body "$1")"
}

# --- before: acknowledged writes ---------------------------------------------
acked=()
for n in 1 2 3; do
	open "ORD-BEFORE-$n" "before-$n"
	expect_eq "$STATUS" "201" "dispute $n opened before the outage"
	acked+=("$(jq -r .id <<<"$BODY") ORD-BEFORE-$n")
done
first=${acked[0]%% *}
call "$agent" POST "/v1/disputes/$first/events" --max-time 10 \
	-H 'If-Match: "1"' --data '{"event": "investigate"}'
expect_eq "$STATUS" "200" "an event applied before the outage"
call "$agent" GET "/v1/disputes/$first/history" --max-time 10
expect_eq "$STATUS" "200" "slow work (history) before the outage"
call "" GET /readyz
expect_eq "$STATUS" "200" "/readyz before the outage"
expect_eq "$(jq -r .status <<<"$BODY")" "ready" "/readyz says ready"

# --- a client writing all along ------------------------------------------------
# Each line of load.log: N STATUS ID (ID "-" unless 201); stops when
# load.stop exists.
load() {
	local n=0 status id
	while [ ! -e "$E2E_TMP/load.stop" ]; do
		n=$((n + 1))
		status=$(curl -s -o "$E2E_TMP/load.body" -w '%{http_code}' --max-time 10 \
			-H "Authorization: Bearer $agent" -H "Idempotency-Key: load-$n" \
			-H 'Content-Type: application/json' \
			--data-binary "$(body "ORD-LOAD-$n")" "$SERVER_BASE/v1/disputes") || true
		id=-
		[ "$status" = 201 ] && id=$(jq -r .id "$E2E_TMP/load.body")
		echo "$n $status $id" >>"$E2E_TMP/load.log"
		sleep 0.05
	done
}
: >"$E2E_TMP/load.log"
load &
LOAD_PID=$!
for _ in $(seq 100); do
	[ "$(wc -l <"$E2E_TMP/load.log")" -ge 5 ] && break
	sleep 0.05
done

# --- the outage --------------------------------------------------------------
bash "$PG" halt "$PG_STATE"
sleep 0.5

# expect_unavailable WHAT: the last answer was 503 database_unavailable,
# with Retry-After and a problem document, within 5 s
expect_unavailable() {
	expect_eq "$STATUS" "503" "$1: 503 while PostgreSQL is down"
	expect_eq "$(header Retry-After)" "2" "$1: Retry-After"
	expect_has "$(header Content-Type)" "application/problem+json" "$1: a problem document"
	expect_eq "$(jq -r .type <<<"$BODY")" \
		"https://redress.dev/problems/database_unavailable" "$1: its type"
	expect_has "$(jq -r .detail <<<"$BODY")" "the database cannot be reached" "$1: its detail"
	case "$(jq -r .detail <<<"$BODY")" in
	*"$DB_PORT"* | *127.0.0.1* | *postgres*) fail "$1: the detail names the database: $BODY" ;;
	*) ok ;;
	esac
	if awk -v t="$TIME" 'BEGIN { exit !(t < 5) }'; then ok; else
		fail "$1: answered after $TIME s, not within 5 s"
	fi
}
# timed CURL-ARGS...: call, its time in $TIME
timed() {
	local started=$EPOCHREALTIME
	call "$@" --max-time 20
	TIME=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}

# several of each, so that every request thread meets the outage
for round in 1 2 3; do
	timed "$agent" GET "/v1/disputes/$first"
	expect_unavailable "a read ($round)"
	timed "$agent" GET "/v1/disputes"
	expect_unavailable "a list ($round)"
	timed "$agent" POST /v1/disputes -H "Idempotency-Key: outage-$round" \
		-H 'Content-Type: application/json' --data-binary "$(body "ORD-OUTAGE-$round")"
	expect_unavailable "an opening ($round)"
	timed "$agent" POST "/v1/disputes/$first/events" -H 'If-Match: "2"' \
		--data '{"event": "escalate"}'
	expect_unavailable "an event ($round)"
	timed "" GET /readyz
	expect_unavailable "/readyz ($round)"
done
timed "$agent" GET "/v1/disputes/$first/history"
expect_unavailable "slow work (history)"
timed "$agent" POST "/v1/disputes/$first/evidence" -H 'Idempotency-Key: photo-1' \
	-F kind=photo -F captured_at=2026-03-01T08:00:00Z -F "file=@$(sample_file photo)"
expect_unavailable "an evidence upload"
call "" GET /healthz
expect_eq "$STATUS" "200" "/healthz stays 200: the process is alive"
expect_exit 11 rd list
expect_has "$ERR" "cannot connect to PostgreSQL" "the CLI says why"
kill -0 "$PID_s" 2>/dev/null && ok || fail "the server died in the outage"
sleep 2.5   # the sweeper (every second) meets the outage too
# the operator reads what the clients were not told
expect_has "$(cat "$E2E_TMP/s.err")" "the database could not be reached" \
	"the server logs the outage"
expect_has "$(grep 'could not be reached' "$E2E_TMP/s.err" | tail -n 1)" "$DB_PORT" \
	"with the database's address, for the operator"

# --- back ------------------------------------------------------------------------
bash "$PG" resume "$PG_STATE"
ready=""
for _ in $(seq 100); do
	call "" GET /readyz --max-time 10
	[ "$STATUS" = 200 ] && { ready=yes; break; }
	sleep 0.1
done
expect_eq "$ready" "yes" "/readyz is 200 again, by itself"
# the client sees it back too; then it stops
for _ in $(seq 200); do
	tail -n 1 "$E2E_TMP/load.log" | grep -q ' 201 ' && break
	sleep 0.05
done
touch "$E2E_TMP/load.stop"
wait "$LOAD_PID"
LOAD_PID=""
expect_eq "$PID_s" "$pid_before" "the same server, never restarted"

for round in 1 2 3; do
	call "$agent" GET "/v1/disputes/$first" --max-time 10
	expect_eq "$STATUS" "200" "a read after the outage ($round)"
	call "$agent" GET "/v1/disputes?limit=500" --max-time 10
	expect_eq "$STATUS" "200" "a list after the outage ($round)"
done
call "$agent" GET "/v1/disputes/$first" --max-time 10
expect_eq "$(jq -r '.state + " " + (.version | tostring)' <<<"$BODY")" \
	"investigating 2" "the event acknowledged before the outage is there"
call "$agent" POST "/v1/disputes/$first/events" --max-time 10 -H 'If-Match: "2"' \
	--data '{"event": "escalate"}'
expect_eq "$STATUS" "200" "an event after the outage: the one refused in it, retried"
call "$agent" GET "/v1/disputes/$first/history" --max-time 10
expect_eq "$STATUS" "200" "slow work (history) after the outage"
call "$agent" POST "/v1/disputes/$first/evidence" --max-time 10 -H 'Idempotency-Key: photo-1' \
	-F kind=photo -F captured_at=2026-03-01T08:00:00Z -F "file=@$(sample_file photo)"
expect_eq "$STATUS" "201" "the upload refused in the outage, retried"
for round in 1 2 3; do
	open "ORD-OUTAGE-$round" "outage-$round"
	expect_eq "$STATUS" "201" "an opening refused in the outage, retried with its key ($round)"
	expect_eq "$(header Idempotent-Replayed)" "" "it had recorded nothing: not a replay ($round)"
	acked+=("$(jq -r .id <<<"$BODY") ORD-OUTAGE-$round")
done
open ORD-AFTER-1 after-1
expect_eq "$STATUS" "201" "a new opening after the outage"
acked+=("$(jq -r .id <<<"$BODY") ORD-AFTER-1")

# The client's writes: each refused one retried with its key until
# answered: 201, new or a replay (a commit the outage cut off may have
# gone through).
loads=$(wc -l <"$E2E_TMP/load.log")
refused=0
replayed=0
while read -r n status id; do
	if [ "$status" != 201 ]; then
		refused=$((refused + 1))
		expect_eq "$status" "503" "load $n: refused with 503, nothing else"
		open "ORD-LOAD-$n" "load-$n"
		expect_eq "$STATUS" "201" "load $n retried with its key"
		[ "$(header Idempotent-Replayed)" = true ] && replayed=$((replayed + 1))
		id=$(jq -r .id <<<"$BODY")
	fi
	acked+=("$id ORD-LOAD-$n")
done <"$E2E_TMP/load.log"
echo "the client wrote $loads disputes, $refused of them refused in the outage" \
	"($replayed of those recorded all the same: replayed when retried)"
[ "$refused" -gt 0 ] && ok || fail "the client's writes never met the outage"

# Every acknowledged write is in the record, once; nothing else is.
for entry in "${acked[@]}"; do
	read -r id order <<<"$entry"
	expect_eq "$(db_sql "SELECT count(*) FROM disputes WHERE order_ref = '$order'")" "1" \
		"$order recorded once"
	expect_eq "$(db_sql "SELECT id FROM disputes WHERE order_ref = '$order'")" "$id" \
		"$order is the dispute acknowledged"
done
expect_eq "$(db_sql "SELECT count(*) FROM disputes")" "${#acked[@]}" \
	"no dispute but the acknowledged ones"
expect_eq "$(db_sql "SELECT count(*) FROM evidence")" "1" "one evidence file"

# The mirror thread and the sweeper are back too.
mirror_wait
expect_has "$(cat "$E2E_TMP/s.err")" "SLA sweep failed" "the sweeper met the outage"
sleep 2
failures=$(grep -c "SLA sweep failed" "$E2E_TMP/s.err" || true)
sleep 3
expect_eq "$(grep -c "SLA sweep failed" "$E2E_TMP/s.err" || true)" "$failures" \
	"the sweeper sweeps again without failing"

stop_server s
expect_eq "$STOP_CODE" "0" "the server stops with 0"
finish
