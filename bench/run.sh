#!/usr/bin/env bash
# make bench: build redress with -O2 in its own build directory, measure it
# on loopback against ceilings measured in the same run on the same
# machine, and print one table: figure, ceiling, ratio, goal, result.
#
# Every figure is paired with a ceiling measured right before it, because
# the machines this runs on are shared and noisy: the ratio is the result,
# not the absolute number. What the ceilings are (bench/ceiling_http.c,
# bench/ceiling_git.c), how the stores are filled (bench/bulkload.c) and
# what bounds each ratio is written up in docs/performance.md.
#
# Settings (environment):
#   BENCH_SCALE=full|quick   full (default): stores of 1,000, 100,000 and
#                            1,000,000 disputes; quick: 1,000 and 100,000
#                            with shorter runs (a few minutes)
#   BENCH_SCALES="1000 ..."  the store sizes (the first is the base)
#   BENCH_ROUNDS=N           each figure and its ceiling run N times, in
#                            turns (ceiling, redress, redress, ceiling...);
#                            the medians are reported, and the ratio is the
#                            median of the rounds' ratios (default 5,
#                            quick 3)
#   BENCH_SECONDS=N          length of each read run (default 4, quick 3)
#   BENCH_WRITE_SECONDS=N    length of each write run (default 5, quick 4)
#   BENCH_MANY_CONNS=N       connections of the many-writer rows (default
#                            64; the server takes at most 64 from one
#                            address, which the samplers leave to wrk by
#                            connecting from 127.0.0.2)
#   BENCH_FSYNC_EVENTS=N     events strace counts fsync calls over, at
#                            BENCH_MANY_CONNS connections (default 1000,
#                            quick 500)
#   BENCH_LAG_SECONDS=N      length of the mirror lag run (default 10,
#                            quick 6)
#   BENCH_BIG_MIB=N          size of the large upload that other writers
#                            run beside (default 200; a video, whose kind
#                            allows 200 MiB; 0: not run)
#   BENCH_REFS=loose|packed  how the bulk loader writes refs (default loose)
#   BENCH_DIR=DIR            working directory (default build-bench/run);
#                            needs ~7 GB free for a million disputes
#   BENCH_BUILD=DIR          build directory (default build-bench)
#   BENCH_RESULTS=FILE       also write every figure as key=value lines
#   BENCH_KEEP=1             keep the data directories afterwards
#   BENCH_PG_CONNS=N         connections of the PostgreSQL rows (default
#                            16, 2 to 64; see docs/performance.md)
#   BENCH_PG=0               leave out the PostgreSQL rows (bench/pg.bash)
#   BENCH_PG_ONLY=1          run the PostgreSQL rows alone
#
# It never runs anything but on 127.0.0.1, never turns fsync off, and
# stops every process it started (by pid) however it ends.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
SCALE=${BENCH_SCALE:-full}
case $SCALE in
full)  def_scales="1000 100000 1000000"; def_read=4; def_write=5; def_rounds=5; def_fsync_events=1000; def_lag=10 ;;
quick) def_scales="1000 100000";         def_read=3; def_write=4; def_rounds=3; def_fsync_events=500; def_lag=6 ;;
*) echo "bench: BENCH_SCALE must be full or quick, not $SCALE" >&2; exit 2 ;;
esac
SCALES=${BENCH_SCALES:-$def_scales}
READ_S=${BENCH_SECONDS:-$def_read}
WRITE_S=${BENCH_WRITE_SECONDS:-$def_write}
ROUNDS=${BENCH_ROUNDS:-$def_rounds}
REFS=${BENCH_REFS:-loose}
WORK=${BENCH_DIR:-$BUILD/run}
LUA=$ROOT/bench/wrk
CORES=$(nproc)
# wrk: two threads; GETs on 32 connections (as NOTES' ceilings), writes on
# 4 (two per server thread: writes wait for the index's write lock anyway)
WRK_THREADS=2
READ_CONNS=32
WRITE_CONNS=4
EVENT_POOL=64              # disputes per events run (32 per wrk thread)
# writes on many connections, as many clients at once would send them
# (group commit): the disputes of these runs are one pool, reused from
# run to run, each given the event its state allows (pool_file)
MANY_CONNS=${BENCH_MANY_CONNS:-64}
MANY_POOL=$((MANY_CONNS * 2))  # twice the connections: a dispute is always free
# the PostgreSQL rows' (bench/pg.bash): a closed loop of C connections
# whose p99 is at most 50 ms runs at least C / 0.05 s requests a second,
# so the goal's two halves meet only with few enough of them
PG_CONNS=${BENCH_PG_CONNS:-16}
PG_POOL=$((PG_CONNS * 8))  # disputes of an events run, each taking tens of events
FSYNC_EVENTS=${BENCH_FSYNC_EVENTS:-$def_fsync_events}
LAG_S=${BENCH_LAG_SECONDS:-$def_lag}
BIG_MIB=${BENCH_BIG_MIB:-200}
LAG_SAMPLERS=4             # disputes the mirror's lag is sampled on, at once
# the samplers that run beside wrk connect from another loopback address:
# the server takes at most 64 connections from one (src/http/server.c)
SIDE=(--interface 127.0.0.2)
REFS_PER_THREAD=16         # refs each thread of the commit ceiling appends to

# wrk's connections all come from 127.0.0.1, and the server takes at most
# 64 from one address (src/http/server.c)
case $MANY_CONNS in
[1-9] | [1-5][0-9] | 6[0-4]) ;;
*) echo "bench: BENCH_MANY_CONNS must be 1 to 64 (the server takes 64 connections from one address)" >&2; exit 2 ;;
esac
case $PG_CONNS in
[2-9] | [1-5][0-9] | 6[0-4]) ;;
*) echo "bench: BENCH_PG_CONNS must be 2 to 64" >&2; exit 2 ;;
esac
case $REFS in loose|packed) ;; *)
	echo "bench: BENCH_REFS must be loose or packed" >&2; exit 2 ;;
esac
for tool in wrk curl jq cmake; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool is missing (make bench installs it)" >&2
		exit 1
	}
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- build -------------------------------------------------------------------

log "building with -O2 into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j"$CORES" >/dev/null
REDRESS=$BUILD/redress
BIN=$BUILD/bench

# ---- processes ---------------------------------------------------------------

