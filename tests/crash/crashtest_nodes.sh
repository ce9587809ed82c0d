#!/usr/bin/env bash
# make crashtest-nodes: the crash test of tests/crash/crashtest.sh on
# PostgreSQL with NODES servers (default 2), each with a data directory of
# its own, under a mixed write load through all of them (rd-crashload, a
# driver per node, every POST with its own Idempotency-Key). At a random
# moment a random node is killed with SIGKILL, KILLS times (default 20),
# and started again. After each restart:
#
#   - the node that writes the record's mirror (the record names its
#     mirror: mirror_state.owner against each node's mirror-id) has every
#     dispute's ref at the head the API reports, within MIRROR_WAIT seconds
#     (default 120), and git fsck --strict of it is clean: when the killed
#     node was the writer, another took over and caught up (a node taking
#     over makes its mirror again from the first change, which takes
#     longer as the record grows);
#   - redress audit verify --all on that node finds nothing;
#   - every request a driver logged but saw no whole 2xx answer to is
#     retried (on the node it was sent to) with its Idempotency-Key and the
#     same body, and every logged request has had exactly one effect
#     (rd-crashload check, reading everything back over HTTP).
#
# It starts a PostgreSQL of its own (tests/support/pg.sh: initdb in a
# temporary directory, 127.0.0.1, fsync as shipped) and stops it at the
# end. Usage: KILLS=N NODES=N REDRESS=build/redress
# RD_CRASHLOAD=build/tests/rd-crashload tests/crash/crashtest_nodes.sh
# (make crashtest-nodes sets them). CLIENTS (default 32) clients per node;
# CRASH_KEEP=1 keeps the data directories and logs. Exits 1 at the first
# cycle that finds anything wrong.
set -euo pipefail

KILLS=${KILLS:-20}
NODES=${NODES:-2}
CLIENTS=${CLIENTS:-32}
MIRROR_WAIT=${MIRROR_WAIT:-120}
. "$(dirname "$0")/lib.bash"

crash_setup crash-nodes git jq psql
declare -A pid port
pg_state="$work/pg.state"

