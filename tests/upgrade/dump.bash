#!/usr/bin/env bash
# Writes a canonical, comparable view of a data directory made by
# make-fixture.bash, through the command line and the HTTP API only (both
# stay from one release to the next), so that the views of a directory
# before and after an upgrade can be compared with diff -r:
#
#   tests/upgrade/dump.bash DATA_DIR REDRESS OUT_DIR
#
# The fixture's side files (frozen configuration, API keys, the time to
# read at, the requests to replay) are read from FIXTURE_DIR, by default
# the directory `fixture` beside DATA_DIR. OUT_DIR is created (it must not
# exist). Nothing is written to the data directory but what merely
# opening it writes: the server runs without its sweeper, at the
# fixture's time, and the requests replayed are answered from their
# records.
#
# What OUT_DIR holds:
#   refs.txt                 git ref heads of refs/disputes/* (object ids)
#   list.json, overdue.json  redress list (all, and --overdue)
#   deadlines.tsv            every pending deadline: dispute, state, at, event
#   keys.json                redress key list (ids, names, roles, revoked_at)
#   quota-STOREFRONT.json    redress key quota STOREFRONT
#   payables.json            redress payables
#   me/NAME.txt              GET /v1/me with each key (the revoked one: 401)
#   storefront-list/NAME.json GET /v1/disputes as each storefront key
#   metrics.txt              the data directory's totals of GET /metrics
#   replays/NAME.txt         a recorded POST sent again with its
#                            Idempotency-Key: status, ETag, Location,
#                            Idempotent-Replayed and the body
#   disputes/ID/             show.json, show.txt, audit-log.json,
#                            evidence.json, evidence-sha256.txt (bytes read by
#                            the CLI and over HTTP), offers.json,
#                            get.txt, history.json, evidence-http.json,
#                            offers-http.json, actions-admin.json
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 DATA_DIR REDRESS OUT_DIR" >&2; exit 2; }
DATA=$(cd "$1" && pwd)
REDRESS=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
OUT=$3
FIX=${FIXTURE_DIR:-$(dirname "$DATA")/fixture}
FIX=$(cd "$FIX" && pwd)
[ ! -e "$OUT" ] || { echo "dump: $OUT exists; give a new directory" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

export REDRESS_DATA=$DATA
export REDRESS_WORKFLOWS=$FIX/config/workflows
export REDRESS_POLICY=$FIX/config/policy.json
export REDRESS_KINDS=$FIX/config/kinds.json
REDRESS_NOW=$(cat "$FIX/now")
export REDRESS_NOW
# shellcheck source=/dev/null
. "$FIX/keys.env"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/redress-dump-XXXXXX")
SERVER_PID=""
cleanup() {
	if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

die() { echo "dump: $*" >&2; exit 1; }
# shellcheck source=tests/upgrade/lib.bash
. "$(dirname "$0")/lib.bash"
rd() { "$REDRESS" "$@"; }
canon() { jq -S . ; }   # sorted members, one layout

# --- git: the ref heads, read before anything opens the directory ----------------------
git --git-dir "$DATA/evidence.git" for-each-ref --format='%(objectname) %(refname)' \
	refs/disputes >"$OUT/refs.txt"

# --- the command line ------------------------------------------------------------------
# every dispute, following the pages
: >"$WORK/list.jsonl"
cursor=""
while :; do
	if [ -n "$cursor" ]; then page=$(rd list --json --limit 500 --cursor "$cursor")
	else page=$(rd list --json --limit 500); fi
	jq -c '.disputes[]' <<<"$page" >>"$WORK/list.jsonl"
	cursor=$(jq -r '.next_cursor // empty' <<<"$page")
	[ -n "$cursor" ] || break
done
jq -s -S . "$WORK/list.jsonl" >"$OUT/list.json"
rd list --json --overdue --limit 500 | canon >"$OUT/overdue.json"
jq -r '.[] | select(.deadline != null) | [.id, .state, .deadline.at, .deadline.event] | @tsv' \
	"$OUT/list.json" | sort >"$OUT/deadlines.tsv"
mapfile -t IDS < <(jq -r '.[].id' "$OUT/list.json" | sort)
[ "${#IDS[@]}" -gt 0 ] || die "no dispute in $DATA"

rd key list --json | canon >"$OUT/keys.json"
for shop in acme-eu globex tiny-shop; do
	rd key quota "$shop" --json | canon >"$OUT/quota-$shop.json"
done
rd payables --json --limit 500 | canon >"$OUT/payables.json"

for id in "${IDS[@]}"; do
	d=$OUT/disputes/$id
	mkdir -p "$d"
	rd show "$id" --json | canon >"$d/show.json"
	rd show "$id" >"$d/show.txt"
	rd audit log "$id" --json | canon >"$d/audit-log.json"
	rd evidence list "$id" --json | canon >"$d/evidence.json"
	rd offers "$id" --json | canon >"$d/offers.json"
	: >"$d/evidence-sha256.txt"
	for n in $(jq -r '.evidence[].n' "$d/evidence.json"); do
		rd evidence get "$id" "$n" -o "$WORK/evidence.bin" 2>"$WORK/stderr" ||
			die "evidence get $id $n: $(cat "$WORK/stderr")"
		echo "$n cli $(sha256sum <"$WORK/evidence.bin" | cut -d' ' -f1) $(stat -c %s "$WORK/evidence.bin")" \
			>>"$d/evidence-sha256.txt"
	done
done

# --- the HTTP API ----------------------------------------------------------------------
start_server

# call KEY METHOD PATH [curl args] -> STATUS; body in $WORK/body, headers
# (without CR) in $WORK/headers
call() {
	local key=$1 method=$2 path=$3
	shift 3
	local auth=()
	[ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
	STATUS=$(curl -s -o "$WORK/body" -D "$WORK/headers.raw" -w '%{http_code}' \
		-X "$method" "${auth[@]}" "$@" "$BASE$path")
	tr -d '\r' <"$WORK/headers.raw" >"$WORK/headers"
}
header() { grep -i "^$1:" "$WORK/headers" | head -1 | sed 's/^[^:]*: *//' || true; }
body_json() { canon <"$WORK/body"; }

mkdir -p "$OUT/me" "$OUT/storefront-list" "$OUT/replays"
for who in ADMIN AGENT AGENT2 AUDITOR SHOP SHOP2 OLD; do
	keyvar=${who}_KEY
	call "${!keyvar}" GET /v1/me
	{ echo "status $STATUS"; body_json; } >"$OUT/me/$who.txt"
done
for who in SHOP SHOP2; do
	keyvar=${who}_KEY
	call "${!keyvar}" GET '/v1/disputes?limit=500'
	[ "$STATUS" = 200 ] || die "GET /v1/disputes as $who: $STATUS"
	body_json >"$OUT/storefront-list/$who.json"
done

call "$AUDITOR_KEY" GET /metrics
[ "$STATUS" = 200 ] || die "GET /metrics: $STATUS"
# the data directory's totals only: the HTTP counters and the build are
# the server process's own
grep -E '^redress_(disputes|sla_breaches_total|evidence_bytes|storefront_evidence_bytes)' \
	"$WORK/body" | sort >"$OUT/metrics.txt"

for id in "${IDS[@]}"; do
	d=$OUT/disputes/$id
	call "$AUDITOR_KEY" GET "/v1/disputes/$id"
	# buyer_history is newer than release 1, and computed at each read
	# (tests/e2e/buyer_history.sh): what was recorded is compared
	{ echo "status $STATUS"; echo "etag $(header ETag)"; body_json | jq -S 'del(.buyer_history)'; } >"$d/get.txt"
	call "$AUDITOR_KEY" GET "/v1/disputes/$id/history"
	[ "$STATUS" = 200 ] || die "history of $id: $STATUS"
	body_json >"$d/history.json"
	call "$AUDITOR_KEY" GET "/v1/disputes/$id/evidence"
	[ "$STATUS" = 200 ] || die "evidence of $id: $STATUS"
	body_json >"$d/evidence-http.json"
	call "$AUDITOR_KEY" GET "/v1/disputes/$id/offers"
	[ "$STATUS" = 200 ] || die "offers of $id: $STATUS"
	body_json >"$d/offers-http.json"
	call "$ADMIN_KEY" GET "/v1/disputes/$id/actions"
	[ "$STATUS" = 200 ] || die "actions on $id: $STATUS"
	# the built-in assign and unassign are listed since after release 1
	# (tests/e2e/assign.sh): the workflow's events are compared
	body_json | jq -S '.events |= map(select(.event != "assign" and .event != "unassign"))' \
		>"$d/actions-admin.json"
	for n in $(jq -r '.evidence[].n' "$d/evidence-http.json"); do
		call "$AUDITOR_KEY" GET "/v1/disputes/$id/evidence/$n"
		[ "$STATUS" = 200 ] || die "evidence $n of $id: $STATUS"
		echo "$n http $(sha256sum <"$WORK/body" | cut -d' ' -f1) $(stat -c %s "$WORK/body") $(header Content-Type) $(header Repr-Digest)" \
			>>"$d/evidence-sha256.txt"
	done
done

# the recorded POSTs, sent again: each is answered from its record
for dir in "$FIX"/replays/*/; do
	name=$(basename "$dir")
	KEYVAR="" IDEM="" REQ_PATH="" FORM="" FILENAME="" FIELDS=()
	# shellcheck source=/dev/null
	. "$dir/meta.env"
	case "$FORM" in
	json)
		call "${!KEYVAR}" POST "$REQ_PATH" -H "Idempotency-Key: $IDEM" --data-binary @"$dir/body" ;;
	raw)
		call "${!KEYVAR}" POST "$REQ_PATH" -H "Idempotency-Key: $IDEM" \
			-H 'Content-Type: application/octet-stream' --data-binary @"$dir/body" ;;
	form)
		args=()
		for f in "${FIELDS[@]}"; do args+=(-F "$f"); done
		call "${!KEYVAR}" POST "$REQ_PATH" -H "Idempotency-Key: $IDEM" "${args[@]}" \
			-F "file=@$dir/body;filename=$FILENAME" ;;
	*) die "replay $name: unknown form $FORM" ;;
	esac
	{
		echo "status $STATUS"
		echo "etag $(header ETag)"
		echo "location $(header Location)"
		echo "idempotent-replayed $(header Idempotent-Replayed)"
		cat "$WORK/body"
		echo
	} >"$OUT/replays/$name.txt"
done

kill -TERM "$SERVER_PID"
set +e
wait "$SERVER_PID"
code=$?
set -e
SERVER_PID=""
[ "$code" = 0 ] || die "the server exited $code: $(tail -5 "$WORK/serve.err")"

# the refs again: reading changed none
git --git-dir "$DATA/evidence.git" for-each-ref --format='%(objectname) %(refname)' \
	refs/disputes >"$WORK/refs-after.txt"
cmp -s "$OUT/refs.txt" "$WORK/refs-after.txt" || die "the ref heads moved while dumping"
