# The PostgreSQL rows of make bench, sourced by bench/run.sh (which
# defines wrk_run, median, PIDS, RES, RUN, ROUNDS, WRITE_S, PG_CONNS...).
#
# A PostgreSQL 15 of the run's own (tests/support/pg.sh: initdb in a
# temporary directory, 127.0.0.1, fsync and synchronous_commit as
# PostgreSQL ships them), one database; redress nodes, each with a data
# directory of its own, on it. Events and openings on PG_CONNS
# connections through 1 node, then through 2 (two wrk processes, half the
# connections each); each events run on PG_POOL disputes opened for it
# (a half through each node with 2), so that each takes tens of events
# in the run, as a dispute does in its life. In turns with the
# ceiling: pgbench running a transaction of the same rows an event
# writes (bench/pg_event.sql: the dispute's head locked, its row and
# version, an event row, four git objects, the head moved, a change, its
# outbox row and its commit number), on as many connections, prepared
# statements.
#
# BENCH_PG=0 leaves them out.

PG_STATE=""
PG_URLS=()

pg_stop_server() {
	if [ -n "$PG_STATE" ]; then
		bash "$ROOT/tests/support/pg.sh" stop "$PG_STATE" >/dev/null 2>&1 || true
		PG_STATE=""
	fi
}

# pg_node N: start node N (a data directory of its own) on the record:
# PG_URLS[N]
pg_node() {
	local n=$1 data=$RUN/pg-node-$1 out=$RUN/pg-serve-$1.out pid
	[ -d "$data" ] || "$REDRESS" --data "$data" --store "$PG_URI" init >/dev/null
	"$REDRESS" serve --data "$data" --store "$PG_URI" --listen 127.0.0.1:0 \
		--rate-limit 0 --sweep-interval 0 --quota-daily none --quota-total none \
		>"$out" 2>"$out.err" &
	pid=$!
	PIDS+=("$pid")
	PG_PIDS[$n]=$pid
	PG_URLS[$n]=http://127.0.0.1:$(await_port "$out" \
		'^redress listening on http://127\.0\.0\.1:\([0-9]*\)$' "$pid")
}
declare -A PG_PIDS

# pg_settle URL: run.sh's settle, on a node
pg_settle() { SERVER_URL=$1 BENCH_KEY=$PG_KEY settle; }

# pg_fresh_pool URL COUNT OUT: COUNT new disputes opened through node
# URL, each "ID escalate" in OUT (every events run has disputes of its
# own, so that no run meets longer histories than another: a change
# rewrites its dispute's tree of events, whose size grows with them)
PG_OPENED=0
pg_fresh_pool() {
	local i
	for i in $(seq "$2"); do
		PG_OPENED=$((PG_OPENED + 1))
		curl -s "${SIDE[@]}" -H "Authorization: Bearer $PG_KEY" \
			--data "$(jq --arg ref "PG-POOL-$PG_OPENED" '.order_ref = $ref' \
				"$ROOT/examples/dispute.json")" \
			"$1/v1/disputes" | jq -r '"\(.id // "none") escalate"'
	done >"$3"
	[ "$(grep -c '^[0-9A-Z]\{26\} escalate$' "$3")" = "$2" ] || {
		echo "bench: cannot open the PostgreSQL pool's disputes" >&2
		exit 1
	}
}

# pg_ceiling NAME ROUND: pgbench, PG_CONNS connections, WRITE_S seconds
pg_ceiling() {
	local name=$1 out=$RUN/pgbench-$1.out tps
	pgbench -n -M prepared -c "$PG_CONNS" -j "$WRK_THREADS" -T "$WRITE_S" \
		-D pool="$PG_POOL" -f "$ROOT/bench/pg_event.sql" -r \
		"$PG_BENCH_URI" >"$out" 2>&1 || {
		echo "bench: pgbench failed:" >&2
		cat "$out" >&2
		exit 1
	}
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | head -1)
	RES[$name.rps]=$tps
	RES[$name.p50]=$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' "$out" | head -1)
	RES[$name.p99]=${RES[$name.p50]}
	RES[$name.errors]=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out" | head -1)
	RES[$name.errors]=${RES[$name.errors]:-0}
	RES[$name.requests]=0
}