PIDS=()
RUN=""
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	declare -F pg_stop_server >/dev/null && pg_stop_server
	if [ -n "$RUN" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
		rm -rf "$RUN"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() {
	local pid=$1 keep=() p
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# await_port FILE PATTERN PID: the port a server announced in FILE.
await_port() {
	local file=$1 pattern=$2 pid=$3 port=""
	for _ in $(seq 300); do
		port=$(sed -n "s|$pattern|\\1|p" "$file" | head -1)
		[ -n "$port" ] && { echo "$port"; return 0; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: a server did not start; its output:" >&2
	cat "$file" "$file.err" >&2 2>/dev/null || true
	exit 1
}

# start_redress DATA: SERVER_PID, SERVER_URL. No rate limit, no sweeper,
# no evidence quota (the uploads measured pass a storefront's default).
start_redress() {
	local data=$1 out=$RUN/serve-$RANDOM.out
	"$REDRESS" serve --data "$data" --listen 127.0.0.1:0 --rate-limit 0 \
		--sweep-interval 0 --quota-daily none --quota-total none \
		>"$out" 2>"$out.err" &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	SERVER_URL=http://127.0.0.1:$(await_port "$out" \
		'^redress listening on http://127\.0\.0\.1:\([0-9]*\)$' "$SERVER_PID")
}

# start_ceiling_http BODY: CEILING_PID, CEILING_URL.
start_ceiling_http() {
	local out=$RUN/ceiling-http-$RANDOM.out
	"$BIN/ceiling-http" "$1" 0 >"$out" 2>"$out.err" &
	CEILING_PID=$!
	PIDS+=("$CEILING_PID")
	CEILING_URL=http://127.0.0.1:$(await_port "$out" \
		'^listening on \([0-9]*\)$' "$CEILING_PID")
}

# ---- measuring ---------------------------------------------------------------

declare -A RES
ERRORS_TOTAL=0
WRK_RUNS=0

# wrk_run NAME SCRIPT URL CONNS SECONDS: RES[NAME.rps|p50|p99|errors].
wrk_run() {
	local name=$1 script=$2 url=$3 conns=$4 seconds=$5 line
	wrk -t"$WRK_THREADS" -c"$conns" -d"${seconds}s" --timeout 10s \
		-s "$LUA/$script" "$url" >"$RUN/wrk-$name.out" 2>&1 || true
	line=$(grep '^RESULT ' "$RUN/wrk-$name.out" | tail -1)
	if [ -z "$line" ]; then
		echo "bench: wrk gave no result for $name:" >&2
		cat "$RUN/wrk-$name.out" >&2
		exit 1
	fi
	RES[$name.rps]=$(sed 's/.* rps=\([^ ]*\).*/\1/' <<<"$line")
	RES[$name.p50]=$(sed 's/.* p50_ms=\([^ ]*\).*/\1/' <<<"$line")
	RES[$name.p99]=$(sed 's/.* p99_ms=\([^ ]*\).*/\1/' <<<"$line")
	RES[$name.errors]=$(sed 's/.* errors=\([^ ]*\).*/\1/' <<<"$line")
	RES[$name.requests]=$(sed 's/.* requests=\([^ ]*\).*/\1/' <<<"$line")
	ERRORS_TOTAL=$((ERRORS_TOTAL + RES[$name.errors]))
	WRK_RUNS=$((WRK_RUNS + 1))
}

# git_run NAME ceiling-git ARGS...: RES[NAME.rps|p50|p99].
git_run() {
	local name=$1 line
	shift
	line=$("$BIN/ceiling-git" "$@") || {
		echo "bench: ceiling-git failed for $name" >&2
		exit 1
	}
	RES[$name.rps]=$(sed 's/.* ops_per_s=\([^ ]*\).*/\1/' <<<"$line")
	RES[$name.p50]=$(sed 's/.* p50_ms=\([^ ]*\).*/\1/' <<<"$line")
	RES[$name.p99]=$(sed 's/.* p99_ms=\([^ ]*\).*/\1/' <<<"$line")
}

# settle: wait until the server has finished what wrk left in flight when
# it stopped (writes go on after their client has gone), so that nothing
# of one run falls into the next. A scrape counts itself.
settle() {
	local n
	for _ in $(seq 600); do
		n=$(curl -s "${SIDE[@]}" -H "Authorization: Bearer $BENCH_KEY" "$SERVER_URL/metrics" |
			awk '$1 == "redress_http_requests_in_flight" {print $2}')
		[ "${n:-2}" -le 1 ] && return 0
		sleep 0.1
	done
	echo "bench: the server still has requests in flight after 60 s" >&2
	exit 1
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# paired NAME RUN-CEILING RUN-REDRESS [SLOT:RUN-OTHER-CEILING...]: ROUNDS
# turns of the ceiling and redress, the ceiling first in odd rounds and
# last in even ones, so that both see the same stretch of a noisy machine.
# Each function is called with the name of its slot and the round number.
# RES[NAME.*], RES[ceiling-NAME.*] (and RES[SLOT-NAME.*] for each other
# ceiling, run between them: ceiling1 for a single raw writer, ceilingd for
# a raw durable file) get the medians of the rounds; errors and requests
# are summed; RES[NAME.ratio_vs_C] is the median of the rounds' ratios.
paired() {
	local name=$1 ceil=$2 red=$3 r k c slot slots extra others=()
	shift 3
	others=("$@")
	for r in $(seq "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then
			"$ceil" "ceiling-$name.$r" "$r"
			for extra in "${others[@]}"; do "${extra#*:}" "${extra%%:*}-$name.$r" "$r"; done
			"$red" "$name.$r" "$r"
		else
			"$red" "$name.$r" "$r"
			for extra in "${others[@]}"; do "${extra#*:}" "${extra%%:*}-$name.$r" "$r"; done
			"$ceil" "ceiling-$name.$r" "$r"
		fi
	done
	slots=("$name" "ceiling-$name")
	for extra in "${others[@]}"; do slots+=("${extra%%:*}-$name"); done
	# the ratio of each round (the runs closest in time), then their median
	for c in "${slots[@]:1}"; do
		RES[$name.ratio_vs_$c]=$(for r in $(seq "$ROUNDS"); do
			awk -v a="${RES[$name.$r.rps]}" -v b="${RES[$c.$r.rps]}" \
				'BEGIN { if (b > 0) printf "%.4f\n", a / b }'
		done | median)
	done
	for slot in "${slots[@]}"; do
		for k in rps p50 p99; do
			RES[$slot.$k]=$(for r in $(seq "$ROUNDS"); do
				echo "${RES[$slot.$r.$k]}"; done | median)
		done
		RES[$slot.errors]=0
		RES[$slot.requests]=0
		for r in $(seq "$ROUNDS"); do
			RES[$slot.errors]=$((RES[$slot.errors] + ${RES[$slot.$r.errors]:-0}))
			RES[$slot.requests]=$((RES[$slot.requests] + ${RES[$slot.$r.requests]:-0}))
		done
	done
}

# record_run NAME ceiling-record ARGS...: RES[NAME.rps|p50|p99], a raw
# ceiling of bench/ceiling_record.c (its operations per second: fdatasyncs,
# or files made durable)
record_run() {
	local name=$1 line
	shift
	mkdir -p "$RUN/record-ceiling"
	line=$("$BIN/ceiling-record" "$@" --dir "$RUN/record-ceiling") || {
		echo "bench: ceiling-record failed for $name" >&2
		exit 1
	}
	RES[$name.rps]=$(sed 's/.* ops_per_s=\([^ ]*\).*/\1/' <<<"$line")
	RES[$name.p50]=$(sed 's/.* p50_ms=\([^ ]*\).*/\1/' <<<"$line")
	RES[$name.p99]=$(sed 's/.* p99_ms=\([^ ]*\).*/\1/' <<<"$line")
}
# the raw fdatasync rate (a 4 KiB write and fdatasync), in turns with the
# many-writer rows; and the raw 1 MiB durable file, with the uploads
fdatasync_ceiling() { record_run "$1" fsync --size 4096 --seconds 2; }
durable_file_ceiling() { record_run "$1" fsync --size 1048576 --new-files --seconds 2; }

rss_of() { # rss_of PID NAME: RES[NAME.rss|hwm|anon] in KiB
	local status=/proc/$1/status
	RES[$2.rss]=$(awk '/^VmRSS:/ {print $2}' "$status")
	RES[$2.hwm]=$(awk '/^VmHWM:/ {print $2}' "$status")
	RES[$2.anon]=$(awk '/^RssAnon:/ {print $2}' "$status")
}

# fsyncs_during PID N FUNCTION: fsync and fdatasync calls PID makes, per
# call, while FUNCTION runs N times (called with 1..N; strace attached
# around them); "" without strace.
fsyncs_during() {
	local pid=$1 n=$2 fn=$3 trace=$RUN/strace-$RANDOM.txt spid i calls
	command -v strace >/dev/null || { echo ""; return 0; }
	strace -f -p "$pid" -e trace=fsync,fdatasync -o "$trace" 2>/dev/null &
	spid=$!
	sleep 1
	for i in $(seq "$n"); do
		"$fn" "$i" >/dev/null
	done
	sleep 0.5
	kill -INT "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	calls=$(grep -cE '(fsync|fdatasync).*= 0$' "$trace" || true)
	awk -v c="$calls" -v n="$n" 'BEGIN { printf "%.1f", c / n }'
}

# fsyncs_per_op OPS CEILING-GIT-ARGS...: fsync calls per operation of a
# short single-threaded ceiling run; "" without strace.
fsyncs_per_op() {
	local ops=$1 trace=$RUN/strace-$RANDOM.txt calls
	shift
	command -v strace >/dev/null || { echo ""; return 0; }
	strace -f -c -e trace=fsync,fdatasync -o "$trace" \
		"$BIN/ceiling-git" "$@" >/dev/null
	calls=$(awk '$NF == "total" {print $(NF-1)}' "$trace")
	[ -n "$calls" ] || calls=$(awk '$NF == "total" {print $3}' "$trace")
	awk -v c="$calls" -v o="$ops" 'BEGIN { printf "%.1f", c / o }'
}

# ---- stores ------------------------------------------------------------------

# make_store N DIR: a data directory with N disputes (a template opened by
# redress, N-1 copies by bulkload), its admin key in DIR.key, its ids in
# DIR.ids (oldest first, the template last).
make_store() {
	local n=$1 dir=$2 template t0 t1 copies=$(($1 - 1))
	t0=$(date +%s.%N)
	"$REDRESS" init --data "$dir" >/dev/null
	"$REDRESS" key create --role admin --name bench --data "$dir" --json \
		2>/dev/null | jq -r .key >"$dir.key"
	jq '.order_ref = "BENCH-00000000" | .storefront = "bench-shop"' \
		"$ROOT/examples/dispute.json" >"$RUN/template.json"
	template=$("$REDRESS" open "$RUN/template.json" --as storefront:bench-shop \
		--data "$dir" --json | jq -r .id)
	if [ "$copies" -gt 0 ]; then
		local packed=()
		[ "$REFS" = packed ] && packed=(--packed-refs)
		"$BIN/bulkload" --data "$dir" --template "$template" \
			--count "$copies" --ids "$dir.ids" "${packed[@]}" >/dev/null
	else
		: >"$dir.ids"
	fi
	echo "$template" >>"$dir.ids"
	# bulkload writes the copies as the earlier release kept its record, in
	# evidence.git: redress imports them into the record as it upgrades
	# such a data directory (their index rows rebuilt from their history)
	sqlite3 "$dir/redress.db" \
		"UPDATE record_state SET value = 'pending' WHERE name = 'import'"
	"$REDRESS" upgrade --data "$dir" >/dev/null
	# one dispute chosen at random, checked end to end by redress itself
	"$REDRESS" audit verify "$(shuf -n 1 "$dir.ids")" --data "$dir" >/dev/null
	t1=$(date +%s.%N)
	RES[load.$n.seconds]=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}')
	RES[load.$n.db_mb]=$(du -sm "$dir/redress.db" | cut -f1)
	# how much of the index the page cache held after loading; then read
	# it once, so that the runs measure redress, not the disk's reads
	if command -v fincore >/dev/null; then
		RES[load.$n.resident]=$(fincore -b -n -o RES,SIZE "$dir/redress.db" |
			awk '{ printf "%.0f", $2 ? 100 * $1 / $2 : 0 }')
	fi
	cat "$dir/redress.db" >/dev/null
	RES[load.$n.git_mb]=$(du -sm "$dir/evidence.git" | cut -f1)
}

# enough_disk N: 0 when the working directory can hold N disputes (loose
# refs: a 4 KiB block each; the pack ~1.2 KB, the index ~0.8 KB and its
# rebuild another ~0.8 KB a dispute), with a quarter to spare.
enough_disk() {
	local n=$1 per=3000 avail inodes
	[ "$REFS" = loose ] && per=7200
	avail=$(df -Pk "$WORK" | awk 'NR == 2 {print $4}')
	inodes=$(df -Pi "$WORK" | awk 'NR == 2 {print $4}')
	NEED_GB=$(awk -v n="$n" -v p="$per" 'BEGIN {printf "%.1f", n * p * 1.25 / 1e9}')
	HAVE_GB=$(awk -v k="$avail" 'BEGIN {printf "%.1f", k * 1024 / 1e9}')
	[ "$((avail * 1024))" -gt "$(awk -v n="$n" -v p="$per" 'BEGIN {printf "%d", n * p * 1.25}')" ] &&
		{ [ "$REFS" = packed ] || [ "$inodes" -gt "$((n + 100000))" ]; }
}

# ---- one scale ---------------------------------------------------------------

# measure_reads N DIR: GET paired with the HTTP ceiling.
get_ceiling() { wrk_run "$1" get.lua "$CEILING_URL" "$READ_CONNS" "$READ_S"; }
get_redress() { wrk_run "$1" get.lua "$SERVER_URL" "$READ_CONNS" "$READ_S"; }
measure_reads() {
	local n=$1 dir=$2 id io_before io_after syscr0 syscr1 disk0 disk1
	export BENCH_LUA_DIR=$LUA BENCH_KEY
	BENCH_KEY=$(cat "$dir.key")
	# GETs spread over the store: up to 100,000 ids drawn at random
	shuf -n 100000 "$dir.ids" >"$RUN/get-$n.ids"
	export BENCH_IDS=$RUN/get-$n.ids
	id=$(head -1 "$BENCH_IDS")
	curl -sf -H "Authorization: Bearer $BENCH_KEY" \
		"$SERVER_URL/v1/disputes/$id" -o "$RUN/get-body.json"
	RES[get.body_bytes]=$(wc -c <"$RUN/get-body.json")
	start_ceiling_http "$RUN/get-body.json"
	log "GET at $n disputes: warm-up, then $ROUNDS rounds of the ceiling and redress, ${READ_S}s each"
	wrk_run "warm-ceiling-$n" get.lua "$CEILING_URL" "$READ_CONNS" 2
	wrk_run "warm-get-$n" get.lua "$SERVER_URL" "$READ_CONNS" 2
	io_before=$(awk '/^(read_bytes|syscr):/ {printf "%s ", $2}' "/proc/$SERVER_PID/io")
	paired "get-$n" get_ceiling get_redress
	io_after=$(awk '/^(read_bytes|syscr):/ {printf "%s ", $2}' "/proc/$SERVER_PID/io")
	# what the GETs read: file reads per request (the index's pages that
	# SQLite's own cache did not hold), and bytes that came from the disk
	read -r syscr0 disk0 <<<"$io_before"
	read -r syscr1 disk1 <<<"$io_after"
	RES[get-$n.reads_per_req]=$(awk -v a="$syscr0" -v b="$syscr1" -v r="${RES[get-$n.requests]}" \
		'BEGIN { printf "%.1f", r ? (b - a) / r : 0 }')
	RES[get-$n.disk_mb]=$(awk -v a="$disk0" -v b="$disk1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
	stop "$CEILING_PID"
}

# measure_events N DIR FROM: events on fresh disputes (EVENT_POOL a round,
# ids FROM on of DIR.ids), paired with the raw git commit. The ceiling
# writes what redress writes under this load: a new dispute.json, trees
# and commit each time, while the event file is the same blob for every
# dispute given the same event by the same key in the same second (git
# stores it once), so the ceiling's event file has fixed bytes. Opening
# is mirrored the same way (the "opened" event of one key in one second).
events_ceiling() {
	git_run "$1" commit --repo "$RUN/ceiling-event-$EVENTS_N.git" \
		--file "dispute.json=$RUN/tpl-event-dispute.json" \
		--fixed "events/%06u-resume.json=$RUN/tpl-event-file.json" \
		--seconds "$WRITE_S" --threads "$CORES" --refs "$REFS_PER_THREAD"
}
events_ceiling1() {
	git_run "$1" commit --repo "$RUN/ceiling-event-$EVENTS_N.git" \
		--file "dispute.json=$RUN/tpl-event-dispute.json" \
		--fixed "events/%06u-resume.json=$RUN/tpl-event-file.json" \
		--seconds "$WRITE_S" --threads 1 --refs "$REFS_PER_THREAD"
}
events_redress() {
	local from=$((EVENTS_FROM + ($2 - 1) * EVENT_POOL))
	sed -n "${from},$((from + EVENT_POOL - 1))p" "$EVENTS_DIR.ids" >"$RUN/events.ids"
	BENCH_IDS=$RUN/events.ids wrk_run "$1" events.lua "$SERVER_URL" \
		"$WRITE_CONNS" "$WRITE_S"
	settle
}
measure_events() {
	local n=$1 dir=$2 from=$3 id head git
	EVENTS_N=$n EVENTS_DIR=$dir EVENTS_FROM=$((from + 1))
	export BENCH_THREADS=$WRK_THREADS
	BENCH_KEY=$(cat "$dir.key")
	# the sizes of a real event commit: dispute.json and the event file
	id=$(sed -n "${from}p" "$dir.ids")
	curl -sf -H "Authorization: Bearer $BENCH_KEY" -d '{"event":"escalate"}' \
		"$SERVER_URL/v1/disputes/$id/events" >/dev/null
	curl -sf -H "Authorization: Bearer $BENCH_KEY" -d '{"event":"resume"}' \
		"$SERVER_URL/v1/disputes/$id/events" >/dev/null
	# the mirror holds both once `redress mirror` returns
	"$REDRESS" mirror --data "$dir" >/dev/null
	git=(git --git-dir="$dir/evidence.git")
	head=$("${git[@]}" rev-parse "refs/disputes/$id")
	"${git[@]}" cat-file blob "$head:dispute.json" >"$RUN/tpl-event-dispute.json"
	"${git[@]}" cat-file blob "$head:events/000003-resume.json" >"$RUN/tpl-event-file.json"
	log "events at $n disputes: $ROUNDS rounds of the raw git commit and redress, ${WRITE_S}s each"
	if [ "$n" = "$BASE" ]; then
		paired "events-$n" events_ceiling events_redress ceiling1:events_ceiling1
	else
		paired "events-$n" events_ceiling events_redress
	fi
}

# measure_messages DIR FROM: messages on the disputes of the events' first
# round (ids FROM on of DIR.ids; a message is valid in any state), an
# inbound and an outbound one in turn, paired with the raw git commit of
# what redress writes for each: a new dispute.json, the message's event
# file and the message's file (both unique to it).
messages_ceiling() {
	git_run "$1" commit --repo "$RUN/ceiling-message.git" \
		--file "dispute.json=$RUN/tpl-msg-dispute.json" \
		--file "events/%06u-message.json=$RUN/tpl-msg-event.json" \
		--file "messages/%06u.json=$RUN/tpl-msg-file.json" \
		--seconds "$WRITE_S" --threads "$CORES" --refs "$REFS_PER_THREAD"
}
messages_redress() {
	sed -n "${MESSAGES_FROM},$((MESSAGES_FROM + EVENT_POOL - 1))p" \
		"$MESSAGES_DIR.ids" >"$RUN/messages.ids"
	BENCH_IDS=$RUN/messages.ids wrk_run "$1" messages.lua "$SERVER_URL" \
		"$WRITE_CONNS" "$WRITE_S"
	settle
}
measure_messages() {
	local dir=$1 from=$2 id head git seq
	MESSAGES_DIR=$dir MESSAGES_FROM=$((from + 1))
	export BENCH_THREADS=$WRK_THREADS
	BENCH_KEY=$(cat "$dir.key")
	# the sizes of a real message commit
	id=$(sed -n "${from}p" "$dir.ids")
	seq=$(curl -sf -H "Authorization: Bearer $BENCH_KEY" -H 'Content-Type: application/json' \
		-d '{"direction":"inbound","channel":"chat","body":"The parcel arrived, but the lamp base is cracked. What can you do?"}' \
		"$SERVER_URL/v1/disputes/$id/messages" | jq -r .version)
	"$REDRESS" mirror --data "$dir" >/dev/null
	git=(git --git-dir="$dir/evidence.git")
	head=$("${git[@]}" rev-parse "refs/disputes/$id")
	"${git[@]}" cat-file blob "$head:dispute.json" >"$RUN/tpl-msg-dispute.json"
	"${git[@]}" cat-file blob "$head:events/$(printf '%06d' "$seq")-message.json" >"$RUN/tpl-msg-event.json"
	"${git[@]}" cat-file blob "$head:messages/000001.json" >"$RUN/tpl-msg-file.json"
	log "messages: $ROUNDS rounds of the raw git commit and redress, ${WRITE_S}s each"
	paired "messages" messages_ceiling messages_redress
}

# ---- the table's cells ------------------------------------------------------

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
num() { awk -v a="$1" 'BEGIN { if (a >= 100) printf "%.0f", a; else printf "%.1f", a }'; }
ms() { awk -v a="$1" 'BEGIN { if (a >= 10) printf "%.0f", a; else printf "%.1f", a }'; }
pass() { if ge "$1" "$2"; then echo PASS; else echo FAIL; fi; }
human() { awk -v n="$1" 'BEGIN { if (n >= 1e6) printf "%gM", n / 1e6; else if (n >= 1e3) printf "%gk", n / 1e3; else print n }'; }

ROWS=()
row() { ROWS+=("$(printf '%s\t' "$@")"); }
lat() { echo "p50 $(ms "${RES[$1.p50]}") ms, p99 $(ms "${RES[$1.p99]}") ms"; }

# ---- the run -----------------------------------------------------------------

mkdir -p "$WORK"
RUN=$(mktemp -d "$WORK/run-XXXXXX")
read -r -a SCALE_LIST <<<"$SCALES"
BASE=${SCALE_LIST[0]}
log "working in $RUN; stores of ${SCALES// /, } disputes, refs $REFS"

# PostgreSQL nodes (bench/pg.bash); BENCH_PG_ONLY=1 runs those alone
. "$ROOT/bench/pg.bash"
if [ "${BENCH_PG_ONLY:-0}" = 1 ]; then
	export BENCH_LUA_DIR=$LUA BENCH_THREADS=$WRK_THREADS
	measure_pg
	row "figure" "measured" "ceiling (same run)" "ratio" "goal" "result"
	pg_rows
	echo
	printf '%s\n' "${ROWS[@]}" | column -t -s $'\t'
	exit 0
fi

# 1. offer engine: computation only, before anything loads the disk
log "offer engine: 5s on one thread"
line=$("$BIN/offer-bench" "$ROOT/workflows/policy.json" 5)
RES[offers.rps]=$(sed 's/.* proposals_per_s=\([^ ]*\).*/\1/' <<<"$line")
RES[offers.per_call]=$(sed 's/.* offers_per_call=\([^ ]*\).*/\1/' <<<"$line")

# 2. the base store: every ratio, with its ceiling
log "loading $BASE disputes"
make_store "$BASE" "$RUN/store-$BASE"
start_redress "$RUN/store-$BASE"
measure_reads "$BASE" "$RUN/store-$BASE"
measure_events "$BASE" "$RUN/store-$BASE" 1
# ids used so far: 1 + ROUNDS * EVENT_POOL
NEXT_ID=$((2 + ROUNDS * EVENT_POOL))
# messages on the events' disputes again (of the first round)
measure_messages "$RUN/store-$BASE" 1

# opening disputes: raw git commits on new refs with the objects of a real
# open (dispute.json, the opened event; workflow.json is already stored)
BENCH_KEY=$(cat "$RUN/store-$BASE.key")
# (a dispute of its own: one order's items have one open dispute at a time;
# the order reference has the template's length, so the bytes have its sizes)
jq '.order_ref = "BENCH-OPEN0000"' "$RUN/template.json" >"$RUN/open-template.json"
id=$(curl -sf -H "Authorization: Bearer $BENCH_KEY" --data-binary @"$RUN/open-template.json" \
	"$SERVER_URL/v1/disputes" | jq -r .id)
"$REDRESS" mirror --data "$RUN/store-$BASE" >/dev/null
git=(git --git-dir="$RUN/store-$BASE/evidence.git")
head=$("${git[@]}" rev-parse "refs/disputes/$id")
"${git[@]}" cat-file blob "$head:dispute.json" >"$RUN/tpl-open-dispute.json"
"${git[@]}" cat-file blob "$head:events/000001-opened.json" >"$RUN/tpl-open-event.json"
"${git[@]}" cat-file blob "$head:workflow.json" >"$RUN/tpl-open-workflow.json"
log "opening disputes: $ROUNDS rounds of the raw git commit (new ref) and redress, ${WRITE_S}s each"
open_ceiling() {
	git_run "$1" commit --repo "$RUN/ceiling-open.git" --new-refs \
		--file "dispute.json=$RUN/tpl-open-dispute.json" \
		--fixed "events/000001-opened.json=$RUN/tpl-open-event.json" \
		--fixed "workflow.json=$RUN/tpl-open-workflow.json" \
		--seconds "$WRITE_S" --threads "${OPEN_THREADS:-$CORES}"
}
open_ceiling1() { OPEN_THREADS=1 open_ceiling "$@"; }
open_redress() {
	BENCH_RUN=$$-$2 wrk_run "$1" open.lua "$SERVER_URL" "$WRITE_CONNS" "$WRITE_S"
	settle
}
paired open open_ceiling open_redress ceiling1:open_ceiling1

# 1 MiB evidence uploads, on fresh disputes
log "1 MiB evidence: warm-up, then $ROUNDS rounds of the raw git blob and redress uploads, ${WRITE_S}s each"
sed -n "${NEXT_ID},$((NEXT_ID + EVENT_POOL - 1))p" "$RUN/store-$BASE.ids" >"$RUN/evidence.ids"
NEXT_ID=$((NEXT_ID + EVENT_POOL))
[ -s "$RUN/evidence.ids" ] || cp "$RUN/store-$BASE.ids" "$RUN/evidence.ids"
evidence_ceiling() {
	git_run "$1" blob --repo "$RUN/ceiling-blob.git" --size 1048576 \
		--seconds "$WRITE_S" --threads "${BLOB_THREADS:-$CORES}"
}
evidence_ceiling1() { BLOB_THREADS=1 evidence_ceiling "$@"; }
evidence_redress() {
	BENCH_IDS=$RUN/evidence.ids BENCH_EVIDENCE_SIZE=1048576 \
		wrk_run "$1" evidence.lua "$SERVER_URL" "$WRITE_CONNS" "$WRITE_S"
	settle
}
# One unmeasured round first: on a virtual machine, the page cache's first
# use of memory the guest has not touched before costs a fault in the host
# for every page, and the first few hundred MiB of uploads (the file, then
# the mirror's pack of it) ran at a fifth of the rate that follows, or less.
BENCH_IDS=$RUN/evidence.ids BENCH_EVIDENCE_SIZE=1048576 \
	wrk_run warm-evidence evidence.lua "$SERVER_URL" "$WRITE_CONNS" "$WRITE_S"
settle
paired evidence evidence_ceiling evidence_redress ceiling1:evidence_ceiling1 ceilingd:durable_file_ceiling

# ---- many writers ------------------------------------------------------------
# Events and opens on MANY_CONNS connections, in turns with the raw
# fdatasync rate; then, on the same server: the mirror's lag under that
# load, the fsync calls per event at that load (strace), and events beside
# one large upload.

# forget PID: a process that has ended by itself leaves the list of those
# to stop
forget() {
	local keep=() p
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# pool_file FILE: the pool's disputes ($RUN/many.ids), one "id event" a
# line, the event being the one each dispute's state allows now (escalate
# from opened or investigating, resume from escalated): read in one curl
pool_file() {
	local urls=() id
	while read -r id; do
		urls+=("$SERVER_URL/v1/disputes/$id")
	done <"$RUN/many.ids"
	curl -s "${SIDE[@]}" -H "Authorization: Bearer $BENCH_KEY" -w '\n' "${urls[@]}" |
		jq -r '"\(.id) \(if .state == "escalated" then "resume" else "escalate" end)"' >"$1"
	[ "$(wc -l <"$1")" = "$(wc -l <"$RUN/many.ids")" ] || {
		echo "bench: cannot read the states of the pool's disputes" >&2
		exit 1
	}
}

# events_done: the events the server has answered 200 to so far
events_done() {
	curl -s "${SIDE[@]}" -H "Authorization: Bearer $BENCH_KEY" "$SERVER_URL/metrics" |
		awk 'index($1, "redress_http_requests_total{route=\"/v1/disputes/{id}/events\",method=\"POST\",status=\"200\"}") == 1 { n = $2 }
			END { print n + 0 }'
}

# pct FILE P: the P-th percentile (nearest rank) of FILE's numbers
pct() {
	sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
		if (!NR) { print ""; exit }
		i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR
		print v[i] }'
}

events_many() {
	pool_file "$RUN/many-pool.ids"
	BENCH_IDS=$RUN/many-pool.ids wrk_run "$1" events.lua "$SERVER_URL" \
		"$MANY_CONNS" "$WRITE_S"
	settle
}
open_many() {
	BENCH_RUN=$$-many-$2 wrk_run "$1" open.lua "$SERVER_URL" "$MANY_CONNS" "$WRITE_S"
	settle
}

# lag_sampler ID OUT: until $RUN/lag.stop appears, an event on dispute ID
# (a dispute no one else writes to), then evidence.git's ref of it read
# with git rev-parse every 10 ms until it has moved: the time from the
# answer to the read that saw the new head (that read included), in
# microseconds, a line each in OUT.us; failures in OUT.errors
lag_sampler() {
	local id=$1 out=$2 ev=escalate head new want t0 t1 body
	local git=(git --git-dir="$LAG_DIR/evidence.git")
	head=$("${git[@]}" rev-parse "refs/disputes/$id")
	: >"$out.us"
	: >"$out.errors"
	sleep 0.5
	while [ ! -e "$RUN/lag.stop" ]; do
		if ! body=$(curl -sf "${SIDE[@]}" -H "Authorization: Bearer $BENCH_KEY" \
			-H 'Content-Type: application/json' -d "{\"event\":\"$ev\"}" \
			"$SERVER_URL/v1/disputes/$id/events"); then
			echo "event $ev failed" >>"$out.errors"
			sleep 0.1
			body=$(curl -s "${SIDE[@]}" -H "Authorization: Bearer $BENCH_KEY" \
				"$SERVER_URL/v1/disputes/$id") || true
		else
			t0=${EPOCHREALTIME/./}
			# the head the record committed for this answer
			want=$(sqlite3 -readonly "$LAG_DIR/redress.db" \
				"SELECT head FROM refs WHERE dispute_id = '$id'")
			while :; do
				new=$("${git[@]}" rev-parse -q --verify "refs/disputes/$id" || true)
				t1=${EPOCHREALTIME/./}
				[ "$new" = "$want" ] && break
				if [ $((t1 - t0)) -gt 30000000 ]; then
					echo "the mirror did not show an event after 30 s" >>"$out.errors"
					break
				fi
				sleep 0.01
			done
			echo $((t1 - t0)) >>"$out.us"
			head=$new
		fi
		case $body in
		*'"state":"escalated"'*) ev=resume ;;
		*) ev=escalate ;;
		esac
		sleep 0.05
	done
}

# measure_lag NAME DIR: the mirror's lag, how long after an event's answer
# the mirror of DIR shows it, sampled on $RUN/lag.ids while MANY_CONNS
# connections send events to $RUN/many.ids: RES[NAME.p50|p99|max|samples|
# errors], the load's figures as NAME-load
measure_lag() {
	local name=$1 i=0 id pid
	LAG_DIR=$2
	log "mirror lag: ${LAG_S}s of events on $MANY_CONNS connections; $LAG_SAMPLERS samplers, each an event at a time read back from evidence.git"
	pool_file "$RUN/many-pool.ids"
	rm -f "$RUN/lag.stop" "$RUN"/lag-*.us "$RUN"/lag-*.errors
	LAG_PIDS=()
	while read -r id; do
		i=$((i + 1))
		lag_sampler "$id" "$RUN/lag-$i" &
		LAG_PIDS+=($!)
		PIDS+=($!)
	done <"$RUN/lag.ids"
	BENCH_IDS=$RUN/many-pool.ids wrk_run "$name-load" events.lua "$SERVER_URL" "$MANY_CONNS" "$LAG_S"
	touch "$RUN/lag.stop"
	for pid in "${LAG_PIDS[@]}"; do
		wait "$pid" || true
		forget "$pid"
	done
	settle
	cat "$RUN"/lag-*.us >"$RUN/$name.us"
	cat "$RUN"/lag-*.errors >"$RUN/$name.errors"
	RES[$name.samples]=$(wc -l <"$RUN/$name.us")
	RES[$name.errors]=$(wc -l <"$RUN/$name.errors")
	ERRORS_TOTAL=$((ERRORS_TOTAL + RES[$name.errors]))
	if [ "${RES[$name.samples]}" -gt 0 ]; then
		awk '{ printf "%.3f\n", $1 / 1000 }' "$RUN/$name.us" >"$RUN/$name.ms"
		RES[$name.p50]=$(pct "$RUN/$name.ms" 50)
		RES[$name.p99]=$(pct "$RUN/$name.ms" 99)
		RES[$name.max]=$(pct "$RUN/$name.ms" 100)
	fi
}

# many_pools DIR FROM: the many-writer pool ($RUN/many.ids) and the lag
# samplers' disputes ($RUN/lag.ids), ids FROM on of DIR.ids; 1 when DIR
# has too few
many_pools() {
	sed -n "$2,$(($2 + MANY_POOL + LAG_SAMPLERS))p" "$1.ids" >"$RUN/many-all.ids"
	[ "$(wc -l <"$RUN/many-all.ids")" -ge $((MANY_POOL + LAG_SAMPLERS + 1)) ] || return 1
	head -n "$MANY_POOL" "$RUN/many-all.ids" >"$RUN/many.ids"
	tail -n "$LAG_SAMPLERS" "$RUN/many-all.ids" >"$RUN/lag.ids"
}

BENCH_KEY=$(cat "$RUN/store-$BASE.key")
export BENCH_KEY
if ! many_pools "$RUN/store-$BASE" "$NEXT_ID"; then
	echo "bench: the base store ($BASE disputes) is too small for the many-writer runs; give BENCH_SCALES a larger first store" >&2
	exit 1
fi
NEXT_ID=$((NEXT_ID + MANY_POOL + LAG_SAMPLERS + 1))
big_id=$(sed -n "$((MANY_POOL + 1))p" "$RUN/many-all.ids")
export BENCH_THREADS=$WRK_THREADS

log "many writers: $ROUNDS rounds of the raw fdatasync rate and redress events on $MANY_CONNS connections, ${WRITE_S}s each"
paired events-many fdatasync_ceiling events_many
log "many writers: $ROUNDS rounds of the raw fdatasync rate and redress opens on $MANY_CONNS connections, ${WRITE_S}s each"
paired open-many fdatasync_ceiling open_many

measure_lag lag "$RUN/store-$BASE"

# fsync calls per event at MANY_CONNS connections: strace attached to the
# server while wrk sends events, stopped once the server has answered
# FSYNC_EVENTS of them; the calls divided by the events it answered
# (counted by its /metrics, those in flight when wrk stopped included)
if command -v strace >/dev/null; then
	log "counting fsync calls over $FSYNC_EVENTS events on $MANY_CONNS connections (strace attached to the server)"
	pool_file "$RUN/many-pool.ids"
	before=$(events_done)
	strace -f -c -U calls,name -e trace=fdatasync,fsync,sync_file_range,syncfs \
		-p "$SERVER_PID" -o "$RUN/strace-many.txt" 2>"$RUN/strace-many.err" &
	spid=$!
	PIDS+=("$spid")
	sleep 1
	BENCH_IDS=$RUN/many-pool.ids wrk -t"$WRK_THREADS" -c"$MANY_CONNS" -d600s --timeout 30s \
		-s "$LUA/events.lua" "$SERVER_URL" >"$RUN/wrk-fsync-many.out" 2>&1 &
	wpid=$!
	PIDS+=("$wpid")
	t0=$(date +%s)
	while [ $(($(events_done) - before)) -lt "$FSYNC_EVENTS" ]; do
		kill -0 "$wpid" 2>/dev/null || break
		[ $(($(date +%s) - t0)) -lt 600 ] || break
		sleep 0.1
	done
	stop "$wpid"
	settle
	after=$(events_done)
	sleep 0.5
	kill -INT "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	forget "$spid"
	RES[fsync.many_events]=$((after - before))
	RES[fsync.many_calls]=$(awk '$NF == "total" { print $1 }' "$RUN/strace-many.txt")
	RES[fsync.many_seconds]=$(($(date +%s) - t0))
	RES[fsync.many_per_event]=$(awk -v c="${RES[fsync.many_calls]:-0}" -v n="${RES[fsync.many_events]}" \
		'BEGIN { if (n > 0) printf "%.2f", c / n }')
	awk 'NR > 2 && $NF != "total" && $1 ~ /^[0-9]+$/ { printf "%s %s, ", $2, $1 }' \
		"$RUN/strace-many.txt" | sed 's/, $//' >"$RUN/strace-many.calls"
fi

# fsync calls per acknowledged write, redress and raw git
if command -v strace >/dev/null; then
	log "counting fsync calls per write with strace"
	head -c 1048576 /dev/urandom >"$RUN/photo.bin"
	printf '\377\330\377\340\000\020JFIF\000\001\001\000\000\001\000\001\000\000' |
		dd of="$RUN/photo.bin" conv=notrunc status=none
	# on fresh disputes, ten writes each (one upload: 1 MiB changes)
	one_event() {
		curl -sf -H "Authorization: Bearer $BENCH_KEY" -d '{"event":"escalate"}' \
			"$SERVER_URL/v1/disputes/$(sed -n "$((NEXT_ID + $1))p" "$RUN/store-$BASE.ids")/events"
	}
	one_open() {
		jq --arg ref "$(printf 'BENCH-FSYNC%03d' "$1")" '.order_ref = $ref' \
			"$RUN/template.json" >"$RUN/fsync-open.json"
		curl -sf -H "Authorization: Bearer $BENCH_KEY" --data-binary @"$RUN/fsync-open.json" \
			"$SERVER_URL/v1/disputes"
	}
	one_upload() {
		curl -sf -H "Authorization: Bearer $BENCH_KEY" \
			-H 'Content-Type: application/octet-stream' --data-binary @"$RUN/photo.bin" \
			"$SERVER_URL/v1/disputes/$(sed -n "$((NEXT_ID + 10 + $1))p" "$RUN/store-$BASE.ids")/evidence?kind=photo&captured_at=2026-03-01T08:00:00Z"
	}
	RES[fsync.event]=$(fsyncs_during "$SERVER_PID" 10 one_event)
	RES[fsync.open]=$(fsyncs_during "$SERVER_PID" 10 one_open)
	RES[fsync.evidence]=$(fsyncs_during "$SERVER_PID" 10 one_upload)
	RES[fsync.raw_event]=$(fsyncs_per_op 21 commit --repo "$RUN/fsync-event.git" \
		--file "dispute.json=$RUN/tpl-event-dispute.json" \
		--fixed "events/%06u-resume.json=$RUN/tpl-event-file.json" \
		--threads 1 --refs 1 --warmup 0 --ops 20)
	RES[fsync.raw_open]=$(fsyncs_per_op 20 commit --repo "$RUN/fsync-open.git" --new-refs \
		--file "dispute.json=$RUN/tpl-open-dispute.json" \
		--fixed "events/000001-opened.json=$RUN/tpl-open-event.json" \
		--fixed "workflow.json=$RUN/tpl-open-workflow.json" \
		--threads 1 --warmup 1 --ops 19)
	RES[fsync.raw_blob]=$(fsyncs_per_op 20 blob --repo "$RUN/fsync-blob.git" \
		--size 1048576 --threads 1 --warmup 0 --ops 20)
fi
# the ceilings of a record kept in one database transaction per change
# (issue 13): the raw fdatasync rate, a raw 1 MiB durable file, and a raw
# SQLite transaction of a change's rows with 1 to 64 changes in each, with
# the bytes of this run's event commit (bench/record.sh)
log "the record's ceilings: fdatasync, a 1 MiB file, SQLite transactions of 1 to 64 changes ($ROUNDS rounds of 2s each)"
RECORD_BIN=$BIN RECORD_DIR=$RUN/record RECORD_ROUNDS=$ROUNDS RECORD_SECONDS=2 \
	RECORD_DISPUTE=$RUN/tpl-event-dispute.json RECORD_EVENT=$RUN/tpl-event-file.json \
	"$ROOT/bench/record.sh" --kv >"$RUN/record.kv"
while IFS='=' read -r k v; do
	RES[$k]=$v
done <"$RUN/record.kv"
# /healthz while one key runs 2 exports and 16 verifications of one large
# dispute, again and again: slow work must not hold up the request
# threads. Measured on 4 connections, idle first, then under that load.
SLOW_FILES=2
SLOW_MIB=16
log "GET /healthz: idle, then while one key runs 2 exports + 16 verifications of a $((SLOW_FILES * SLOW_MIB)) MiB dispute"
slow_id=$(sed -n "${NEXT_ID}p" "$RUN/store-$BASE.ids")
NEXT_ID=$((NEXT_ID + 1))
[ -n "$slow_id" ] || slow_id=$(tail -1 "$RUN/store-$BASE.ids")
for i in $(seq "$SLOW_FILES"); do
	{
		printf '\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41'
		head -c $((SLOW_MIB * 1048576 - 32)) /dev/urandom
	} >"$RUN/slow.mp4"
	curl -sf -o /dev/null -H "Authorization: Bearer $BENCH_KEY" \
		-H 'Content-Type: application/octet-stream' --data-binary @"$RUN/slow.mp4" \
		"$SERVER_URL/v1/disputes/$slow_id/evidence?kind=video&captured_at=2026-03-01T08:00:00Z"
done
rm -f "$RUN/slow.mp4"
wrk_run healthz-idle healthz.lua "$SERVER_URL" 4 "$READ_S"
slow_load() {
	local rounds=0 i
	while [ ! -e "$RUN/slow.stop" ]; do
		for i in 1 2; do
			curl -s -o /dev/null -H "Authorization: Bearer $BENCH_KEY" \
				"$SERVER_URL/v1/disputes/$slow_id/export" &
		done
		for i in $(seq 16); do
			curl -s -o /dev/null -H "Authorization: Bearer $BENCH_KEY" \
				"$SERVER_URL/v1/disputes/$slow_id/verify" &
		done
		wait
		rounds=$((rounds + 1))
	done
	echo "$rounds" >"$RUN/slow.rounds"
}
slow_load &
SLOW_PID=$!
PIDS+=("$SLOW_PID")
sleep 1
wrk_run healthz-slow healthz.lua "$SERVER_URL" 4 "$READ_S"
touch "$RUN/slow.stop"
wait "$SLOW_PID" || true
RES[healthz-slow.rounds]=$(cat "$RUN/slow.rounds" 2>/dev/null || echo 0)
settle

rss_of "$SERVER_PID" "rss-$BASE"
stop "$SERVER_PID"

# other writers beside one large upload, on a server of its own on the
# base store (so that the memory figures above are of the runs before):
# the upload alone first (its length sets how long the events run), then
# ROUNDS rounds of events on WRITE_CONNS connections idle and beside a new
# upload that started half a second before them (bench/run.sh's pairing,
# the idle run in the ceiling's place), each once the kernel has written
# the previous uploads' pages back
if [ "$BIG_MIB" != 0 ]; then
	start_redress "$RUN/store-$BASE"
	log "a $BIG_MIB MiB upload alone, then $ROUNDS rounds of events on $WRITE_CONNS connections idle and beside another one"
	{
		printf '\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41'
		head -c $((BIG_MIB * 1048576 - 32)) /dev/urandom
	} >"$RUN/big.mp4"
	upload_big() { # upload_big NAME: $RUN/big-NAME.seconds, or the bench fails
		local code secs
		read -r code secs < <(curl -s "${SIDE[@]}" -o "$RUN/big-$1.json" -w '%{http_code} %{time_total}\n' \
			-H "Authorization: Bearer $BENCH_KEY" -H 'Content-Type: application/octet-stream' \
			-X POST -T "$RUN/big.mp4" \
			"$SERVER_URL/v1/disputes/$big_id/evidence?kind=video&captured_at=2026-03-01T08:00:00Z")
		if [ "$code" != 201 ]; then
			echo "bench: the $BIG_MIB MiB upload answered $code: $(head -c 300 "$RUN/big-$1.json")" >&2
			exit 1
		fi
		awk -v s="$secs" 'BEGIN { printf "%.1f\n", s }' >"$RUN/big-$1.seconds"
	}
	# writeback: wait (up to 60 s) until the kernel holds less than 64 MiB
	# of dirty pages, so that one run's writes do not slow the next one's
	# flushes
	writeback() {
		for _ in $(seq 600); do
			awk '/^(Dirty|Writeback):/ { kb += $2 } END { exit !(kb < 65536) }' /proc/meminfo && return 0
			sleep 0.1
		done
	}
	big_idle() {
		writeback
		pool_file "$RUN/many-pool.ids"
		BENCH_IDS=$RUN/many-pool.ids wrk_run "$1" events.lua "$SERVER_URL" \
			"$WRITE_CONNS" "${RES[big.events_s]}"
		settle
	}
	big_beside() {
		local up_t0 wrk_t1 up_pid
		writeback
		pool_file "$RUN/many-pool.ids"
		up_t0=${EPOCHREALTIME/./}
		upload_big "$1" &
		up_pid=$!
		PIDS+=("$up_pid")
		sleep 0.5
		BENCH_IDS=$RUN/many-pool.ids wrk_run "$1" events.lua "$SERVER_URL" \
			"$WRITE_CONNS" "${RES[big.events_s]}"
		wrk_t1=${EPOCHREALTIME/./}
		wait "$up_pid" || { echo "bench: a $BIG_MIB MiB upload failed" >&2; exit 1; }
		forget "$up_pid"
		settle
		RES[$1.upload_s]=$(cat "$RUN/big-$1.seconds")
		# how much of the events' run the upload covered
		RES[$1.covered]=$(awk -v s="$up_t0" -v e="$wrk_t1" -v u="${RES[$1.upload_s]}" \
			-v d="${RES[big.events_s]}" 'BEGIN { end = s / 1e6 + u; w0 = s / 1e6 + 0.5;
				w1 = e / 1e6; c = (end < w1 ? end : w1) - w0;
				if (c < 0) c = 0; if (c > d) c = d; printf "%.1f", c }')
	}
	writeback
	# a new server: its worker threads' first requests open their services
	pool_file "$RUN/many-pool.ids"
	BENCH_IDS=$RUN/many-pool.ids wrk_run warm-big events.lua "$SERVER_URL" "$WRITE_CONNS" 2
	settle
	upload_big alone
	RES[big.alone_s]=$(cat "$RUN/big-alone.seconds")
	settle
	RES[big.events_s]=$(awk -v t="${RES[big.alone_s]}" 'BEGIN { d = int(t - 1); if (d < 1) d = 1; print d }')
	paired big big_idle big_beside
	RES[big.upload_s]=$(for r in $(seq "$ROUNDS"); do echo "${RES[big.$r.upload_s]}"; done | median)
	RES[big.covered]=$(for r in $(seq "$ROUNDS"); do echo "${RES[big.$r.covered]}"; done | sort -g | head -1)
	rm -f "$RUN/big.mp4"
	rss_of "$SERVER_PID" big
	stop "$SERVER_PID"
fi

# 3. the larger stores: GET and events again, each with its ceiling
for n in "${SCALE_LIST[@]:1}"; do
	if ! enough_disk "$n"; then
		log "skipping $n disputes: needs ~$NEED_GB GB free in $WORK, has $HAVE_GB GB"
		RES[skip.$n]="needs ~$NEED_GB GB free, has $HAVE_GB GB"
		continue
	fi
	log "loading $n disputes (bulkload, then redress upgrade)"
	make_store "$n" "$RUN/store-$n"
	start_redress "$RUN/store-$n"
	measure_reads "$n" "$RUN/store-$n"
	measure_events "$n" "$RUN/store-$n" $((n / 3))
	# many writers and the mirror's lag again, on disputes no run wrote
	if many_pools "$RUN/store-$n" $((2 * n / 3)); then
		log "many writers at $n disputes: $ROUNDS rounds of the raw fdatasync rate and redress events on $MANY_CONNS connections, ${WRITE_S}s each"
		paired "events-many-$n" fdatasync_ceiling events_many
		measure_lag "lag-$n" "$RUN/store-$n"
	fi
	rss_of "$SERVER_PID" "rss-$n"
	stop "$SERVER_PID"
done

# 4. PostgreSQL nodes on one database, against pgbench
if [ "${BENCH_PG:-1}" = 1 ]; then
	measure_pg
fi

# ---- the table ---------------------------------------------------------------

ratio_row() { # ratio_row LABEL UNIT NAME CEILING-NAME CEILING-LABEL
	local r
	r=$(awk -v r="${RES[$3.ratio_vs_$4]}" 'BEGIN { printf "%.2f", r }')
	RES[$3.ratio]=$r
	row "$1" "$(num "${RES[$3.rps]}") $2 ($(lat "$3"), ${RES[$3.errors]} errors)" \
		"$(num "${RES[$4.rps]}") $2 $5" "$r" ">= 0.5" "$(pass "$r" 0.5)"
}

info_row() { # info_row LABEL NAME CEILING-NAME CEILING-LABEL: no goal of its own
	local r
	r=$(awk -v r="${RES[$2.ratio_vs_$3]}" 'BEGIN { printf "%.2f", r }')
	RES[$2.ratio1]=$r
	row "$1" "" "$(num "${RES[$3.rps]}") req/s $4" "$r" "-" "info"
}

b=$(human "$BASE")
row "figure" "measured" "ceiling (same run)" "ratio" "goal" "result"
ratio_row "GET /v1/disputes/{id}, $b disputes" "req/s" "get-$BASE" "ceiling-get-$BASE" "(fixed-body MHD server)"
fdatasync_row() { # fdatasync_row NAME: NAME against the raw fdatasync rate of the many-writer rounds
	local fds=${RES[ceiling-events-many.rps]:-}
	[ -n "$fds" ] || return 0
	row "  the same, vs the raw fdatasync rate" "" \
		"$(num "$fds") fdatasync/s (raw 4 KiB, the many-writer rounds)" \
		"$(ratio "${RES[$1.rps]}" "$fds")" "-" "info"
}
ratio_row "POST /v1/disputes/{id}/events" "req/s" "events-$BASE" "ceiling-events-$BASE" "(raw git commit, $CORES writers)"
info_row "  the same, vs one raw writer" "events-$BASE" "ceiling1-events-$BASE" "(raw git commit, 1 writer)"
fdatasync_row "events-$BASE"
ratio_row "POST /v1/disputes/{id}/messages" "req/s" "messages" "ceiling-messages" "(raw git commit, $CORES writers)"
ratio_row "POST /v1/disputes" "req/s" "open" "ceiling-open" "(raw git commit, new ref, $CORES writers)"
info_row "  the same, vs one raw writer" "open" "ceiling1-open" "(raw git commit, new ref, 1 writer)"
fdatasync_row open
many_row() { # many_row LABEL NAME: a write on MANY_CONNS connections
	local r ok=PASS
	r=$(awk -v r="${RES[$2.ratio_vs_ceiling-$2]}" 'BEGIN { printf "%.2f", r }')
	RES[$2.ratio]=$r
	ge "${RES[$2.rps]}" 1500 || ok=FAIL
	ge "$r" 0.5 || ok=FAIL
	ge 50 "${RES[$2.p99]}" || ok=FAIL
	[ "${RES[$2.errors]}" = 0 ] || ok=FAIL
	row "$1" "$(num "${RES[$2.rps]}") req/s ($(lat "$2"), ${RES[$2.errors]} errors)" \
		"$(num "${RES[ceiling-$2.rps]}") fdatasync/s (raw 4 KiB, in turns)" "$r" \
		">= 1500/s, >= 0.5, p99 <= 50 ms, 0 errors" "$ok"
}
sqlite_rows() { # sqlite_rows NAME: the raw SQLite transactions that bound it
	local b
	for b in 1 64; do
		[ -n "${RES[record.git-$b.changes_per_s]:-}" ] || continue
		row "  ceiling: raw SQLite txn of $b change(s), synchronous=FULL" "" \
			"$(num "${RES[record.git-$b.changes_per_s]}") changes/s (git objects, event bytes; p99 ${RES[record.git-$b.p99_ms]} ms a txn)" \
			"$(ratio "${RES[$1.rps]}" "${RES[record.git-$b.changes_per_s]}")" "-" "info"
	done
}
if [ -n "${RES[events-many.rps]:-}" ]; then
	many_row "POST /v1/disputes/{id}/events, $MANY_CONNS connections" events-many
	sqlite_rows events-many
	many_row "POST /v1/disputes, $MANY_CONNS connections" open-many
	sqlite_rows open-many
fi
pg_rows
if [ -n "${RES[fsync.many_per_event]:-}" ]; then
	row "fsync calls per event, $MANY_CONNS connections (strace)" \
		"${RES[fsync.many_per_event]} (${RES[fsync.many_calls]:-0} calls over ${RES[fsync.many_events]} events: $(cat "$RUN/strace-many.calls"))" \
		"-" "-" "< 1" "$(awk -v f="${RES[fsync.many_per_event]}" 'BEGIN { print (f < 1 ? "PASS" : "FAIL") }')"
fi
lag_row() { # lag_row NAME LABEL-TAIL: the mirror's lag measured as NAME
	if [ -n "${RES[$1.p99]:-}" ]; then
		row "mirror lag: an event's answer until evidence.git's ref shows it, under $MANY_CONNS-connection events$2" \
			"p50 $(ms "${RES[$1.p50]}") ms, p99 $(ms "${RES[$1.p99]}") ms, max $(ms "${RES[$1.max]}") ms (${RES[$1.samples]} samples, ${RES[$1.errors]} errors; load $(num "${RES[$1-load.rps]}") req/s, ${RES[$1-load.errors]} errors)" \
			"-" "-" "p99 <= 1000 ms" \
			"$(awk -v p="${RES[$1.p99]}" -v e="${RES[$1.errors]}" 'BEGIN { print (p <= 1000 && e == 0 ? "PASS" : "FAIL") }')"
	else
		row "mirror lag under $MANY_CONNS-connection events$2" "no sample (${RES[$1.errors]:-?} errors)" "-" "-" "p99 <= 1000 ms" "FAIL"
	fi
}
lag_row lag ""
ratio_row "1 MiB evidence upload" "req/s" "evidence" "ceiling-evidence" "(raw git 1 MiB blob, $CORES writers)"
info_row "  the same, vs one raw writer" "evidence" "ceiling1-evidence" "(raw git 1 MiB blob, 1 writer)"
if [ -n "${RES[ceilingd-evidence.rps]:-}" ]; then
	r=$(awk -v r="${RES[evidence.ratio_vs_ceilingd-evidence]}" 'BEGIN { printf "%.2f", r }')
	RES[evidence.ratio_durable]=$r
	row "  the same, vs a raw 1 MiB durable file" "" \
		"$(num "${RES[ceilingd-evidence.rps]}") files/s (write, fdatasync, rename, fsync dir; 1 writer, in turns)" \
		"$r" ">= 0.5" "$(pass "$r" 0.5)"
fi
if [ -n "${RES[big.p99]:-}" ]; then
	d=$(awk -v a="${RES[big.p99]}" -v b="${RES[ceiling-big.p99]}" 'BEGIN { printf "%.1f", a - b }')
	RES[big.delay_ms]=$d
	row "POST .../events ($WRITE_CONNS connections) beside one $BIG_MIB MiB upload" \
		"p99 $(ms "${RES[big.p99]}") ms ($(num "${RES[big.rps]}") req/s, ${RES[big.errors]} errors; each upload took ${RES[big.upload_s]} s, ${RES[big.alone_s]} s alone, and ran through at least ${RES[big.covered]} s of the ${RES[big.events_s]} s measured; server peak RSS $(awk -v h="${RES[big.hwm]}" 'BEGIN { printf "%.1f", h / 1024 }') MiB)" \
		"p99 $(ms "${RES[ceiling-big.p99]}") ms idle ($(num "${RES[ceiling-big.rps]}") req/s, same server, in turns)" \
		"$(awk -v d="$d" 'BEGIN { printf "%+.1f ms", d }')" \
		"<= +50 ms, 0 errors" \
		"$(awk -v d="$d" -v e="${RES[big.errors]}" 'BEGIN { print (d <= 50 && e == 0 ? "PASS" : "FAIL") }')"
fi
if [ -n "${RES[record.fsync-4k.ops_per_s]:-}" ]; then
	fds=${RES[record.fsync-4k.ops_per_s]}
	row "raw fdatasync, 4 KiB (the disk's flush rate)" \
		"$(num "$fds") writes/s (p50 ${RES[record.fsync-4k.p50_ms]} ms, p99 ${RES[record.fsync-4k.p99_ms]} ms)" \
		"-" "-" "-" "info"
	row "raw 1 MiB durable file (bench/record.sh)" \
		"$(num "${RES[record.file-1m.ops_per_s]}") files/s (write, fdatasync, rename, fsync dir; 1 writer)" \
		"-" "-" "-" "info"
	for k in "${!RES[@]}"; do
		case $k in record.*-*.changes_per_s) echo "${k#record.}" ;; esac
	done | sed 's/\.changes_per_s$//' | sort -t- -k1,1r -k2,2n >"$RUN/record.configs"
	while read -r c; do
		row "raw SQLite record, ${c%-*} objects, ${c##*-} change(s) a txn" \
			"$(num "${RES[record.$c.changes_per_s]}") changes/s (p99 ${RES[record.$c.p99_ms]} ms a txn, ${RES[record.$c.syncs_per_change]} fdatasync a change)" \
			"$(num "$fds") fdatasync/s (raw, same run)" \
			"$(ratio "${RES[record.$c.changes_per_s]}" "$fds")" "-" "info"
	done <"$RUN/record.configs"
