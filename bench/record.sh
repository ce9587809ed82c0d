#!/usr/bin/env bash
# bench/record.sh: the ceilings that bound a write when each change is one
# database transaction (docs/architecture.md, "The record: one transaction
# per change"), measured with bench/ceiling_record.c:
#
#   - the raw fdatasync rate: a 4 KiB write and fdatasync, as
#     pg_test_fsync's fdatasync line;
#   - the raw 1 MiB durable write: a new file of 1 MiB written, fdatasync'd,
#     renamed into place and its directory fsync'd (an evidence file made
#     durable before the transaction that names it);
#   - a raw SQLite transaction (WAL, synchronous=FULL, BEGIN IMMEDIATE) of
#     the rows of dispute changes, with N changes per transaction (group
#     commit), the objects either as made-up rows of the same sizes (raw)
#     or made by libgit2 in memory through an object database over the
#     objects table (git).
#
# Each configuration runs RECORD_ROUNDS times in turns; the medians are
# reported. Usage:
#   bench/record.sh            a table
#   bench/record.sh --kv       key=value lines (what bench/run.sh reads)
# Settings (environment):
#   RECORD_BIN=DIR        where ceiling-record is (default build-bench/bench;
#                         built there by bench/run.sh or by
#                         `cmake --build build-bench --target ceiling-record`)
#   RECORD_DIR=DIR        the only directory written (default
#                         build-bench/record); emptied of what it wrote
#   RECORD_SECONDS=S      measured seconds of each run (default 2)
#   RECORD_ROUNDS=N       runs of each configuration (default 3)
#   RECORD_BATCHES="..."  changes per transaction (default "1 8 32 64")
#   RECORD_OBJECTS="..."  raw and/or git (default "raw git")
#   RECORD_DISPUTE=FILE, RECORD_EVENT=FILE
#                         the bytes of a real dispute.json and event file
#                         (bench/run.sh passes those of its own run;
#                         default: made-up JSON of 1,400 and 280 bytes)
# "syncs each" is the program's own count over the measured seconds (for
# SQLite: the xSync calls of a VFS wrapping the default one). With strace
# installed, one more 1 s run of each kind is traced (`strace -f -c -e
# trace=fdatasync,fsync`), and the calls per change over that whole
# process (set-up of the disputes and warm-up included, hence fewer than
# in the measured seconds) are printed beside the program's own count
# over the same process: the two agree when the count is right.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${RECORD_BIN:-$ROOT/build-bench/bench}/ceiling-record
DIR=${RECORD_DIR:-$ROOT/build-bench/record}
SECONDS_EACH=${RECORD_SECONDS:-2}
ROUNDS=${RECORD_ROUNDS:-3}
BATCHES=${RECORD_BATCHES:-1 8 32 64}
OBJECTS=${RECORD_OBJECTS:-raw git}
KV=0
[ "${1:-}" = --kv ] && KV=1

[ -x "$BIN" ] || {
	echo "record: $BIN is missing (cmake --build build-bench --target ceiling-record)" >&2
	exit 1
}
TEMPLATES=()
[ -n "${RECORD_DISPUTE:-}" ] && TEMPLATES+=(--dispute "$RECORD_DISPUTE")
[ -n "${RECORD_EVENT:-}" ] && TEMPLATES+=(--event "$RECORD_EVENT")
mkdir -p "$DIR"
WORK=$(mktemp -d "$DIR/record-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log() { printf '[record %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

declare -A RES
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# run NAME ARGS...: one run into RES[NAME.ROUND.*]
run() {
	local name=$1 round=$2 line k
	shift 2
	line=$("$BIN" "$@" --dir "$WORK" --seconds "$SECONDS_EACH") || {
		echo "record: ceiling-record $* failed" >&2
		exit 1
	}
	for k in ops_per_s changes_per_s txns_per_s p50_ms p99_ms syncs_per_op \
		syncs_per_change bytes_per_change; do
		RES[$name.$round.$k]=$(field "$k" "$line")
	done
}

# strace_calls NAME UNIT ARGS...: RES[NAME.strace_per_UNIT], the
# fdatasync and fsync calls strace counted over the whole process, per
# operation the program says it made (set-up and warm-up included)
strace_calls() {
	local name=$1 unit=$2 trace=$WORK/strace.txt line calls all
	shift 2
	command -v strace >/dev/null || return 0
	line=$(strace -f -c -e trace=fdatasync,fsync -o "$trace" \
		"$BIN" "$@" --dir "$WORK" --seconds 1) || return 0
	calls=$(awk '$NF == "total" {print $(NF-1)}' "$trace")
	all=$(field "all_$unit" "$line")
	RES[$name.strace_per_$unit]=$(awk -v c="$calls" -v n="$all" \
		'BEGIN { if (n > 0) printf "%.3f", c / n }')
	RES[$name.own_per_$unit]=$(awk -v c="$(field all_syncs "$line")" -v n="$all" \
		'BEGIN { if (n > 0) printf "%.3f", c / n }')
}

CONFIGS=("fsync-4k" "file-1m")
for o in $OBJECTS; do
	for b in $BATCHES; do CONFIGS+=("$o-$b"); done
done
args_of() {
	case $1 in
	fsync-4k) echo "fsync --size 4096" ;;
	file-1m) echo "fsync --size 1048576 --new-files" ;;
	*) echo "sqlite --objects ${1%-*} --batch ${1##*-}" ;;
	esac
}