# pg_wrk_nodes NAME KIND NODES: KIND (events or open) through NODES nodes
# at once, PG_CONNS connections in all (a wrk each); their rates
# summed, the worst p50 and p99 kept, errors summed
pg_wrk_nodes() {
	local name=$1 kind=$2 nodes=$3 i conns=$((PG_CONNS / $3)) pids=() line
	local rps=0 p50=0 p99=0 errors=0 requests=0
	if [ "$kind" = events ]; then
		for i in $(seq "$nodes"); do
			pg_fresh_pool "${PG_URLS[$i]}" $((PG_POOL / nodes)) "$RUN/pg-pool-$nodes-$i.ev"
		done
	fi
	for i in $(seq "$nodes"); do
		if [ "$kind" = events ]; then
			BENCH_IDS=$RUN/pg-pool-$nodes-$i.ev BENCH_KEY=$PG_KEY \
				wrk -t"$WRK_THREADS" -c"$conns" -d"${WRITE_S}s" --timeout 10s \
				-s "$LUA/events.lua" "${PG_URLS[$i]}" >"$RUN/wrk-$name-n$i.out" 2>&1 &
		else
			BENCH_RUN=$$-$name-$i BENCH_KEY=$PG_KEY \
				wrk -t"$WRK_THREADS" -c"$conns" -d"${WRITE_S}s" --timeout 10s \
				-s "$LUA/open.lua" "${PG_URLS[$i]}" >"$RUN/wrk-$name-n$i.out" 2>&1 &
		fi
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || true; done
	for i in $(seq "$nodes"); do
		line=$(grep '^RESULT ' "$RUN/wrk-$name-n$i.out" | tail -1)
		[ -n "$line" ] || { echo "bench: wrk gave no result for $name-n$i:" >&2; cat "$RUN/wrk-$name-n$i.out" >&2; exit 1; }
		rps=$(awk -v a="$rps" -v b="$(sed 's/.* rps=\([^ ]*\).*/\1/' <<<"$line")" 'BEGIN { print a + b }')
		p50=$(awk -v a="$p50" -v b="$(sed 's/.* p50_ms=\([^ ]*\).*/\1/' <<<"$line")" 'BEGIN { print (b > a ? b : a) }')
		p99=$(awk -v a="$p99" -v b="$(sed 's/.* p99_ms=\([^ ]*\).*/\1/' <<<"$line")" 'BEGIN { print (b > a ? b : a) }')
		errors=$((errors + $(sed 's/.* errors=\([^ ]*\).*/\1/' <<<"$line")))
		requests=$((requests + $(sed 's/.* requests=\([^ ]*\).*/\1/' <<<"$line")))
		pg_settle "${PG_URLS[$i]}"
	done
	RES[$name.rps]=$rps
	RES[$name.p50]=$p50
	RES[$name.p99]=$p99
	RES[$name.errors]=$errors
	RES[$name.requests]=$requests
	ERRORS_TOTAL=$((ERRORS_TOTAL + errors))
	WRK_RUNS=$((WRK_RUNS + nodes))
}

pg_events_1() { pg_wrk_nodes "$1" events 1; }
pg_events_2() { pg_wrk_nodes "$1" events 2; }
pg_open_1() { pg_wrk_nodes "$1" open 1; }
pg_open_2() { pg_wrk_nodes "$1" open 2; }