fi
if [ -n "${RES[healthz-slow.p99]:-}" ]; then
	row "GET /healthz under slow work: one key's 2 exports + 16 verifications of a $((SLOW_FILES * SLOW_MIB)) MiB dispute" \
		"$(num "${RES[healthz-slow.rps]}") req/s ($(lat healthz-slow), ${RES[healthz-slow.errors]} errors; ${RES[healthz-slow.rounds]} rounds of the load)" \
		"p99 $(ms "${RES[healthz-idle.p99]}") ms idle (same server)" "-" "p99 < 100 ms" \
		"$(awk -v p="${RES[healthz-slow.p99]}" 'BEGIN { print (p < 100 ? "PASS" : "FAIL") }')"
fi
for n in "${SCALE_LIST[@]:1}"; do
	h=$(human "$n")
	if [ -n "${RES[skip.$n]:-}" ]; then
		row "GET and events, $h disputes" "skipped: ${RES[skip.$n]}" "-" "-" "-" "SKIP"
		continue
	fi
	ratio_row "GET /v1/disputes/{id}, $h disputes" "req/s" "get-$n" "ceiling-get-$n" "(fixed-body MHD server)"
	ratio_row "POST .../events, $h disputes" "req/s" "events-$n" "ceiling-events-$n" "(raw git commit, $CORES writers)"
	if [ -n "${RES[events-many-$n.rps]:-}" ]; then
		many_row "POST .../events, $MANY_CONNS connections, $h disputes" "events-many-$n"
		lag_row "lag-$n" ", $h disputes"
	fi
