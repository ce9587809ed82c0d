# Helpers of the end-to-end tests that run the real server: start
# `redress serve` on a free port of 127.0.0.1 (one or several at once),
# stop it with a signal and read its exit status, and make sure none is
# left running when the test ends. Source it after lib.bash.

SERVER_PIDS=()
stop_all_servers() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$E2E_TMP"
}
trap stop_all_servers EXIT

# launch_server NAME [serve options...]: start it in the background; its
# output goes to $E2E_TMP/NAME.out and .err, its pid to $SERVER_PID.
launch_server() {
	local name=$1
	shift
	"$REDRESS" serve --listen 127.0.0.1:0 "$@" \
		>"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err" &
	SERVER_PID=$!
	SERVER_PIDS+=("$SERVER_PID")
	eval "PID_$name=$SERVER_PID"
}

# await_server NAME: wait for its announcement; sets $SERVER_BASE (and
# BASE_NAME). A server that does not announce itself ends the test.
await_server() {
	local name=$1 port="" pid
	eval "pid=\$PID_$name"
	for _ in $(seq 200); do
		port=$(sed -n 's|^redress listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' \
			"$E2E_TMP/$name.out")
		[ -n "$port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		fail "server $name did not start: $(cat "$E2E_TMP/$name.err")"
		finish
		exit 1
	fi
	ok
	SERVER_BASE="http://127.0.0.1:$port"
	eval "BASE_$name=\$SERVER_BASE"
}

# start_server NAME [serve options...]: launch_server then await_server.
start_server() {
	launch_server "$@"
	await_server "$1"
}

# stop_server NAME [SIGNAL]: send SIGTERM (or SIGNAL) and wait up to 30 s
# for the exit; its status in $STOP_CODE ("timeout" if it did not end).
stop_server() {
	local name=$1 sig=${2:-TERM} pid
	eval "pid=\$PID_$name"
	kill "-$sig" "$pid" 2>/dev/null || true
	STOP_CODE=timeout
	for _ in $(seq 300); do
		if ! kill -0 "$pid" 2>/dev/null; then
			set +e
			wait "$pid"
			STOP_CODE=$?
			set -e
			if [ "$STOP_CODE" != 0 ]; then
				echo "server $name exited $STOP_CODE; its standard error:" >&2
				tail -n 40 "$E2E_TMP/$name.err" >&2
			fi
			return 0
		fi
		sleep 0.1
	done
}

# api KEY METHOD URL [curl args...]: status in $STATUS, body in $BODY,
# headers in $HDRS.
api() {
	local key=$1 method=$2 url=$3
	shift 3
	STATUS=$(curl -s -o "$E2E_TMP/api.body" -D "$E2E_TMP/api.headers" \
		-w '%{http_code}' -X "$method" -H "Authorization: Bearer $key" \
		"$@" "$url")
	BODY=$(cat "$E2E_TMP/api.body")
	HDRS=$(tr -d '\r' <"$E2E_TMP/api.headers")
}
