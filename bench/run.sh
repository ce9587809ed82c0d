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
#   BENCH_REFS=loose|packed  how the bulk loader writes refs (default loose)
#   BENCH_DIR=DIR            working directory (default build-bench/run);
#                            needs ~7 GB free for a million disputes
#   BENCH_BUILD=DIR          build directory (default build-bench)
#   BENCH_RESULTS=FILE       also write every figure as key=value lines
#   BENCH_KEEP=1             keep the data directories afterwards
#
# It never runs anything but on 127.0.0.1, never turns fsync off, and
# stops every process it started (by pid) however it ends.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
SCALE=${BENCH_SCALE:-full}
case $SCALE in
full)  def_scales="1000 100000 1000000"; def_read=4; def_write=5; def_rounds=5 ;;
quick) def_scales="1000 100000";         def_read=3; def_write=4; def_rounds=3 ;;
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
REFS_PER_THREAD=16         # refs each thread of the commit ceiling appends to

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
		n=$(curl -s -H "Authorization: Bearer $BENCH_KEY" "$SERVER_URL/metrics" |
			awk '$1 == "redress_http_requests_in_flight" {print $2}')
		[ "${n:-2}" -le 1 ] && return 0
		sleep 0.1
	done
	echo "bench: the server still has requests in flight after 60 s" >&2
	exit 1
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# paired NAME RUN-CEILING RUN-REDRESS [RUN-ONE-WRITER]: ROUNDS turns of
# the ceiling and redress, the ceiling first in odd rounds and last in even
# ones, so that both see the same stretch of a noisy machine. Each function
# is called with the name of its slot and the round number. RES[NAME.*],
# RES[ceiling-NAME.*] (and RES[ceiling1-NAME.*] for the optional
# single-writer ceiling, run between them) get the medians of the rounds;
# errors and requests are summed.
paired() {
	local name=$1 ceil=$2 red=$3 one=${4:-} r k c slot slots
	for r in $(seq "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then
			"$ceil" "ceiling-$name.$r" "$r"
			[ -z "$one" ] || "$one" "ceiling1-$name.$r" "$r"
			"$red" "$name.$r" "$r"
		else
			"$red" "$name.$r" "$r"
			[ -z "$one" ] || "$one" "ceiling1-$name.$r" "$r"
			"$ceil" "ceiling-$name.$r" "$r"
		fi
	done
	slots=("$name" "ceiling-$name")
	[ -z "$one" ] || slots+=("ceiling1-$name")
	# the ratio of each round (the runs closest in time), then their median
	for c in "ceiling-$name" ${one:+"ceiling1-$name"}; do
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
	"$REDRESS" reindex --data "$dir" >/dev/null
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
	git=(git --git-dir="$dir/evidence.git")
	head=$("${git[@]}" rev-parse "refs/disputes/$id")
	"${git[@]}" cat-file blob "$head:dispute.json" >"$RUN/tpl-event-dispute.json"
	"${git[@]}" cat-file blob "$head:events/000003-resume.json" >"$RUN/tpl-event-file.json"
	log "events at $n disputes: $ROUNDS rounds of the raw git commit and redress, ${WRITE_S}s each"
	if [ "$n" = "$BASE" ]; then
		paired "events-$n" events_ceiling events_redress events_ceiling1
	else
		paired "events-$n" events_ceiling events_redress
	fi
}

# ---- the run -----------------------------------------------------------------

mkdir -p "$WORK"
RUN=$(mktemp -d "$WORK/run-XXXXXX")
read -r -a SCALE_LIST <<<"$SCALES"
BASE=${SCALE_LIST[0]}
log "working in $RUN; stores of ${SCALES// /, } disputes, refs $REFS"

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

# opening disputes: raw git commits on new refs with the objects of a real
# open (dispute.json, the opened event; workflow.json is already stored)
BENCH_KEY=$(cat "$RUN/store-$BASE.key")
# (a dispute of its own: one order's items have one open dispute at a time;
# the order reference has the template's length, so the bytes have its sizes)
jq '.order_ref = "BENCH-OPEN0000"' "$RUN/template.json" >"$RUN/open-template.json"
id=$(curl -sf -H "Authorization: Bearer $BENCH_KEY" --data-binary @"$RUN/open-template.json" \
	"$SERVER_URL/v1/disputes" | jq -r .id)
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
paired open open_ceiling open_redress open_ceiling1

# 1 MiB evidence uploads, on fresh disputes
log "1 MiB evidence: $ROUNDS rounds of the raw git blob and redress uploads, ${WRITE_S}s each"
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
paired evidence evidence_ceiling evidence_redress evidence_ceiling1

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

# 3. the larger stores: GET and events again, each with its ceiling
for n in "${SCALE_LIST[@]:1}"; do
	if ! enough_disk "$n"; then
		log "skipping $n disputes: needs ~$NEED_GB GB free in $WORK, has $HAVE_GB GB"
		RES[skip.$n]="needs ~$NEED_GB GB free, has $HAVE_GB GB"
		continue
	fi
	log "loading $n disputes (bulkload, then redress reindex)"
	make_store "$n" "$RUN/store-$n"
	start_redress "$RUN/store-$n"
	measure_reads "$n" "$RUN/store-$n"
	measure_events "$n" "$RUN/store-$n" $((n / 3))
	rss_of "$SERVER_PID" "rss-$n"
	stop "$SERVER_PID"
done

# ---- the table ---------------------------------------------------------------

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
num() { awk -v a="$1" 'BEGIN { if (a >= 100) printf "%.0f", a; else printf "%.1f", a }'; }
ms() { awk -v a="$1" 'BEGIN { if (a >= 10) printf "%.0f", a; else printf "%.1f", a }'; }
pass() { if ge "$1" "$2"; then echo PASS; else echo FAIL; fi; }
human() { awk -v n="$1" 'BEGIN { if (n >= 1e6) printf "%gM", n / 1e6; else if (n >= 1e3) printf "%gk", n / 1e3; else print n }'; }

ROWS=()
row() { ROWS+=("$(printf '%s\t' "$@")"); }
lat() { echo "p50 $(ms "${RES[$1.p50]}") ms, p99 $(ms "${RES[$1.p99]}") ms"; }

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
ratio_row "POST /v1/disputes/{id}/events" "req/s" "events-$BASE" "ceiling-events-$BASE" "(raw git commit, $CORES writers)"
info_row "  the same, vs one raw writer" "events-$BASE" "ceiling1-events-$BASE" "(raw git commit, 1 writer)"
ratio_row "POST /v1/disputes" "req/s" "open" "ceiling-open" "(raw git commit, new ref, $CORES writers)"
info_row "  the same, vs one raw writer" "open" "ceiling1-open" "(raw git commit, new ref, 1 writer)"
ratio_row "1 MiB evidence upload" "req/s" "evidence" "ceiling-evidence" "(raw git 1 MiB blob, $CORES writers)"
info_row "  the same, vs one raw writer" "evidence" "ceiling1-evidence" "(raw git 1 MiB blob, 1 writer)"
if [ -n "${RES[record.fsync-4k.ops_per_s]:-}" ]; then
	fds=${RES[record.fsync-4k.ops_per_s]}
	row "raw fdatasync, 4 KiB (the disk's flush rate)" \
		"$(num "$fds") writes/s (p50 ${RES[record.fsync-4k.p50_ms]} ms, p99 ${RES[record.fsync-4k.p99_ms]} ms)" \
		"-" "-" "-" "info"
	row "  1 MiB evidence upload, vs a raw 1 MiB durable file" "" \
		"$(num "${RES[record.file-1m.ops_per_s]}") files/s (write, fdatasync, rename, fsync dir; 1 writer)" \
		"$(ratio "${RES[evidence.rps]}" "${RES[record.file-1m.ops_per_s]}")" "-" "info"
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
done
last=${SCALE_LIST[${#SCALE_LIST[@]} - 1]}
if [ "$last" != "$BASE" ] && [ -z "${RES[skip.$last]:-}" ]; then
	for kind in get events; do
		f=$(awk -v a="${RES[$kind-$BASE.ratio]}" -v b="${RES[$kind-$last.ratio]}" \
			'BEGIN { printf "%.2f", a / b }')
		row "scale: $kind ratio at $b / at $(human "$last")" \
			"${RES[$kind-$BASE.ratio]} / ${RES[$kind-$last.ratio]} = ${f}x" "-" "-" "<= 2x" \
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
	echo "store of $(human "$n") disputes: loaded and reindexed in ${RES[load.$n.seconds]} s; index ${RES[load.$n.db_mb]} MB (${RES[load.$n.resident]:-?}% in the page cache after loading; read once before the runs), git ${RES[load.$n.git_mb]} MB (refs $REFS); GETs read ${RES[get-$n.reads_per_req]:-?} index pages each from files, ${RES[get-$n.disk_mb]:-?} MB from the disk"
done
echo "GET answer: ${RES[get.body_bytes]} bytes; wrk -t$WRK_THREADS, $READ_CONNS connections for reads, $WRITE_CONNS for writes; ceilings with $CORES threads; medians of $ROUNDS rounds of ${READ_S}s (reads) and ${WRITE_S}s (writes) each, the ratio being the median of the rounds' ratios"

if [ -n "${BENCH_RESULTS:-}" ]; then
	for k in "${!RES[@]}"; do
		echo "$k=${RES[$k]}"
	done | sort >"$BENCH_RESULTS"
fi