done
last=${SCALE_LIST[${#SCALE_LIST[@]} - 1]}
if [ "$last" != "$BASE" ] && [ -z "${RES[skip.$last]:-}" ]; then
	for kind in get events events-many; do
		at_base=${RES[$kind-$BASE.ratio]:-}
		[ "$kind" = events-many ] && at_base=${RES[events-many.ratio]:-}
		[ -n "$at_base" ] && [ -n "${RES[$kind-$last.ratio]:-}" ] || continue
		f=$(awk -v a="$at_base" -v b="${RES[$kind-$last.ratio]}" \
			'BEGIN { printf "%.2f", (b > 0 ? a / b : 99) }')
		row "scale: $kind ratio at $(human "$BASE") / at $(human "$last")" \
			"$at_base / ${RES[$kind-$last.ratio]} = ${f}x" "-" "-" "<= 2x" \
			"$(awk -v f="$f" 'BEGIN { print (f <= 2 ? "PASS" : "FAIL") }')"
	done
fi
for n in "${SCALE_LIST[@]}"; do
	[ -n "${RES[rss-$n.hwm]:-}" ] || continue
	row "server RSS after the runs, $(human "$n") disputes" \
		"$(awk -v k="${RES[rss-$n.rss]}" -v h="${RES[rss-$n.hwm]}" -v a="${RES[rss-$n.anon]}" \
			'BEGIN { printf "%.1f MiB (peak %.1f, anonymous %.1f)", k / 1024, h / 1024, a / 1024 }')" \
		"-" "-" "peak < 100 MiB" \
		"$(awk -v h="${RES[rss-$n.hwm]}" 'BEGIN { print (h < 102400 ? "PASS" : "FAIL") }')"
done
row "errors, all $WRK_RUNS wrk runs" "$ERRORS_TOTAL" "-" "-" "0" \
	"$([ "$ERRORS_TOTAL" = 0 ] && echo PASS || echo FAIL)"
row "offer engine, one thread" "$(num "${RES[offers.rps]}") proposals/s (${RES[offers.per_call]} offers each)" \
	"-" "-" "-" "info"

echo
echo "redress $(sed -n 's/^project(redress VERSION \([^ ]*\).*/\1/p' "$ROOT/CMakeLists.txt") on $(uname -sr), $CORES cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '%s\n' "${ROWS[@]}" | column -t -s $'\t'
if [ -n "${RES[fsync.event]:-}" ]; then
	echo
	echo "fsync calls per acknowledged write (strace): event ${RES[fsync.event]} (raw git ${RES[fsync.raw_event]}), open ${RES[fsync.open]} (raw git ${RES[fsync.raw_open]}), 1 MiB evidence ${RES[fsync.evidence]} (raw git blob ${RES[fsync.raw_blob]})"
fi
if [ -s "$RUN/record.configs" ]; then
	echo
	echo "the record's ceilings (bench/record.sh): fdatasync calls per change over a whole 1 s run of ceiling-record, its own count / strace's: $(while read -r c; do
		printf '%s %s / %s; ' "$c" "${RES[record.$c.own_per_changes]:-?}" "${RES[record.$c.strace_per_changes]:-?}"
	done <"$RUN/record.configs")bytes a change: ${RES[record.git-1.bytes_per_change]:-?}"
fi
for n in "${SCALE_LIST[@]}"; do
	[ -n "${RES[load.$n.seconds]:-}" ] || continue
	echo "store of $(human "$n") disputes: loaded and imported in ${RES[load.$n.seconds]} s; index ${RES[load.$n.db_mb]} MB (${RES[load.$n.resident]:-?}% in the page cache after loading; read once before the runs), git ${RES[load.$n.git_mb]} MB (refs $REFS); GETs read ${RES[get-$n.reads_per_req]:-?} index pages each from files, ${RES[get-$n.disk_mb]:-?} MB from the disk"
done
echo "GET answer: ${RES[get.body_bytes]} bytes; wrk -t$WRK_THREADS, $READ_CONNS connections for reads, $WRITE_CONNS for writes ($MANY_CONNS for the many-writer rows, whose samplers connect from 127.0.0.2); ceilings with $CORES threads; medians of $ROUNDS rounds of ${READ_S}s (reads) and ${WRITE_S}s (writes) each, the ratio being the median of the rounds' ratios"

if [ -n "${BENCH_RESULTS:-}" ]; then
	for k in "${!RES[@]}"; do
		echo "$k=${RES[$k]}"
	done | sort >"$BENCH_RESULTS"
fi
