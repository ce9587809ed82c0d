#!/usr/bin/env bash
# Request deadlines that slow clients cannot stretch, against
# `redress serve --header-timeout 2 --body-timeout 2 --idle-timeout 2`:
# clients that send a byte every 0.5 s (which restarts the connection
# timeout each time) are cut off at their deadline — headers from the
# accept, a body from its headers, the next request of a keep-alive
# connection from the last answer — and an idle keep-alive connection is
# closed after the idle timeout; a body that keeps to the minimum rate is
# not cut; and while 320 such clients from 5 addresses try to hold the
# server's connections (256 at most, 126 per worker thread), a fresh client
# is answered.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

TRICKLE="$REDRESS_TOOLS/rd-trickle"
LATE_MS=4000    # the latest cut taken for a 2 s deadline, on a loaded machine
BOUND_MS=7000   # how long a client trickles before it gives up

rd init >/dev/null
agent=$(new_key agent)
start_server s --sweep-interval 0 --rate-limit 0 --header-timeout 2 \
	--body-timeout 2 --body-min-rate 1000 --idle-timeout 2
port=$SERVER_PORT

# --- one trickling client of each kind, at once ------------------------------------
tricklers=()
for mode in headers body idle line; do
	"$TRICKLE" cut "$port" "$mode" 500 "$BOUND_MS" "$agent" >"$E2E_TMP/cut-$mode" &
	tricklers+=($!)
done
# meanwhile a body that keeps to the minimum rate (1000 bytes/s) is read
# whole though it takes longer than --body-timeout: 6000 bytes at 2000/s
jq --arg pad "$(printf '%6000s' '')" -r '. as $d | ($pad + ($d | tojson))' \
	"$REDRESS_SOURCE_DIR/examples/dispute.json" >"$E2E_TMP/slow.json"
started=$(date +%s%N)
call "$agent" POST /v1/disputes --limit-rate 2000 --data-binary "@$E2E_TMP/slow.json"
took=$((($(date +%s%N) - started) / 1000000))
expect_eq "$STATUS" "201" "a body above the minimum rate is read whole"
if [ "$took" -ge 2000 ]; then ok; else fail "the slow body took only $took ms, not past --body-timeout"; fi
wait "${tricklers[@]}"

# cut_between MODE: the client of MODE was closed between 1.9 s and LATE_MS
cut_between() {
	local mode=$1 what ms
	read -r what ms <"$E2E_TMP/cut-$mode" || true
	if [ "$what" != closed ]; then
		fail "$mode: the trickling client was still connected after ${BOUND_MS} ms"
	elif [ "$ms" -lt 1900 ] || [ "$ms" -gt "$LATE_MS" ]; then
		fail "$mode: cut after $ms ms, not at its 2 s deadline"
	else
		ok
	fi
}
cut_between headers
cut_between body
cut_between idle
cut_between line
expect_eq "$(grep -c answered "$E2E_TMP/cut-headers" || true)" "0" "trickled headers get no answer"
expect_eq "$(grep -c answered "$E2E_TMP/cut-body" || true)" "0" "a trickled body gets no answer"
expect_eq "$(rd list --json | jq '.disputes | length')" "1" "the trickled body recorded nothing"

# --- 320 tricklers from 5 addresses (64 each, the per-address limit) ----------------
# They ask for more than the server's connections; the rest wait in the
# listen queue. A fresh client from another address, 1 s later, is
# answered once the deadline of the first tricklers has passed.
"$TRICKLE" flood "$port" 320 5 500 "$BOUND_MS" 1000 >"$E2E_TMP/flood"
read -r _ status ms < <(grep '^fresh' "$E2E_TMP/flood")
read -r _ opened cut < <(grep '^flood' "$E2E_TMP/flood")
echo "fresh client: $status after $ms ms; flood: $opened connections opened, $cut cut"
expect_eq "$status" "200" "a fresh client is answered while 320 tricklers try"
if [ "$ms" -le "$LATE_MS" ]; then ok; else fail "the fresh client waited $ms ms"; fi
if [ "$opened" -ge 320 ]; then ok; else fail "the flood opened only $opened connections"; fi
# At least one worker thread's whole share (126) cut by the deadline: how
# the accepts spread over the worker threads is the scheduler's choice, so
# the other share may still be in the listen queue when the first is cut.
if [ "$cut" -ge 120 ]; then ok; else fail "only $cut of the flood's connections were cut"; fi

call "$agent" GET /healthz
expect_eq "$STATUS" "200" "the server answers after the flood"
stop_server s
expect_eq "$STOP_CODE" "0" "server stops with 0"

# --- the options are checked -------------------------------------------------------------
for opt in --header-timeout --body-timeout --body-min-rate --idle-timeout; do
	expect_exit 2 timeout 10 "$REDRESS" serve --listen 127.0.0.1:0 "$opt" 0
	expect_has "$ERR" "$opt" "$opt 0 refused, naming the option"
done

finish