cleanup() {
	local n
	for n in "${!pid[@]}"; do
		[ -n "${pid[$n]}" ] && kill -KILL "${pid[$n]}" 2>/dev/null || true
	done
	bash "$src/tests/support/pg.sh" stop "$pg_state" >/dev/null 2>&1 || true
	if [ "${CRASH_KEEP:-}" = 1 ] || [ "${failed:-0}" = 1 ]; then
		echo "crashtest: data and logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

failed=0
cycle=0
die() {
	failed=1
	echo "crashtest: FAILED after $cycle kill(s): $*" >&2
	exit 1
}

# start N: node N on a free port: port[N], pid[N]
start() {
	local n=$1 out="$work/node-$1.out"
	: >"$out"
	REDRESS_DATA="$work/node-$n" "$REDRESS" serve --listen 127.0.0.1:0 \
		--rate-limit 0 --sweep-interval 0 >"$out" 2>>"$work/node-$n.err" &
	pid[$n]=$!
	port[$n]=""
	for _ in $(seq 400); do
		port[$n]=$(sed -n 's|^redress listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$out")
		[ -n "${port[$n]}" ] && return 0
		kill -0 "${pid[$n]}" 2>/dev/null || break
		sleep 0.05
	done
	die "node $n did not start: $(tail -n 5 "$work/node-$n.err")"
}

# A random pause in [0.05, 1.5) seconds, from bash's generator.
pause() {
	local ms=$((50 + RANDOM % 1450))
	printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

# writer: the node whose mirror the record's mirror state describes
writer() {
	local owner n
	owner=$(psql -X -A -t -q "$REDRESS_STORE" -c "SELECT coalesce(owner, '') FROM mirror_state")
	for n in $(seq "$NODES"); do
		[ -n "$owner" ] && [ "$(cat "$work/node-$n/mirror-id" 2>/dev/null)" = "$owner" ] &&
			{ echo "$n"; return 0; }
	done
	echo ""
}

bash "$src/tests/support/pg.sh" start "$pg_state" >/dev/null
REDRESS_STORE=$(bash "$src/tests/support/pg.sh" createdb "$pg_state" crash)
export REDRESS_STORE
for n in $(seq "$NODES"); do
	REDRESS_DATA="$work/node-$n" "$REDRESS" init >/dev/null
done
# one log for every driver (their files are named by their own cycle
# numbers), checked through any node: every node serves every dispute
mkdir -p "$work/logs"
key=$(REDRESS_DATA="$work/node-1" "$REDRESS" key create --role agent --name crashtest --json 2>/dev/null | jq -r .key)
[ -n "$key" ] || die "no API key"

began=$(date +%s.%N)
for n in $(seq "$NODES"); do start "$n"; done
mirror_max=0
took_over=0
for cycle in $(seq 1 "$KILLS"); do
	loads=()
	for n in $(seq "$NODES"); do
		# a cycle number of the node's own: the drivers' tags (order
		# references...) never meet; 2 s: the survivors stop soon after
		"$RD_CRASHLOAD" load "${port[$n]}" "$key" "$work/logs" $((cycle * 100 + n)) "$CLIENTS" 2 \
			>"$work/load-$n.out" 2>>"$work/load-$n.err" &
		loads+=($!)
	done
	before=$(writer)
	victim=$((1 + RANDOM % NODES))
	sleep "$(pause)"
	kill -KILL "${pid[$victim]}"
	wait "${pid[$victim]}" 2>/dev/null || true
	pid[$victim]=""
	for l in "${loads[@]}"; do
		wait "$l" || die "a load driver failed: $(tail -n 5 "$work"/load-*.err)"
	done
	sent=0
	acked=0
	for n in $(seq "$NODES"); do
		sent=$((sent + $(sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$work/load-$n.out")))
		acked=$((acked + $(sed -n 's/.*acknowledged=\([0-9]*\).*/\1/p' "$work/load-$n.out")))
	done

	# the victim back; the mirror's writer, the killed one or another
	start "$victim"
	w=""
	for _ in $(seq $((MIRROR_WAIT * 10))); do
		w=$(writer)
		[ -n "$w" ] && break
		sleep 0.1
	done
	[ -n "$w" ] || die "no node writes the record's mirror"
	[ "$before" = "$victim" ] && [ "$w" != "$victim" ] && took_over=$((took_over + 1))
	"$RD_CRASHLOAD" mirror "${port[$w]}" "$key" "$work/node-$w/evidence.git" "$MIRROR_WAIT" \
		>"$work/mirror.out" 2>&1 ||
		die "the mirror of node $w did not catch up: $(grep -m 20 MISMATCH "$work/mirror.out" || tail -n 5 "$work/mirror.out")"
	waited=$(sed -n 's/.*waited_ms=\([0-9]*\).*/\1/p' "$work/mirror.out")
	[ "$waited" -le "$mirror_max" ] || mirror_max=$waited
	mirror_fsck "$work/node-$w/evidence.git" "$work/fsck.out" ||
		die "git fsck --strict: $(head -n 5 "$work/fsck.out")"
	REDRESS_DATA="$work/node-$w" "$REDRESS" audit verify --all >"$work/verify.out" 2>&1 ||
		die "redress audit verify --all: $(head -n 20 "$work/verify.out")"
	# retried and read back through a node other than the one restarted
	c=$((victim % NODES + 1))
	"$RD_CRASHLOAD" check "${port[$c]}" "$key" "$work/logs" >"$work/check.out" 2>&1 ||
		die "$(grep -m 20 MISMATCH "$work/check.out" || tail -n 5 "$work/check.out")"
	retried=$(tail -n 1 "$work/check.out" | sed -n 's/.*this_retries=\([0-9]*\).*/\1/p')
	printf 'kill %d: node %d of %d (the mirror'"'"'s writer: node %s, now node %s); %d writes sent, %d acknowledged; after the restart: mirror current (%s ms), %d retried, all once\n' \
		"$cycle" "$victim" "$NODES" "${before:-none}" "$w" "$sent" "$acked" "$waited" "$retried"
done
for n in $(seq "$NODES"); do
	kill -TERM "${pid[$n]}"
	wait "${pid[$n]}" || die "node $n did not stop cleanly"
	pid[$n]=""
done
ended=$(date +%s.%N)

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" "$2" | tail -n 1; }
requests=$(field requests "$work/check.out")
acknowledged=$(field acknowledged "$work/check.out")
disputes=$(psql -X -A -t -q "$REDRESS_STORE" -c "SELECT count(*) FROM disputes")
echo
echo "crashtest summary (PostgreSQL, $NODES nodes)"
printf '  kills                    %d (SIGKILL of a random node at a random moment, %d clients a node)\n' "$KILLS" "$CLIENTS"
printf '  mirror taken over        %d time(s) (its writer killed, another node caught up)\n' "$took_over"
printf '  writes logged            %d\n' "$requests"
printf '  acknowledged under load  %d\n' "$acknowledged"
printf '  disputes                 %d\n' "$disputes"
printf '  mirror current           within %s ms of each restart at most (limit %s s)\n' "$mirror_max" "$MIRROR_WAIT"
printf '  duplicates, losses       0 (every write once; audit verify and git fsck clean each time)\n'
printf '  duration                 %s s\n' "$(awk -v a="$began" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')"
