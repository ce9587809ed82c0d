# A real webhook receiver for the end-to-end tests:
# tests/support/webhook-receiver/receiver.mjs under Node.js, on a free port
# of 127.0.0.1, one or several at once, each under a NAME. It checks every
# delivery's signature with the standardwebhooks package against each
# secret the test lists (redress's own signing code is not used), answers
# with the statuses the test scripts (200 when none is left), and logs
# each delivery. Source it after server.bash: each receiver is a server of
# server.bash's (named receiver_NAME), so the exit trap stops it too.
#
# The package is installed into the build tree by ctest's fixture
# webhook_receiver (tests/CMakeLists.txt), which every script named
# webhook*.sh or pg_webhook*.sh requires; REDRESS_WEBHOOK_RECEIVER_DIR
# names where. Run by hand, a test needs that variable pointing to a
# directory prepared with
#   sh tests/support/webhook-receiver/install.sh DIR
# (or `ctest -R webhook/receiver-install` in a build tree, which prepares
# BUILD/webhook-receiver).
#
# A log record (GET /_control/log, one per delivery; all its fields are
# described at the top of receiver.mjs) has among others: .path, .time,
# .headers["webhook-id"|"webhook-timestamp"|"webhook-signature"], .body
# (parsed), .type, .data_id, .data_version, .verified ([bool] one per
# secret), .errors, .verified_all (at least one secret and every one
# verified), .status (answered), .retry_after.

RECEIVER_JS="$REDRESS_SOURCE_DIR/tests/support/webhook-receiver/receiver.mjs"

declare -F launch_command >/dev/null ||
	{ echo "webhook.bash: source server.bash first" >&2; exit 1; }

# start_receiver NAME: start a receiver and wait (up to 10 s) until it
# answers; sets RECEIVER_URL_NAME (http://127.0.0.1:PORT, no trailing
# slash: endpoints are RECEIVER_URL_NAME/a, /b...), RECEIVER_PORT_NAME,
# RECEIVER_LOG_NAME (its log as JSON lines, kept after it stops) and
# $RECEIVER_URL (of the receiver started last). NAME is a shell word
# ([A-Za-z0-9_]). A receiver that does not start ends the test.
start_receiver() {
	local name=$1 dir=${REDRESS_WEBHOOK_RECEIVER_DIR:-} portfile port="" pid
	if ! command -v node >/dev/null 2>&1; then
		fail "receiver $name: no node (\`make test\` installs Node.js)"
		finish
		exit 1
	fi
	if [ -z "$dir" ] || [ ! -d "$dir/node_modules/standardwebhooks" ]; then
		fail "receiver $name: no standardwebhooks under REDRESS_WEBHOOK_RECEIVER_DIR ('$dir'); see tests/e2e/webhook.bash"
		finish
		exit 1
	fi
	portfile="$E2E_TMP/receiver_$name.port"
	rm -f "$portfile"
	: >"$E2E_TMP/receiver_$name.jsonl"
	launch_command "receiver_$name" node "$RECEIVER_JS" --port 0 --port-file "$portfile" \
		--log "$E2E_TMP/receiver_$name.jsonl" --modules "$dir"
	pid=$SERVER_PID
	for _ in $(seq 200); do
		if [ -s "$portfile" ]; then
			port=$(cat "$portfile")
			curl -s -f -o /dev/null --max-time 2 "http://127.0.0.1:$port/_control/health" && break
		fi
		port=""
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		fail "receiver $name did not start: $(cat "$E2E_TMP/receiver_$name.out" "$E2E_TMP/receiver_$name.err")"
		finish
		exit 1
	fi
	ok
	RECEIVER_URL="http://127.0.0.1:$port"
	eval "RECEIVER_URL_$name=\$RECEIVER_URL"
	eval "RECEIVER_PORT_$name=$port"
	eval "RECEIVER_LOG_$name=\$E2E_TMP/receiver_\$name.jsonl"
}

# stop_receiver NAME: stop it (SIGTERM); its exit status in $STOP_CODE.
# receiver_log still reads what it logged.
stop_receiver() {
	stop_server "receiver_$1" TERM 10
}