measure_pg() {
	local i
	command -v pgbench >/dev/null || PATH=$PATH:$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	command -v pgbench >/dev/null || { log "PostgreSQL rows skipped: no pgbench (Debian's postgresql)"; RES[pg.skip]="no PostgreSQL server"; return 0; }
	PG_STATE=$RUN/pg.state
	log "PostgreSQL: starting a server of the run's own"
	bash "$ROOT/tests/support/pg.sh" start "$PG_STATE" >/dev/null
	PG_URI=$(bash "$ROOT/tests/support/pg.sh" createdb "$PG_STATE" bench)
	PG_BENCH_URI=$(bash "$ROOT/tests/support/pg.sh" createdb "$PG_STATE" ceiling)
	psql -X -q -v ON_ERROR_STOP=1 -v pool="$PG_POOL" "$PG_BENCH_URI" \
		-f "$ROOT/bench/pg_event_setup.sql" >/dev/null
	"$REDRESS" --data "$RUN/pg-node-1" --store "$PG_URI" init >/dev/null
	PG_KEY=$("$REDRESS" --data "$RUN/pg-node-1" --store "$PG_URI" key create \
		--role admin --name bench --json | jq -r .key)
	pg_node 1
	pg_node 2
	log "PostgreSQL: $ROUNDS rounds of pgbench and events through 1 and 2 nodes, $PG_CONNS connections, ${WRITE_S}s each"
	paired pg-events-1 pg_ceiling pg_events_1 ceiling2:pg_events_2
	log "PostgreSQL: $ROUNDS rounds of pgbench and openings through 1 and 2 nodes"
	paired pg-open-1 pg_ceiling pg_open_1 ceiling2:pg_open_2
	for i in 1 2; do stop "${PG_PIDS[$i]}"; done
	pg_stop_server
}

# pg_row LABEL NAME GOAL: a PostgreSQL figure against the pgbench ceiling
# of its rounds (NAME's ceiling is ceiling-<paired name>)
pg_row() {
	local label=$1 name=$2 ceil=$3 goal=$4 r ok=info
	# the median of each round's ratio, as paired does
	r=$(for i in $(seq "$ROUNDS"); do
		awk -v a="${RES[$name.$i.rps]}" -v b="${RES[$ceil.$i.rps]}" \
			'BEGIN { if (b > 0) printf "%.4f\n", a / b }'
	done | median)
	r=$(awk -v r="${r:-0}" 'BEGIN { printf "%.2f", r }')
	RES[$name.ratio]=$r
	if [ "$goal" != "-" ]; then
		ok=PASS
		ge "$r" 0.5 || ok=FAIL
		ge 50 "${RES[$name.p99]}" || ok=FAIL
		[ "${RES[$name.errors]}" = 0 ] || ok=FAIL
	fi
	row "$label" "$(num "${RES[$name.rps]}") req/s ($(lat "$name"), ${RES[$name.errors]} errors)" \
		"$(num "${RES[$ceil.rps]}") txn/s (pgbench, the same rows, $PG_CONNS connections, in turns)" \
		"$r" "$goal" "$ok"
}

pg_rows() {
	if [ -n "${RES[pg.skip]:-}" ]; then
		row "PostgreSQL nodes" "skipped: ${RES[pg.skip]}" "-" "-" "-" "SKIP"
		return 0
	fi
	[ -n "${RES[pg-events-1.rps]:-}" ] || return 0
	pg_row "PostgreSQL: POST .../events, 1 node, $PG_CONNS connections" pg-events-1 ceiling-pg-events-1 "-"
	pg_row "PostgreSQL: POST .../events, 2 nodes, $PG_CONNS connections" ceiling2-pg-events-1 ceiling-pg-events-1 \
		">= 0.5, p99 <= 50 ms, 0 errors"
	pg_row "PostgreSQL: POST /v1/disputes, 1 node, $PG_CONNS connections" pg-open-1 ceiling-pg-open-1 "-"
	pg_row "PostgreSQL: POST /v1/disputes, 2 nodes, $PG_CONNS connections" ceiling2-pg-open-1 ceiling-pg-open-1 "-"
}
