#!/usr/bin/env bash
# The server's guards end to end, on real servers on free ports, driven by
# curl: GET /metrics (who may read it, its format, request counts that go
# up by exactly what was sent, disputes per state, SLA breaches, evidence
# bytes), the per-key rate limit (429 with Retry-After, other keys and
# unauthenticated requests unaffected, recovery, --rate-limit 0 and bad
# values), and the stop: a request arriving on an open keep-alive
# connection while the server stops gets 503 and a closed connection,
# while a request already begun completes (tests/tools/rd-drain.c).
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

# statuses N KEY PATH: the statuses of N GETs on one keep-alive connection
statuses() {
	local n=$1 key=$2 path=$3 args=()
	local auth=()
	[ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
	for _ in $(seq "$n"); do args+=(-o /dev/null "$SERVER_BASE$path"); done
	curl -s -w '%{http_code}\n' "${auth[@]}" "${args[@]}"
}

# requests TEXT: "labels count" of every redress_http_requests_total sample
requests() {
	sed -n 's/^redress_http_requests_total{\(.*\)} \([0-9][0-9]*\)$/\1 \2/p' <<<"$1" | LC_ALL=C sort
}
# delta BEFORE AFTER: "labels increase" of every request series that moved
delta() {
	LC_ALL=C join -a 2 -e 0 -o '0,1.2,2.2' <(requests "$1") <(requests "$2") |
		awk '$3 != $2 { print $1, $3 - $2 }'
}
# sample TEXT SERIES: the value of one sample line, "" when absent
sample() {
	awk -v s="$2" 'index($0, s " ") == 1 { print $2 }' <<<"$1"
}

rd init >/dev/null
admin=$(new_key admin)
auditor=$(new_key auditor)
agent=$(new_key agent --name alice)
agent2=$(new_key agent --name bob)
acme=$(new_key storefront --storefront acme-eu)

# --- bad --rate-limit values are refused before anything listens ---------------
for bad in x -1 1000001 1.5 ""; do
	expect_exit 2 rd serve --listen 127.0.0.1:0 --rate-limit "$bad"
	expect_has "$ERR" "--rate-limit" "bad --rate-limit '$bad' named"
done

# === server A: default options ==================================================
start_server a

# --- who may read /metrics -------------------------------------------------------
call "$auditor" GET /metrics
expect_eq "$STATUS" "200" "auditor reads the metrics"
expect_eq "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8" "exposition content type"
m0=$BODY
call "" GET /metrics
expect_eq "$STATUS" "401" "metrics without a key"
expect_eq "$(header WWW-Authenticate)" "Bearer" "401 challenges"
call "$agent" GET /metrics
expect_eq "$STATUS" "403" "an agent may not read the metrics"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/forbidden" "403 problem"
call "$acme" GET /metrics
expect_eq "$STATUS" "403" "a storefront may not read the metrics"

# --- a known sequence of requests -----------------------------------------------------
call "$agent" POST /v1/disputes --data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "201" "open one"
id1=$(jq -r .id <<<"$BODY")
call "$agent" POST /v1/disputes --data-binary "$(jq -c '.allow_duplicate = true' \
	"$REDRESS_SOURCE_DIR/examples/dispute.json")"
expect_eq "$STATUS" "201" "open two"
id2=$(jq -r .id <<<"$BODY")
for _ in 1 2 3; do
	call "$agent" GET "/v1/disputes/$id1"
	expect_eq "$STATUS" "200" "read one"
done
call "$agent" GET /v1/disputes/01ARZ3NDEKTSV4RRFFQ69G5FAV
expect_eq "$STATUS" "404" "missing dispute"
call "$agent" GET /nothing
call "$agent" GET /nothing/at/all
expect_eq "$STATUS" "404" "unknown paths"
call "$agent" DELETE /v1/workflows
expect_eq "$STATUS" "405" "wrong method"
call "$agent" BREW /healthz
expect_eq "$STATUS" "405" "a method of nobody's"
call "$agent" POST "/v1/disputes/$id1/events" --data '{"event":"investigate"}'
expect_eq "$STATUS" "200" "investigate"
note=$(sample_file note)
size=$(wc -c <"$note" | tr -d ' ')
call "$agent" POST "/v1/disputes/$id1/evidence?kind=note" --data-binary "@$note"
expect_eq "$STATUS" "201" "upload a note"
call "" GET /healthz
expect_eq "$STATUS" "200" "healthz"

call "$admin" GET /metrics
expect_eq "$STATUS" "200" "admin reads the metrics"
m1=$BODY

cat >"$E2E_TMP/expected" <<EOF
route="/healthz",method="GET",status="200" 1
route="/metrics",method="GET",status="200" 1
route="/metrics",method="GET",status="401" 1
route="/metrics",method="GET",status="403" 2
route="/v1/disputes",method="POST",status="201" 2
route="/v1/disputes/{id}",method="GET",status="200" 3
route="/v1/disputes/{id}",method="GET",status="404" 1
route="/v1/disputes/{id}/events",method="POST",status="200" 1
route="/v1/disputes/{id}/evidence",method="POST",status="201" 1
route="unmatched",method="DELETE",status="405" 1
route="unmatched",method="GET",status="404" 2
route="unmatched",method="other",status="405" 1
EOF
expect_eq "$(delta "$m0" "$m1")" "$(LC_ALL=C sort "$E2E_TMP/expected")" \
	"request counts went up by exactly what was sent"

# --- the domain metrics -------------------------------------------------------------
call "$auditor" GET /v1/disputes
by_state=$(jq -r '.disputes | group_by(.state) | map("\(.[0].state) \(length)") | .[]' <<<"$BODY")
metric_states=$(sed -n 's/^redress_disputes{state="\([^"]*\)"} \([0-9]*\)$/\1 \2/p' <<<"$m1" | awk '$2 > 0' | LC_ALL=C sort)
expect_eq "$metric_states" "$(LC_ALL=C sort <<<"$by_state")" "disputes by state match the list"
expect_eq "$metric_states" "investigating 1
opened 1" "one opened, one investigating"
expect_eq "$(sample "$m1" redress_evidence_bytes)" "$size" "evidence bytes are the uploaded size"
expect_eq "$(sample "$m1" redress_sla_breaches_total)" "0" "no SLA breach yet"
version=$(sed -n 's/^redress_build_info{version="\([^"]*\)"} 1$/\1/p' <<<"$m1")
expect_eq "$([ -n "$version" ] && echo yes)" "yes" "build info with a version"
for metric in redress_http_requests_total:counter \
	redress_http_request_duration_seconds:histogram \
	redress_disputes:gauge redress_sla_breaches_total:counter \
	redress_evidence_bytes:gauge redress_build_info:gauge; do
	expect_has "$m1" "# TYPE ${metric%%:*} ${metric#*:}
" "TYPE of ${metric%%:*}"
	expect_has "$m1" "# HELP ${metric%%:*} " "HELP of ${metric%%:*}"
done

# A day and an hour on, the opened dispute's 24-hour SLA has passed (the
# investigating one's 48 hours have not): a sweep escalates it.
expect_exit 0 env REDRESS_NOW=2026-03-03T10:00:00Z "$REDRESS" sweep
call "$auditor" GET /metrics
m2=$BODY
expect_eq "$(sample "$m2" redress_sla_breaches_total)" "1" "the fired deadline is one SLA breach"
expect_eq "$(sample "$m2" 'redress_disputes{state="escalated"}')" "1" "escalated counted"
expect_eq "$(sample "$m2" 'redress_disputes{state="opened"}')" "0" "a state left empty stays at 0"
expect_eq "$(rd show "$id2" --json | jq -r .state)" "escalated" "the index agrees"

# The histogram: cumulative, +Inf equal to the count, every read there.
route='route="/v1/disputes/{id}",method="GET"'
count=$(sample "$m2" "redress_http_request_duration_seconds_count{$route}")
inf=$(sample "$m2" "redress_http_request_duration_seconds_bucket{$route,le=\"+Inf\"}")
expect_eq "$inf" "$count" "+Inf bucket equals the count"
expect_eq "$([ "${count:-0}" -ge 4 ] && echo yes)" "yes" "the four reads observed ($count)"
buckets=$(grep -F "redress_http_request_duration_seconds_bucket{$route," <<<"$m2" | awk '{print $2}')
expect_eq "$(sort -n <<<"$buckets")" "$buckets" "buckets are cumulative"
expect_eq "$(sample "$m2" redress_http_requests_in_flight)" "1" "the scrape itself is in flight"

# --- the stop: 503 on an open connection, the request in flight completes ----------
"$REDRESS_TOOLS/rd-drain" "$SERVER_PORT" "$PID_a" "$agent" "$id1" >"$E2E_TMP/drain" 2>"$E2E_TMP/drain.err" ||
	fail "rd-drain failed: $(cat "$E2E_TMP/drain.err")"
drain=$(cat "$E2E_TMP/drain")
fact() { sed -n "s/^$1 //p" <<<"$drain"; }
expect_eq "$(fact first)" "200" "keep-alive connection opened"
expect_eq "$(fact continue)" "100" "the upload has begun before the stop"
expect_eq "$(fact new-connections)" "refused" "new connections refused while stopping"
expect_eq "$(fact keepalive)" "503" "a new request on an open connection: 503"
expect_eq "$(fact retry-after)" "1" "503 with Retry-After: 1"
expect_eq "$(fact connection)" "close" "503 with Connection: close"
expect_eq "$(fact type)" "https://redress.dev/problems/unavailable" "503 problem type"
expect_eq "$(fact closed)" "yes" "the connection is closed after the 503"
expect_eq "$(fact upload)" "201" "the upload begun before the stop completes"
expect_eq "$(fact upload-connection)" "close" "and closes its connection"
wait_server a 10
expect_eq "$STOP_CODE" "0" "server exits 0 after the drain"
expect_eq "$(rd evidence list "$id1" --json | jq '.evidence | length')" "2" "the upload was recorded"

# === server B: --rate-limit 1 (bursts of 2) =====================================
start_server b --rate-limit 1
codes=$(statuses 12 "$agent" /v1/workflows)
expect_eq "$(head -2 <<<"$codes" | tr '\n' ' ')" "200 200 " "the burst of two passes"
expect_has "$codes" "429" "then the key is limited"
for _ in $(seq 12); do
	call "$agent" GET /v1/workflows
	[ "$STATUS" = 429 ] && break
done
expect_eq "$STATUS" "429" "limited again"
expect_eq "$(header Content-Type)" "application/problem+json" "429 is a problem"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/rate_limited" "429 type"
retry=$(header Retry-After)
expect_eq "$(grep -Ec '^[1-9][0-9]*$' <<<"$retry")" "1" "Retry-After in whole seconds ($retry)"
call "$agent2" GET /v1/workflows
expect_eq "$STATUS" "200" "another key is unaffected"
expect_eq "$(statuses 10 "" /healthz | sort -u)" "200" "unauthenticated requests are not limited per key"
expect_eq "$(statuses 10 "" /v1/workflows | sort -u)" "401" "requests without a key get 401, not 429"
limited=$(grep -c 429 <<<"$codes" || true)
call "$auditor" GET /metrics
expect_eq "$(sample "$BODY" 'redress_http_requests_total{route="/v1/workflows",method="GET",status="429"}')" \
	"$((limited + 1))" "429s counted"
sleep "$retry"
call "$agent" GET /v1/workflows
expect_eq "$STATUS" "200" "after Retry-After the key may send again"
stop_server b TERM 10
expect_eq "$STOP_CODE" "0" "server exits 0 on SIGTERM"

# === server C: --rate-limit 0 (off) ===============================================
start_server c --rate-limit 0
expect_eq "$(statuses 30 "$agent" /v1/workflows | sort -u)" "200" "no limit with --rate-limit 0"
stop_server c TERM 10
expect_eq "$STOP_CODE" "0" "server exits 0 on SIGTERM"

finish