# receiver_control NAME METHOD PATH [JSON]: one request of the control API
# (PATH after /_control/, e.g. "script"); prints the answer. A status other
# than 200 is a failure (returns 1).
receiver_control() {
	local name=$1 method=$2 path=$3 json=${4:-} url status
	eval "url=\${RECEIVER_URL_$name:-}"
	[ -n "$url" ] || { fail "no receiver named $name"; return 1; }
	local data=()
	[ -n "$json" ] && data=(-H 'content-type: application/json' --data-binary "$json")
	status=$(curl -s -o "$E2E_TMP/receiver.control" -w '%{http_code}' --max-time 10 \
		-X "$method" "${data[@]}" "$url/_control/$path")
	if [ "$status" != 200 ]; then
		fail "receiver $name: $method /_control/$path answered $status: $(cat "$E2E_TMP/receiver.control")"
		return 1
	fi
	cat "$E2E_TMP/receiver.control"
}

# receiver_secrets NAME [--now UNIX_S] SECRET...: the secrets (whsec_...)
# each delivery from now on is checked against, each on its own: with an
# old and a new one listed (a rotation), a delivery verifies only when it
# carries a valid signature of both. None: nothing verifies. --now: judge
# webhook-timestamp against this instant instead of the real clock (the
# library accepts 5 minutes either way).
receiver_secrets() {
	local name=$1 now=null
	shift
	if [ "${1:-}" = --now ]; then
		now=$2
		shift 2
	fi
	receiver_control "$name" PUT secrets \
		"$(jq -cn --argjson now "$now" '{secrets: $ARGS.positional, now: $now}' --args "$@")" >/dev/null
}

# receiver_script NAME PATH ANSWER...: queue answers for the deliveries to
# PATH ("/a"; "*" for any path whose own queue is empty), one consumed per
# delivery, in order; 200 once none is left. ANSWER is
# STATUS[:RETRY_AFTER][@DELAY_MS], e.g. 503:2 (503 with Retry-After: 2),
# 500@1500 (500 after 1.5 s), 200; or close[@DELAY_MS] to drop the
# connection without an answer. For other headers or an answer body, call
# receiver_control NAME POST script '{"path":..., "answers":[...]}'
# (receiver.mjs).
receiver_script() {
	local name=$1 path=$2 word answers=() status retry delay
	shift 2
	for word in "$@"; do
		delay=0
		case "$word" in
		*@*) delay=${word#*@}; word=${word%%@*} ;;
		esac
		if [ "$word" = close ]; then
			answers+=("$(jq -cn --argjson d "$delay" '{close: true, delay_ms: $d}')")
			continue
		fi
		status=${word%%:*}
		retry=""
		case "$word" in
		*:*) retry=${word#*:} ;;
		esac
		answers+=("$(jq -cn --argjson s "$status" --arg r "$retry" --argjson d "$delay" \
			'{status: $s, delay_ms: $d} + (if $r == "" then {} else {headers: {"Retry-After": $r}} end)')")
	done
	receiver_control "$name" POST script \
		"$(printf '%s\n' "${answers[@]}" | jq -cs --arg p "$path" '{path: $p, answers: .}')" >/dev/null
}

# receiver_reset NAME: forget the queued answers and the deliveries logged
# so far (the secrets stay)
receiver_reset() {
	receiver_control "$1" POST reset >/dev/null
}

# receiver_log NAME: the deliveries it received, oldest first, as a JSON
# array; from its log file once it has stopped.
receiver_log() {
	local name=$1 url file
	eval "url=\${RECEIVER_URL_$name:-}"
	eval "file=\${RECEIVER_LOG_$name:-}"
	[ -n "$url" ] || { fail "no receiver named $name"; echo '[]'; return 1; }
	curl -s -f --max-time 10 "$url/_control/log" 2>/dev/null || jq -cs . "$file"
}

# wait_receiver NAME COUNT TIMEOUT_S [PATH]: wait until it has logged COUNT
# deliveries (to PATH only, when given), counted as a check; after
# TIMEOUT_S seconds a failure (returns 1).
wait_receiver() {
	local name=$1 count=$2 seconds=$3 path=${4:-} have=0
	local deadline=$((SECONDS + seconds))
	while :; do
		have=$(receiver_log "$name" | jq --arg p "$path" '[.[] | select($p == "" or .path == $p)] | length')
		[ "$have" -ge "$count" ] && { ok; return 0; }
		[ "$SECONDS" -ge "$deadline" ] && break
		sleep 0.1
	done
	fail "receiver $name: $have deliveries${path:+ to $path} after ${seconds} s, not $count"
	return 1
}
