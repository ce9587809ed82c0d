# Helpers of the end-to-end tests that run the real server: start
# `redress serve` (or a script that becomes it) on a free port of
# 127.0.0.1, one or several at once, each under a NAME; talk to it with
# curl; stop it with a signal and read its exit status; and make sure none
# is left running when the test ends. Source it after lib.bash. Every
# script that starts a server uses these and keeps no copy of its own.

SERVER_PIDS=()   # servers not yet reaped by wait_server

# stop_all_servers: the exit trap; kills every server still running and
# removes the test's temporary directory (lib.bash's own trap, replaced).
stop_all_servers() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	e2e_cleanup
}
trap stop_all_servers EXIT

# launch_command NAME COMMAND...: run a command that ends up serving (it
# prints "redress listening on http://127.0.0.1:PORT") in the background;
# its output goes to $E2E_TMP/NAME.out and .err, its pid to $SERVER_PID
# and PID_NAME. NAME is a shell word ([A-Za-z0-9_]); a NAME may be used
# again once its server has stopped. Environment assignments before the
# call reach the command.
launch_command() {
	local name=$1
	shift
	# Emptied here, before the command starts: a NAME used again must not
	# show await_server the announcement of the server that had it before.
	: >"$E2E_TMP/$name.out"
	: >"$E2E_TMP/$name.err"
	"$@" >>"$E2E_TMP/$name.out" 2>>"$E2E_TMP/$name.err" &
	SERVER_PID=$!
	SERVER_PIDS+=("$SERVER_PID")
	eval "PID_$name=$SERVER_PID"
}

# launch_server NAME [serve options...]: launch_command with
# `redress serve --listen 127.0.0.1:0`.
launch_server() {
	local name=$1
	shift
	launch_command "$name" "$REDRESS" serve --listen 127.0.0.1:0 "$@"
}

# await_server NAME: wait (up to 10 s) for its announcement and count it as
# a check; sets $SERVER_PORT and $SERVER_BASE (http://127.0.0.1:PORT, what
# `call` talks to) and BASE_NAME. A server that does not announce itself
# ends the test, showing its output.
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
		fail "server $name did not start: $(cat "$E2E_TMP/$name.out" "$E2E_TMP/$name.err")"
		finish
		exit 1
	fi
	ok
	SERVER_PORT=$port
	SERVER_BASE="http://127.0.0.1:$port"
	eval "BASE_$name=\$SERVER_BASE"
}

# start_server NAME [serve options...]: launch_server then await_server.
start_server() {
	launch_server "$@"
	await_server "$1"
}

