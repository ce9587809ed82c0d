#!/usr/bin/env bash
# make crashtest: the real server under a mixed write load (disputes opened,
# events applied, evidence uploaded, by several clients at once, every POST
# with its own Idempotency-Key) is killed with SIGKILL at a random moment,
# KILLS times (default 50), and restarted each time. After each restart:
#
#   - PRAGMA integrity_check of the index (sqlite3) answers ok;
#   - the evidence repository (the mirror) catches up within MIRROR_WAIT
#     seconds (default 30): every dispute's ref in it is the head the API
#     reports (the last commit of its history, which holds as many commits
#     as the dispute's version; rd-crashload mirror polls every 10 ms);
#   - git fsck --strict of the evidence repository is clean;
#   - redress audit verify --all finds nothing;
#   - every request the clients logged but saw no whole 2xx answer to is
#     retried with its Idempotency-Key and the same body: it is answered
#     (a replay, or a first execution);
#   - every logged request, acknowledged or retried, has had exactly one
#     effect: one dispute per order_ref, each event and each piece of
#     evidence once in its dispute, nothing more (tests/tools/rd-crashload.c
#     reads it all back over HTTP).
#
# Usage: KILLS=N REDRESS=build/redress RD_CRASHLOAD=build/tests/rd-crashload
#        tests/crash/crashtest.sh   (make crashtest sets them)
# CLIENTS (default 64, each a keep-alive connection of its own; at most
# 64, as many as the server takes from one address) sets the number of
# clients; MIRROR_WAIT how long the mirror may take to catch up;
# CRASH_KEEP=1 keeps the data directory and logs. Prints a summary; exits
# 1 at the first cycle that finds anything wrong.
set -euo pipefail

KILLS=${KILLS:-50}
CLIENTS=${CLIENTS:-64}
MIRROR_WAIT=${MIRROR_WAIT:-30}
. "$(dirname "$0")/lib.bash"

crash_setup crash sqlite3 git jq
export REDRESS_DATA="$work/data"
logs="$work/logs"
mkdir -p "$logs"
server_pid=""

cleanup() {
	if [ -n "$server_pid" ]; then
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [ "${CRASH_KEEP:-}" = 1 ] || [ "${failed:-0}" = 1 ]; then
		echo "crashtest: data and logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

failed=0
die() {
	local status
	failed=1
	echo "crashtest: FAILED after $cycle kill(s): $*" >&2
	if [ -n "$server_pid" ] && ! kill -0 "$server_pid" 2>/dev/null; then
		status=0
		wait "$server_pid" || status=$?
		server_pid=""
		echo "crashtest: the server had exited with status $status" >&2
	fi
	exit 1
}

# start: run the server on a free port; $port, $server_pid
start() {
	"$REDRESS" serve --listen 127.0.0.1:0 --rate-limit 0 --sweep-interval 0 \
		>"$work/server.out" 2>>"$work/server.err" &
	server_pid=$!
	port=""
	for _ in $(seq 400); do
		port=$(sed -n 's|^redress listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' \
			"$work/server.out")
		[ -n "$port" ] && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	die "the server did not start: $(tail -n 5 "$work/server.err")"
}

# A random pause in [0.05, 1.5) seconds, from bash's generator.
pause() {
	local ms=$((50 + RANDOM % 1450))
	printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

"$REDRESS" init >/dev/null
key=$("$REDRESS" key create --role agent --name crashtest --json 2>/dev/null | jq -r .key)
[ -n "$key" ] || { echo "crashtest: no API key" >&2; exit 1; }

cycle=0
began=$(date +%s.%N)
start
for cycle in $(seq 1 "$KILLS"); do
	# the load, killed at a random moment
	"$RD_CRASHLOAD" load "$port" "$key" "$logs" "$cycle" "$CLIENTS" 30 \
		>"$work/load.out" 2>>"$work/load.err" &
	load_pid=$!
	sleep "$(pause)"
	kill -KILL "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
	wait "$load_pid" || die "the load driver failed: $(tail -n 5 "$work/load.err")"
	sent=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$work/load.out")
	now_acked=$(sed -n 's/.*acknowledged=\([0-9]*\).*/\1/p' "$work/load.out")

	# restart: the server recovers from its crash journal
	start
	integrity=$(sqlite3 "$REDRESS_DATA/redress.db" 'PRAGMA integrity_check')
	[ "$integrity" = ok ] || die "PRAGMA integrity_check: $integrity"
	"$RD_CRASHLOAD" mirror "$port" "$key" "$REDRESS_DATA/evidence.git" "$MIRROR_WAIT" \
		>"$work/mirror.out" 2>&1 ||
		die "the mirror did not catch up: $(grep -m 20 MISMATCH "$work/mirror.out" || tail -n 5 "$work/mirror.out")"
	waited=$(sed -n 's/.*waited_ms=\([0-9]*\).*/\1/p' "$work/mirror.out")
	looks=$(sed -n 's/.*rounds=\([0-9]*\).*/\1/p' "$work/mirror.out")
	[ "$waited" -le "${mirror_max:-0}" ] || mirror_max=$waited
	mirror_fsck "$REDRESS_DATA/evidence.git" "$work/fsck.out" ||
		die "git fsck --strict: $(head -n 5 "$work/fsck.out")"
	"$REDRESS" audit verify --all >"$work/verify.out" 2>&1 ||
		die "redress audit verify --all: $(head -n 20 "$work/verify.out")"
	"$RD_CRASHLOAD" check "$port" "$key" "$logs" >"$work/check.out" 2>&1 ||
		die "$(grep -m 20 MISMATCH "$work/check.out" || tail -n 5 "$work/check.out")"
	totals=$(tail -n 1 "$work/check.out")
	printf 'kill %d: %s writes sent, %s acknowledged; after the restart: mirror current (%s ms, %s look(s) at its refs), %s\n' \
		"$cycle" "$sent" "$now_acked" "$waited" "$looks" \
		"$(sed 's/.*this_retries=\([0-9]*\) this_replays=\([0-9]*\).*/\1 retried, \2 of them replayed/' <<<"$totals")"
done
kill -TERM "$server_pid"
wait "$server_pid" || die "the last server did not stop cleanly"
server_pid=""
ended=$(date +%s.%N)

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$totals"; }
echo
echo "crashtest summary"
printf '  kills                    %d (SIGKILL at a random moment, %d clients)\n' "$KILLS" "$CLIENTS"
printf '  writes logged            %d\n' "$(field requests)"
printf '  acknowledged under load  %d\n' "$(field acknowledged)"
printf '  retried after restarts   %d (answered as replays: %d; executed for the first time: %d)\n' \
	"$(field retried)" "$(field replayed)" $(($(field retried) - $(field replayed)))
printf '  disputes                 %d\n' "$(field disputes)"
printf '  mirror current           within %s ms of each restart at most, reading every history included (limit %s s)\n' "${mirror_max:-0}" "$MIRROR_WAIT"
printf '  duplicates, losses       0 (every write once; audit verify, git fsck, integrity_check clean each time)\n'
printf '  duration                 %s s\n' "$(awk -v a="$began" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')"
