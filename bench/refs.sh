#!/usr/bin/env bash
# bench/refs.sh STORE: loose refs against packed refs on one store of many
# disputes, the measurement behind "Many refs" in docs/performance.md.
#
# STORE is a data directory `make bench` filled and kept (BENCH_KEEP=1:
# build-bench/run/run-*/store-1000000, with its .ids and .key beside it),
# its refs loose. The script measures, with the refs loose: listing every
# ref with stock git, the disk they take, and a server's memory and
# latency over twenty events and twenty opened disputes (one request at a
# time); then packs the refs with `git pack-refs --all` (timed) and
# measures the same again on other disputes. It changes the store (the
# refs end up packed) and nothing else; it starts one server at a time on
# 127.0.0.1 and stops it by pid.
set -euo pipefail

STORE=${1:?usage: bench/refs.sh STORE}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REDRESS=${REDRESS:-$ROOT/build-bench/redress}
GIT=(git --git-dir="$STORE/evidence.git")
KEY=$(cat "$STORE.key")
IDS=$STORE.ids
TMP=$(mktemp -d)
SERVER_PID=""
trap '[ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

[ -f "$STORE/evidence.git/packed-refs" ] && {
	echo "refs.sh: $STORE has packed refs already; give a store with loose refs" >&2
	exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

start_server() {
	"$REDRESS" serve --data "$STORE" --listen 127.0.0.1:0 --rate-limit 0 \
		--sweep-interval 0 >"$TMP/serve.out" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 300); do
		URL=$(sed -n 's|^redress listening on \(http://127\.0\.0\.1:[0-9]*\)$|\1|p' "$TMP/serve.out")
		[ -n "$URL" ] && return 0
		sleep 0.05
	done
	echo "refs.sh: the server did not start" >&2
	exit 1
}
stop_server() {
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}
# spread FILE: median and longest of the times (s) in FILE, in ms.
spread() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		printf "median %.0f ms, longest %.0f ms", 1000 * v[int((NR + 1) / 2)], 1000 * v[NR] }'
}
status_kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status"; }

# measure LABEL FIRST_ID_LINE: the figures of one layout.
measure() {
	local label=$1 from=$2 t list refs_kb i id
	t=$(now)
	list=$("${GIT[@]}" for-each-ref --format='%(refname)' refs/disputes | wc -l)
	echo "$label: git for-each-ref lists $list refs in $(since "$t") s"
	refs_kb=$(du -sk "$STORE/evidence.git/refs" | cut -f1)
	[ -f "$STORE/evidence.git/packed-refs" ] &&
		refs_kb=$((refs_kb + $(du -sk "$STORE/evidence.git/packed-refs" | cut -f1)))
	echo "$label: refs take $((refs_kb / 1024)) MiB on disk"

	start_server
	echo "$label: server RSS at start $(($(status_kib VmRSS) / 1024)) MiB"
	for i in $(seq 20); do
		id=$(sed -n "$((from + i))p" "$IDS")
		curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $KEY" \
			-d '{"event":"escalate"}' "$URL/v1/disputes/$id/events"
	done >"$TMP/events.t"
	for i in $(seq 20); do
		curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $KEY" \
			--data-binary @"$ROOT/examples/dispute.json" "$URL/v1/disputes"
	done >"$TMP/opens.t"
	echo "$label: 20 events one at a time: $(spread "$TMP/events.t")"
	echo "$label: 20 opens one at a time: $(spread "$TMP/opens.t")"
	echo "$label: server RSS after $(($(status_kib VmRSS) / 1024)) MiB (peak $(($(status_kib VmHWM) / 1024)), anonymous $(($(status_kib RssAnon) / 1024)))"
	stop_server
}

n=$(wc -l <"$IDS")
measure loose $((n / 2))
t=$(now)
"${GIT[@]}" pack-refs --all
echo "packing: git pack-refs --all took $(since "$t") s"
sync
measure packed $((n / 2 + 100))
