#!/usr/bin/env bash
# Three `redress serve` nodes on one PostgreSQL behind a real load
# balancer (Debian's haproxy, tests/e2e/lb.bash: round-robin, GET /readyz
# as its health check, retrying only connections it could not make), each
# node with a data directory of its own. Everything goes through the
# balancer, over the wire:
#
# - the storefront's refund flow, its requests spread over the nodes;
# - 32 clients racing to write one dispute with If-Match, their reads and
#   writes landing on different nodes: exactly one success per version,
#   no lost update;
# - a node killed with SIGKILL under a steady load of openings, each with
#   an Idempotency-Key and retried with it on 502/503/no answer: every
#   acknowledged opening is in the record once, nothing is done twice, and
#   the other nodes kept answering (the only failures are the requests in
#   flight on the killed node);
# - the node holding the mirror killed: another takes the mirror over and
#   its evidence.git holds every dispute at its record head, git fsck
#   passing;
# - PostgreSQL stopped and started again under load: the balancer answers
#   503 (the nodes' database_unavailable; every node fails /readyz and is
#   taken out), then everything comes back without a node restarted, and
#   no acknowledged write is lost.
#
# It runs on a PostgreSQL of its own (tests/support/pg.sh): stopping the
# suite's shared server would fail the tests running beside this one.
# PostgreSQL only: ctest runs it as e2e/pg_cluster@pg.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"
. "$(dirname "$0")/lb.bash"

if ! on_postgres; then
	echo "PostgreSQL only: run as e2e/pg_cluster@pg" >&2
	exit 1
fi
command -v haproxy >/dev/null ||
	{ echo "haproxy is missing: install Debian's haproxy package (make test does)" >&2; exit 1; }

PG="$REDRESS_SOURCE_DIR/tests/support/pg.sh"
PG_STATE="$E2E_TMP/pg.state"
LOADERS=()

# the clients, the servers and the balancer, then our PostgreSQL, then
# what lib.bash made
cleanup() {
	local pid
	for pid in "${LOADERS[@]}" "${SERVER_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	bash "$PG" stop "$PG_STATE" >/dev/null 2>&1 || true
	e2e_cleanup
}
trap cleanup EXIT

bash "$PG" start "$PG_STATE" >/dev/null
REDRESS_STORE=$(bash "$PG" createdb "$PG_STATE" redress)
export REDRESS_STORE

NODES=3
for n in $(seq "$NODES"); do
	REDRESS_DATA=$E2E_TMP/node-$n rd init >/dev/null
done
export REDRESS_DATA=$E2E_TMP/node-1   # the CLI's, for the keys
agent=$(new_key agent --name alice)
auditor=$(new_key auditor --name audit)
shop=$(new_key storefront --storefront acme-eu)
admin=$(new_key admin --name racer)   # escalates and resumes in the race

# start_node N: node N on its port (the same one when started again, so
# that the balancer finds it back by its health check)
start_node() {
	local n=$1 port
	eval "port=\${PORT_$n:-}"
	if [ -z "$port" ]; then
		port=$(free_port)
		eval "PORT_$n=$port"
	fi
	REDRESS_DATA=$E2E_TMP/node-$n launch_command "node$n" "$REDRESS" serve \
		--listen "127.0.0.1:$port" --rate-limit 0 --sweep-interval 5
	await_server "node$n"
}
for n in $(seq "$NODES"); do
	start_node "$n"
done
lb_start "127.0.0.1:$PORT_1" "127.0.0.1:$PORT_2" "127.0.0.1:$PORT_3"
lb_await_up 3 "every node ready"
SERVER_BASE=$LB_BASE   # `call` talks to the balancer from here on

