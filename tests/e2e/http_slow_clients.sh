#!/usr/bin/env bash
# Slow clients against `redress serve --connection-timeout 5`: clients that
# send half a request (half the headers, or the headers and half a body)
# and then stall, more of them than the server has worker threads, do not
# keep others from being answered while they are connected; the server
# closes each stalled connection (and an idle keep-alive one) after the
# timeout, within a generous bound; a half-sent request records nothing.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

STALLERS=8          # above any worker thread count this machine allows
CLOSE_BOUND=20      # seconds: far above the 2 s timeout, for loaded machines

rd init >/dev/null
agent=$(rd key create --role agent --json 2>/dev/null | jq -r .key)
start_server s --sweep-interval 0 --connection-timeout 5
port=${SERVER_BASE##*:}

fds=()
watchers=()
# staller N KIND: open a connection, send part of a request, then watch
# in the background for the server to close it: $E2E_TMP/closed-N gets
# the status of the read (124: still open at the bound) and the seconds
# it took, $E2E_TMP/read-N what the server sent.
staller() {
	local n=$1 kind=$2 fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$port"
	fds+=("$fd")
	case "$kind" in
	headers)
		printf 'GET /v1/disputes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthori' >&"$fd" ;;
	body)
		printf 'POST /v1/disputes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"order_ref": "ORD-' \
			"$agent" >&"$fd" ;;
	idle)
		printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&"$fd" ;;
	esac
	(
		start=$(date +%s%N)
		set +e
		timeout "$CLOSE_BOUND" cat <&"$fd" >"$E2E_TMP/read-$n"
		rc=$?
		echo "$rc $((($(date +%s%N) - start) / 1000000))" >"$E2E_TMP/closed-$n"
	) &
	watchers+=($!)
}

for n in $(seq "$STALLERS"); do
	case $((n % 3)) in
	0) staller "$n" headers ;;
	1) staller "$n" body ;;
	2) staller "$n" idle ;;
	esac
done

# Others are answered while the stallers hold their connections.
for _ in 1 2 3; do
	api "$agent" GET "$SERVER_BASE/healthz"
	expect_eq "$STATUS" "200" "healthz answered beside stalled clients"
done
api "$agent" POST "$SERVER_BASE/v1/disputes" --data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "201" "a dispute opened beside stalled clients"
id=$(jq -r .id <<<"$BODY")
api "$agent" POST "$SERVER_BASE/v1/disputes/$id/events" -H 'If-Match: "1"' --data '{"event":"investigate"}'
expect_eq "$STATUS" "200" "an event applied beside stalled clients"
api "$agent" GET "$SERVER_BASE/v1/disputes?limit=10"
expect_eq "$STATUS" "200" "a list answered beside stalled clients"
still=0
for n in $(seq "$STALLERS"); do
	[ -e "$E2E_TMP/closed-$n" ] || still=$((still + 1))
done
expect_eq "$still" "$STALLERS" "the stallers were still connected meanwhile"

# The server closes every stalled connection after its timeout.
wait "${watchers[@]}"
for n in $(seq "$STALLERS"); do
	read -r rc ms <"$E2E_TMP/closed-$n"
	if [ "$rc" = 124 ]; then
		fail "staller $n still connected after ${CLOSE_BOUND}s"
	else
		ok
	fi
	# closed by the timeout, not at once for some other reason
	if [ "$ms" -ge 4000 ]; then ok; else fail "staller $n closed after ${ms} ms, before the timeout"; fi
	case $((n % 3)) in
	2) expect_has "$(cat "$E2E_TMP/read-$n")" "HTTP/1.1 200" "idle client got its answer before being closed" ;;
	*) expect_eq "$(head -c 5 "$E2E_TMP/read-$n")" "" "a half request gets no answer" ;;
	esac
done
for fd in "${fds[@]}"; do
	exec {fd}>&-
done

api "$agent" GET "$SERVER_BASE/healthz"
expect_eq "$STATUS" "200" "the server answers after the stallers are gone"
expect_eq "$(rd list --json | jq '.disputes | length')" "1" "the half-sent dispute was not recorded"
stop_server s
expect_eq "$STOP_CODE" "0" "server stops with 0"

finish