log "${#CONFIGS[@]} configurations, $ROUNDS rounds of ${SECONDS_EACH}s each, in $WORK"
for r in $(seq "$ROUNDS"); do
	# in turns: the order reversed every other round
	order=("${CONFIGS[@]}")
	if [ $((r % 2)) = 0 ]; then
		order=()
		for ((i = ${#CONFIGS[@]} - 1; i >= 0; i--)); do order+=("${CONFIGS[$i]}"); done
	fi
	for c in "${order[@]}"; do
		read -r -a a <<<"$(args_of "$c")"
		if [ "${a[0]}" = sqlite ]; then
			run "$c" "$r" "${a[@]}" "${TEMPLATES[@]}"
		else
			run "$c" "$r" "${a[@]}"
		fi
	done
done
for c in "${CONFIGS[@]}"; do
	for k in ops_per_s changes_per_s txns_per_s p50_ms p99_ms syncs_per_op \
		syncs_per_change bytes_per_change; do
		[ -n "${RES[$c.1.$k]:-}" ] || continue
		RES[$c.$k]=$(for r in $(seq "$ROUNDS"); do echo "${RES[$c.$r.$k]}"; done | median)
	done
done
if command -v strace >/dev/null; then
	log "counting fdatasync and fsync calls with strace"
	strace_calls fsync-4k ops fsync --size 4096
	for c in "${CONFIGS[@]:2}"; do
		read -r -a a <<<"$(args_of "$c")"
		strace_calls "$c" changes "${a[@]}" "${TEMPLATES[@]}"
	done
fi

if [ "$KV" = 1 ]; then
	for k in "${!RES[@]}"; do
		case $k in *.[0-9].* | *.[0-9][0-9].*) continue ;; esac
		echo "record.$k=${RES[$k]}"
	done | sort
	exit 0
fi

num() { awk -v a="$1" 'BEGIN { if (a >= 100) printf "%.0f", a; else printf "%.1f", a }'; }
whole() { # whole NAME UNIT: the whole run's syncs per operation, own / strace
	[ -n "${RES[$1.strace_per_$2]:-}" ] || { echo "-"; return; }
	echo "${RES[$1.own_per_$2]} / ${RES[$1.strace_per_$2]}"
}
{
	printf 'ceiling\tper second\tp50 / p99 ms\tsyncs each\twhole run: own / strace\tvs fdatasync\n'
	printf 'fdatasync, 4 KiB\t%s writes\t%s / %s\t%s\t%s\t1\n' \
		"$(num "${RES[fsync-4k.ops_per_s]}")" "${RES[fsync-4k.p50_ms]}" \
		"${RES[fsync-4k.p99_ms]}" "${RES[fsync-4k.syncs_per_op]}" "$(whole fsync-4k ops)"
	printf '1 MiB file: write, fdatasync, rename, fsync dir\t%s files\t%s / %s\t%s\t-\t-\n' \
		"$(num "${RES[file-1m.ops_per_s]}")" "${RES[file-1m.p50_ms]}" \
		"${RES[file-1m.p99_ms]}" "${RES[file-1m.syncs_per_op]}"
	for c in "${CONFIGS[@]:2}"; do
		printf 'SQLite, %s objects, %s a transaction\t%s changes (%s txns)\t%s / %s\t%s\t%s\t%s\n' \
			"${c%-*}" "${c##*-}" "$(num "${RES[$c.changes_per_s]}")" \
			"$(num "${RES[$c.txns_per_s]}")" "${RES[$c.p50_ms]}" "${RES[$c.p99_ms]}" \
			"${RES[$c.syncs_per_change]}" "$(whole "$c" changes)" \
			"$(awk -v a="${RES[$c.changes_per_s]}" -v b="${RES[fsync-4k.ops_per_s]}" \
				'BEGIN { printf "%.2f", a / b }')"
	done
} | column -t -s $'\t'
echo "bytes a change (object rows and index rows): $(for c in "${CONFIGS[@]:2}"; do printf '%s %s; ' "$c" "${RES[$c.bytes_per_change]}"; done)"
echo "$(nproc) cores, $(uname -sr); medians of $ROUNDS rounds of ${SECONDS_EACH}s; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