# sessions: requests haproxy sent each node so far, "node1:N node2:N ..."
sessions() {
	lb_states | awk '{ printf "%s:%s ", $1, $2 }'
}
# every_node_served BEFORE WHAT: each node took requests since BEFORE
# (a sessions line)
every_node_served() {
	local before=$1 now name count was
	now=$(sessions)
	for entry in $now; do
		name=${entry%%:*}
		count=${entry#*:}
		was=$(tr ' ' '\n' <<<"$before" | sed -n "s/^$name://p")
		if [ "$count" -gt "${was:-0}" ]; then ok; else
			fail "$2: $name took no request ($before -> $now)"
		fi
	done
}

# --- the storefront's refund flow through the balancer ------------------------------
before=$(sessions)
event() { # KEY ID VERSION JSON
	call "$1" POST "/v1/disputes/$2/events" -H "If-Match: \"$3\"" \
		-H "Idempotency-Key: flow-$2-$3" -H 'Content-Type: application/json' --data "$4"
}
call "$shop" POST /v1/disputes -H 'Content-Type: application/json' \
	-H 'Idempotency-Key: open-ORD-1001' --data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "201" "the storefront opens a dispute"
refund=$(jq -r .id <<<"$BODY")
event "$agent" "$refund" 1 '{"event":"investigate"}'
expect_eq "$STATUS" "200" "the agent investigates"
call "$agent" GET "/v1/disputes/$refund/offers"
offer=$(jq -r '[.offers[] | select(.type == "refund_keep_item" and .buyer_refund == 11500)][0].offer_id // ""' <<<"$BODY")
[ -n "$offer" ] && ok || fail "no full refund proposed: $BODY"
event "$agent" "$refund" 2 "{\"event\":\"make_offer\",\"fields\":{\"offer_id\":\"$offer\"}}"
expect_eq "$STATUS" "200" "the agent makes the offer"
event "$shop" "$refund" 3 '{"event":"accept_offer"}'
expect_eq "$(jq -r .state <<<"$BODY")" "refund_pending" "the storefront accepts"
call "$shop" GET /v1/payables
expect_eq "$(jq -r '.payables[] | .dispute_id + " " + (.amount|tostring) + " " + .confirm_event' <<<"$BODY")" \
	"$refund 11500 refund_issued" "the storefront owes the refund"
event "$shop" "$refund" 4 '{"event":"refund_issued","fields":{"payment_ref":"PAY-1"}}'
expect_eq "$(jq -r '.state + "/" + .outcome + " " + (.version|tostring)' <<<"$BODY")" \
	"resolved/refunded 5" "the storefront confirms the refund"
call "$shop" GET /v1/payables
expect_eq "$(jq -r '.payables | length' <<<"$BODY")" "0" "the payable is gone"
call "$auditor" GET "/v1/disputes/$refund/history"
expect_eq "$(jq -r '[.events[].event] | join(",")' <<<"$BODY")" \
	"opened,investigate,make_offer,accept_offer,refund_issued" "every step recorded once"
call "$auditor" GET "/v1/disputes/$refund/verify"
expect_eq "$(jq -r .ok <<<"$BODY")" "true" "the history verifies"
every_node_served "$before" "the flow"

# --- concurrent writers of one dispute, through different nodes ----------------------
WRITERS=32
ROUNDS=3
call "$agent" POST /v1/disputes -H 'Idempotency-Key: open-race' \
	--data-binary "$(jq -c '.order_ref = "ORD-RACE"' "$REDRESS_SOURCE_DIR/examples/dispute.json")"
race=$(jq -r .id <<<"$BODY")
call "$agent" POST "/v1/disputes/$race/events" -H 'If-Match: "1"' --data '{"event":"investigate"}'
expect_eq "$STATUS" "200" "the raced dispute is investigating"
START=2
before=$(sessions)
# the racers (server.bash, race_if_match), through the balancer, each
# attempt logged as "STATUS READ ANSWERED EVENT TYPE"
race_key() { echo "$admin"; }
race_if_match "$LB_BASE" "$race" "$ROUNDS" "$WRITERS" "$E2E_TMP/race"
R=$E2E_TMP/race
expect_eq "$(wc -l <"$R" | tr -d ' ')" "$((WRITERS * ROUNDS))" "every racing write answered"
expect_eq "$(awk '$1 != 200 && $1 != 412' "$R")" "" "every racing write is 200 or 412"
expect_eq "$(awk '$1 == 412 && $5 != "https://redress.dev/problems/stale"' "$R")" "" \
	"every 412 is a stale version"
expect_eq "$(awk '$1 == 200 && $3 != $2 + 1' "$R")" "" "every success is the version read plus one"
wins=$(awk '$1 == 200' "$R" | wc -l | tr -d ' ')
[ "$wins" -ge "$ROUNDS" ] && ok || fail "only $wins racing writes succeeded"
expect_eq "$(awk '$1 == 200 {print $3}' "$R" | sort -n | tr '\n' ' ')" \
	"$(seq $((START + 1)) $((START + wins)) | tr '\n' ' ')" "one success per version, none skipped"
expect_eq "$(awk '$1 == 200 && $2 == '"$START"'' "$R" | wc -l | tr -d ' ')" "1" \
	"of the $WRITERS that read version $START, exactly one wrote"
call "$auditor" GET "/v1/disputes/$race/history"
expect_eq "$(jq '.events | length' <<<"$BODY")" "$((START + wins))" "no lost update: one event per success"
every_node_served "$before" "the race"
echo "the race: $WRITERS writers x $ROUNDS rounds, $wins successes; requests per node: $(sessions)"

# --- the load: openings with an Idempotency-Key, retried with it -----------------------
# load TAG C: client C opens disputes ORD-TAG-C-N, N = 1, 2... until
# $E2E_TMP/TAG.stop exists; each opening is sent again with its key on a
# 502, 503, 504, 409 in flight or no answer, for up to 60 s. Logs, in
# TAG.attempts, "C N STATUS TIME" per attempt, and in TAG.acked,
# "ORDER ID REPLAYED" per opening acknowledged.
load() {
	local tag=$1 c=$2 n=0 status started order replayed
	while [ ! -e "$E2E_TMP/$tag.stop" ]; do
		n=$((n + 1))
		order="ORD-$tag-$c-$n"
		jq -c --arg order "$order" '.order_ref = $order' \
			"$REDRESS_SOURCE_DIR/examples/dispute.json" >"$E2E_TMP/$tag-$c.json"
		started=$SECONDS
		while :; do
			status=$(curl -s -o "$E2E_TMP/$tag-$c.body" -D "$E2E_TMP/$tag-$c.headers" \
				-w '%{http_code}' --max-time 10 -H "Authorization: Bearer $agent" \
				-H "Idempotency-Key: $order" -H 'Content-Type: application/json' \
				--data-binary "@$E2E_TMP/$tag-$c.json" "$LB_BASE/v1/disputes") || true
			echo "$c $n $status $EPOCHREALTIME" >>"$E2E_TMP/$tag.attempts"
			case "$status" in
			000 | 409 | 502 | 503 | 504) ;;
			*) break ;;
			esac
			[ $((SECONDS - started)) -lt 60 ] || break
			sleep 0.2
		done
		if [ "$status" = 201 ]; then
			replayed=$(tr -d '\r' <"$E2E_TMP/$tag-$c.headers" |
				sed -n 's/^[Ii]dempotent-[Rr]eplayed: *//p')
			echo "$order $(jq -r .id "$E2E_TMP/$tag-$c.body") ${replayed:-false}" \
				>>"$E2E_TMP/$tag.acked"
		else
			echo "$order $status $(cat "$E2E_TMP/$tag-$c.body")" >>"$E2E_TMP/$tag.refused"
		fi
		sleep 0.02
	done
}
# load_start TAG CLIENTS
load_start() {
	: >"$E2E_TMP/$1.attempts"
	: >"$E2E_TMP/$1.acked"
	LOADERS=()
	for c in $(seq "$2"); do
		load "$1" "$c" &
		LOADERS+=($!)
	done
}
# load_acked TAG: openings acknowledged so far
load_acked() {
	wc -l <"$E2E_TMP/$1.acked" | tr -d ' '
}
# await_acked TAG N: wait (up to 60 s) until N more openings are acknowledged
await_acked() {
	local want=$(($(load_acked "$1") + $2))
	for _ in $(seq 600); do
		[ "$(load_acked "$1")" -ge "$want" ] && return 0
		sleep 0.1
	done
	fail "$1: fewer than $2 more openings acknowledged within 60 s"
}
# load_stop TAG
load_stop() {
	touch "$E2E_TMP/$1.stop"
	wait "${LOADERS[@]}"
	LOADERS=()
}
# check_load TAG: every opening acknowledged is in the record once, under
# the id acknowledged, and no opening of TAG is there but those; none was
# refused for good
check_load() {
	local tag=$1 acked recorded
	expect_eq "$(cat "$E2E_TMP/$tag.refused" 2>/dev/null)" "" "$tag: no opening refused for good"
	acked=$(awk '{ print $1, $2 }' "$E2E_TMP/$tag.acked" | sort)
	recorded=$(record_sql "SELECT order_ref || ' ' || id FROM disputes
		WHERE order_ref LIKE 'ORD-$tag-%' ORDER BY order_ref" | sort)
	if [ "$acked" = "$recorded" ]; then ok; else
		fail "$tag: the record's openings are not the acknowledged ones:" \
			"$(diff <(echo "$acked") <(echo "$recorded") | head -20)"
	fi
	expect_eq "$(record_sql "SELECT count(*) - count(DISTINCT order_ref) FROM disputes
		WHERE order_ref LIKE 'ORD-$tag-%'")" "0" "$tag: no order opened twice"
	expect_eq "$(awk '{ print $1 }' "$E2E_TMP/$tag.acked" | sort | uniq -d)" "" \
		"$tag: no opening acknowledged twice"
}

# --- a node killed with SIGKILL under load ---------------------------------------------
CLIENTS=6
load_start KILL "$CLIENTS"
await_acked KILL 30
kill_at=$EPOCHREALTIME
stop_server node2 KILL
expect_eq "$STOP_CODE" "137" "node 2 killed"
await_acked KILL 40
lb_await_up 2 "the balancer takes the dead node out"
back_at=$EPOCHREALTIME
start_node 2
lb_await_up 3 "node 2 back, by its health check"
await_acked KILL 20
load_stop KILL
check_load KILL
A=$E2E_TMP/KILL.attempts
total=$(wc -l <"$A" | tr -d ' ')
errors=$(awk '$3 != 201' "$A" | wc -l | tr -d ' ')
retried=$(awk '$3 != 201 { print $1, $2 }' "$A" | sort -u | wc -l | tr -d ' ')
expect_eq "$(awk '$3 != 201 && $3 != 502 && $3 != 503 && $3 != 504 && $3 != 409 && $3 != "000"' "$A")" "" \
	"KILL: every failed attempt is 502, 503, 504, 409 in flight or no answer"
# each client has one request at a time: at most one each was in flight on
# the killed node; every other request went to a node that answered (409:
# a retry sent before PostgreSQL noticed the dead node's session gone)
[ "$retried" -le "$CLIENTS" ] && ok ||
	fail "KILL: $retried openings needed a retry, more than the $CLIENTS that can have been in flight"
during=$(awk -v a="$kill_at" -v b="$back_at" '$3 == 201 && $4 > a && $4 < b' "$A" | wc -l | tr -d ' ')
[ "$during" -gt 0 ] && ok || fail "KILL: nothing acknowledged while node 2 was down"
replays=$(awk '$3 == "true"' "$E2E_TMP/KILL.acked" | wc -l | tr -d ' ')
echo "SIGKILL: $(load_acked KILL) openings acknowledged by $CLIENTS clients ($total attempts);" \
	"$errors attempts of $retried openings failed, each retried with its key ($replays answered as replays);" \
	"$during acknowledged while node 2 was down"

# --- the mirror's writer killed ----------------------------------------------------------
# mirror_node: the node whose data directory the record's mirror state names
mirror_node() {
	local owner n
	owner=$(record_sql "SELECT owner FROM mirror_state")
	for n in $(seq "$NODES"); do
		[ -n "$owner" ] && [ "$(cat "$E2E_TMP/node-$n/mirror-id" 2>/dev/null)" = "$owner" ] &&
			{ echo "$n"; return 0; }
	done
}
# mirror_complete N: node N's evidence.git holds every dispute at its head
mirror_complete() {
	local git="$E2E_TMP/node-$1/evidence.git" want have
	want=$(record_sql "SELECT dispute_id || ' ' || head FROM refs ORDER BY dispute_id")
	have=$(git --git-dir="$git" for-each-ref --format='%(refname:lstrip=2) %(objectname)' \
		refs/disputes 2>/dev/null | sort)
	[ -n "$want" ] && [ "$want" = "$have" ]
}
writer_node=$(mirror_node)
[ -n "$writer_node" ] && ok || fail "no node holds the mirror"
load_start MIRROR 4
await_acked MIRROR 20
stop_server "node$writer_node" KILL
expect_eq "$STOP_CODE" "137" "the mirror's writer, node $writer_node, killed"
await_acked MIRROR 20
load_stop MIRROR
check_load MIRROR
new_writer=""
for _ in $(seq 300); do
	new_writer=$(mirror_node)
	[ -n "$new_writer" ] && [ "$new_writer" != "$writer_node" ] && mirror_complete "$new_writer" && break
	sleep 0.1
done
if [ -n "$new_writer" ] && [ "$new_writer" != "$writer_node" ]; then ok; else
	fail "no other node took the mirror over from node $writer_node"
fi
mirror_complete "$new_writer" && ok ||
	fail "node $new_writer's mirror does not hold every dispute at its record head"
expect_exit 0 git --git-dir="$E2E_TMP/node-$new_writer/evidence.git" fsck --strict --no-progress
echo "the mirror: node $writer_node killed, node $new_writer took over with" \
	"$(record_sql "SELECT count(*) FROM refs") disputes"
# the killed node back, on a port of its own this time: the balancer is
# given it by a reload, under load
unset "PORT_$writer_node"
start_node "$writer_node"
load_start RELOAD 3
await_acked RELOAD 10
lb_reload "127.0.0.1:$PORT_1" "127.0.0.1:$PORT_2" "127.0.0.1:$PORT_3"
lb_await_up 3 "every node up after the reload"
await_acked RELOAD 10
load_stop RELOAD
check_load RELOAD
expect_eq "$(awk '$3 != 201' "$E2E_TMP/RELOAD.attempts")" "" "the reload refused no request"

# --- PostgreSQL stopped and started again under load -------------------------------------
pids_before="$PID_node1 $PID_node2 $PID_node3"
load_start OUTAGE 4
await_acked OUTAGE 20
halt_at=$EPOCHREALTIME
bash "$PG" halt "$PG_STATE"
# the balancer answers 503: a few requests of our own
for _ in $(seq 30); do
	call "$agent" GET "/v1/disputes/$refund" --max-time 10
	echo "$STATUS $(header Content-Type)" >>"$E2E_TMP/outage.reads"
	sleep 0.1
done
lb_await_up 0 "the balancer takes every node out while the database is away"
call "$agent" GET "/v1/disputes/$refund" --max-time 10
expect_eq "$STATUS" "503" "with every node out, still 503"
echo "$STATUS $(header Content-Type)" >>"$E2E_TMP/outage.reads"
bash "$PG" resume "$PG_STATE"
resume_at=$EPOCHREALTIME
lb_await_up 3 "every node ready again, none restarted"
await_acked OUTAGE 20
load_stop OUTAGE
check_load OUTAGE
expect_eq "$PID_node1 $PID_node2 $PID_node3" "$pids_before" "the same node processes"
O=$E2E_TMP/OUTAGE.attempts
node503=$(grep -c '^503 application/problem+json' "$E2E_TMP/outage.reads" || true)
lb503=$(grep -c '^503 text/html' "$E2E_TMP/outage.reads" || true)
expect_eq "$(awk '$1 != 503' "$E2E_TMP/outage.reads" | grep -v '^200 ' || true)" "" \
	"reads in the outage: 503 (or 200 before it began)"
[ "$((node503 + lb503))" -gt 0 ] && ok || fail "no 503 in the outage"
expect_eq "$(awk '$3 != 201 && $3 != 503 && $3 != 502 && $3 != "000"' "$O")" "" \
	"OUTAGE: every failed write is 503, 502 or no answer"
refused=$(awk '$3 != 201' "$O" | wc -l | tr -d ' ')
[ "$refused" -gt 0 ] && ok || fail "the load never met the outage"
after=$(awk -v t="$resume_at" '$3 == 201 && $4 > t' "$O" | wc -l | tr -d ' ')
[ "$after" -gt 0 ] && ok || fail "nothing acknowledged after PostgreSQL came back"
replays=$(awk '$3 == "true"' "$E2E_TMP/OUTAGE.acked" | wc -l | tr -d ' ')
echo "PostgreSQL outage of $(awk -v a="$halt_at" -v b="$resume_at" 'BEGIN { printf "%.1f", b - a }') s:" \
	"$(load_acked OUTAGE) openings acknowledged, $refused write attempts refused and retried" \
	"($replays answered as replays); reads: $node503 node 503s, $lb503 balancer 503s"

# --- the end: the record and the mirror agree ----------------------------------------------
# (the outage ended every session, the mirror's lead with them: any node
# may hold it now)
total=$(record_sql "SELECT count(*) FROM disputes")
expect_eq "$total" "$((2 + $(cat "$E2E_TMP"/*.acked | wc -l)))" \
	"the record holds the two disputes of the flow and the race and every acknowledged opening"
writer_node=$(mirror_node)
for _ in $(seq 300); do
	mirror_complete "$writer_node" && break
	sleep 0.1
done
mirror_complete "$writer_node" && ok || fail "the mirror does not catch up after the outage"
echo "after the outage node $writer_node holds the mirror"
lb_stop
# the mirror's writer last, so that the lead stays where it is
for n in $(seq "$NODES" | grep -vx "$writer_node") "$writer_node"; do
	stop_server "node$n"
	expect_eq "$STOP_CODE" "0" "node $n stops with 0"
done
expect_eq "$(mirror_node)" "$writer_node" "node $writer_node kept the mirror to its end"
expect_exit 0 env REDRESS_DATA="$E2E_TMP/node-$writer_node" "$REDRESS" audit verify --all --json
expect_eq "$(jq -c '[.ok, .mirror_elsewhere, .disputes]' <<<"$OUT")" "[true,false,$total]" \
	"the audit checks the record against the mirror"
finish