# wait_server NAME [SECONDS]: wait up to SECONDS (30) for it to exit, without
# signalling it; its status in $STOP_CODE ("timeout" if it did not end).
# A non-zero status shows the end of its standard error.
wait_server() {
	local name=$1 seconds=${2:-30} pid
	eval "pid=\$PID_$name"
	STOP_CODE=timeout
	for _ in $(seq $((seconds * 10))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			set +e
			wait "$pid" 2>/dev/null
			STOP_CODE=$?
			set -e
			forget_server "$pid"
			if [ "$STOP_CODE" != 0 ]; then
				echo "server $name exited $STOP_CODE; its standard error:" >&2
				tail -n 40 "$E2E_TMP/$name.err" >&2
			fi
			return 0
		fi
		sleep 0.1
	done
}

# forget_server PID: drop a reaped server from $SERVER_PIDS, so that the
# exit trap never signals a pid the system may have given to another
# process since.
forget_server() {
	local kept=() pid
	for pid in "${SERVER_PIDS[@]}"; do
		[ "$pid" = "$1" ] || kept+=("$pid")
	done
	SERVER_PIDS=("${kept[@]}")
}

# stop_server NAME [SIGNAL [SECONDS]]: send SIGTERM (or SIGNAL), then
# wait_server NAME SECONDS; the exit status in $STOP_CODE.
stop_server() {
	local name=$1 sig=${2:-TERM} seconds=${3:-30} pid
	eval "pid=\$PID_$name"
	kill "-$sig" "$pid" 2>/dev/null || true
	wait_server "$name" "$seconds"
}

# request URL [curl args...]: one request as curl makes it from the args
# (GET unless they say otherwise); the status in $STATUS ("000" when no
# answer came), the headers (without CR) in $HDRS, the body as text (NUL
# bytes dropped) in $BODY and as sent in the file $RESPONSE_FILE (empty
# when the answer had none).
RESPONSE_FILE="$E2E_TMP/response.body"
request() {
	local url=$1
	shift
	: >"$RESPONSE_FILE"
	: >"$E2E_TMP/response.headers"
	STATUS=$(curl -s -o "$RESPONSE_FILE" -D "$E2E_TMP/response.headers" \
		-w '%{http_code}' "$@" "$url")
	BODY=$(tr -d '\0' <"$RESPONSE_FILE")
	HDRS=$(tr -d '\r' <"$E2E_TMP/response.headers")
}

# api KEY METHOD URL [curl args...]: request with this method and the key
# as a bearer token ("" as KEY sends no Authorization header).
api() {
	local key=$1 method=$2 url=$3
	shift 3
	local auth=()
	[ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
	request "$url" -X "$method" "${auth[@]}" "$@"
}

# call KEY METHOD PATH [curl args...]: api on the server started last
# ($SERVER_BASE followed by PATH).
call() {
	local key=$1 method=$2 path=$3
	shift 3
	api "$key" "$method" "$SERVER_BASE$path" "$@"
}

# problem_field: "STATUS FIELD" of the problem document in $BODY, the
# field it names ("STATUS " when it names none)
problem_field() {
	jq -r '(.status|tostring) + " " + .field' <<<"$BODY"
}

# header NAME: the value of the first header NAME (any case) in $HDRS.
header() {
	grep -i "^$1:" <<<"$HDRS" | head -1 | sed 's/^[^:]*: *//'
}

# race_if_match BASE ID ROUNDS WRITERS OUT: WRITERS racers at once, each
# ROUNDS times reading dispute ID through BASE, then posting the event its
# state allows (escalate from investigating, resume from escalated) with
# If-Match on the version it read; their first round waits until every
# racer has read, so that all race for one version. Racer N authenticates
# with the key `race_key N` prints (the test defines race_key). Each
# attempt appends "STATUS READ ANSWERED EVENT TYPE" to OUT (ANSWERED: the
# ETag answered, "-" for none; TYPE: the problem's type, "-" for none).
race_if_match() {
	local base=$1 id=$2 rounds=$3 writers=$4 out=$5 w pids=()
	rm -f "$E2E_TMP"/race-read-* "$E2E_TMP/race-go"
	for w in $(seq "$writers"); do
		race_one "$base" "$id" "$rounds" "$w" "$out" &
		pids+=($!)
	done
	for _ in $(seq 600); do
		[ "$(find "$E2E_TMP" -maxdepth 1 -name 'race-read-*' | wc -l)" -ge "$writers" ] && break
		sleep 0.05
	done
	touch "$E2E_TMP/race-go"
	wait "${pids[@]}"
}

# race_one BASE ID ROUNDS N OUT: racer N of race_if_match
race_one() {
	local base=$1 id=$2 rounds=$3 n=$4 out=$5 key round etag state event status new
	key=$(race_key "$n")
	for round in $(seq "$rounds"); do
		curl -s -D "$E2E_TMP/w$n.rh" -o "$E2E_TMP/w$n.rb" --max-time 30 \
			-H "Authorization: Bearer $key" "$base/v1/disputes/$id"
		etag=$(tr -d '\r' <"$E2E_TMP/w$n.rh" | sed -n 's/^[Ee][Tt][Aa][Gg]: *"\([0-9]*\)"$/\1/p')
		state=$(jq -r .state <"$E2E_TMP/w$n.rb" 2>/dev/null || echo -)
		if [ "$round" = 1 ]; then
			touch "$E2E_TMP/race-read-$n"
			while [ ! -e "$E2E_TMP/race-go" ]; do sleep 0.01; done
		fi
		case "$state" in
		investigating) event=escalate ;;
		escalated) event=resume ;;
		*) event=none ;;
		esac
		status=$(curl -s -D "$E2E_TMP/w$n.ph" -o "$E2E_TMP/w$n.pb" -w '%{http_code}' --max-time 30 \
			-H "Authorization: Bearer $key" -H "If-Match: \"$etag\"" \
			--data "{\"event\":\"$event\"}" "$base/v1/disputes/$id/events")
		new=$(tr -d '\r' <"$E2E_TMP/w$n.ph" | sed -n 's/^[Ee][Tt][Aa][Gg]: *"\([0-9]*\)"$/\1/p')
		echo "$status $etag ${new:--} $event $(jq -r '.type // "-"' <"$E2E_TMP/w$n.pb" 2>/dev/null || echo -)" \
			>>"$out"
	done
}
