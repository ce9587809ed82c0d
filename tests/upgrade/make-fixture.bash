#!/usr/bin/env bash
# Makes the upgrade fixture: a data directory holding every kind of change
# the release that runs this script can record, made through its command
# line and its HTTP server on a loopback port, at fixed times (REDRESS_NOW).
#
#   REDRESS=build/redress tests/upgrade/make-fixture.bash OUT
#
# OUT must not exist. It receives:
#   OUT/data/              the data directory
#   OUT/fixture/           what a reader of it needs besides: the frozen
#                          workflow, policy and kinds files (config/), the
#                          API keys' secrets (keys.env: test keys, made for
#                          this fixture only), the time to read it at (now),
#                          and the POSTs made with an Idempotency-Key, to
#                          replay (replays/NAME/: meta.env and body).
# See tests/upgrade/README.md for what the fixture holds and how it is packed.
# The keys and ids below are used by name (${!name}) and written to files.
# shellcheck disable=SC2034
set -euo pipefail

: "${REDRESS:?REDRESS must point to the redress binary}"
[ $# -eq 1 ] || { echo "usage: REDRESS=BIN $0 OUT" >&2; exit 2; }
OUT=$1
[ ! -e "$OUT" ] || { echo "$OUT exists; give a new directory" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
REDRESS=$(cd "$(dirname "$REDRESS")" && pwd)/$(basename "$REDRESS")
mkdir -p "$OUT/fixture/replays" "$OUT/work"
OUT=$(cd "$OUT" && pwd)
FIX=$OUT/fixture
WORK=$OUT/work
cp -r "$HERE/config" "$FIX/config"

export REDRESS_DATA=$OUT/data
export REDRESS_POLICY=$FIX/config/policy.json
export REDRESS_KINDS=$FIX/config/kinds.json
# Disputes opened first are pinned to version 1 of the dispute workflow;
# the directory of version 2 alone is used afterwards, so that the
# version-1 definition lives on only in the data directory.
export REDRESS_WORKFLOWS=$FIX/config/workflows-v1

SERVER_PID=""
cleanup() {
	if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

die() { echo "make-fixture: $*" >&2; exit 1; }
# shellcheck source=tests/upgrade/lib.bash
. "$(dirname "$0")/lib.bash"

at() { export REDRESS_NOW=$1; }

rd() { "$REDRESS" "$@"; }

# open_doc NAME JQ-FILTER -> a file with the example dispute, edited
open_doc() {
	jq "$2" "$HERE/../../examples/dispute.json" >"$WORK/$1.json"
	echo "$WORK/$1.json"
}

# cli_open NAME JQ-FILTER [open options] -> prints the new id
cli_open() {
	local name=$1 filter=$2
	shift 2
	rd open "$(open_doc "$name" "$filter")" --json "$@" | jq -r .id
}

ev() { # ID EVENT [options]: an event that must succeed
	rd event "$@" >/dev/null || die "event $2 on $1 refused"
}

offer_id() { # ID TYPE -> the first proposed offer of TYPE
	rd offers "$1" --json | jq -r --arg t "$2" \
		'[.offers[] | select(.type == $t)][0].offer_id // empty'
}

key() { # ROLE [options] -> "ID SECRET"
	rd key create --role "$@" --json 2>/dev/null | jq -r '.id + " " + .key'
}

# --- evidence files -------------------------------------------------------------------
printf 'Carrier scan 2026-03-01 10:00 UTC: parcel delivered to sender depot.\nSigned: J. Smith\n' \
	>"$WORK/tracking.txt"
printf 'Return received 2026-03-02: lamp base cracked, packaging intact.\n' \
	>"$WORK/inspection.txt"
printf 'Called the buyer; the box was crushed on one corner.\n' >"$WORK/note.txt"
printf 'buyer: the lamp arrived with a cracked base\nagent: sorry to hear that, we will sort it out\n' \
	>"$WORK/chat.txt"
# a 1x1 PNG
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82' \
	>"$WORK/box.png"
# the smallest JFIF header and end of image
printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9' >"$WORK/label.jpg"
# 1.5 MiB of pseudo-random bytes (seeded, so that a remake stores the same
# blob) behind a PDF header, so that it is detected as application/pdf
{
	printf '%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n'
	# (openssl ends on the pipe closed by head: its status is not the script's)
	{ openssl enc -aes-256-ctr -pass pass:redress-upgrade-fixture -nosalt -pbkdf2 \
		</dev/zero 2>/dev/null || true; } | head -c 1572864
} >"$WORK/carrier-report.pdf"

# === A. 2026-03-02T09:00Z: the data directory, keys, version-1 disputes ===============
at 2026-03-02T09:00:00Z
rd init >/dev/null
read -r ADMIN_ID ADMIN_KEY < <(key admin --name ops-admin)
read -r AGENT_ID AGENT_KEY < <(key agent --name alice)
read -r AGENT2_ID AGENT2_KEY < <(key agent --name bob)
read -r AUDITOR_ID AUDITOR_KEY < <(key auditor --name prometheus)
read -r SHOP_ID SHOP_KEY < <(key storefront --storefront acme-eu)
read -r SHOP2_ID SHOP2_KEY < <(key storefront --storefront globex --name globex-web)
read -r OLD_ID OLD_KEY < <(key agent --name desk-old)
{
	for v in ADMIN AGENT AGENT2 AUDITOR SHOP SHOP2 OLD; do
		eval "echo ${v}_ID=\$${v}_ID; echo ${v}_KEY=\$${v}_KEY"
	done
} >"$FIX/keys.env"

# V1-REFUNDED: version 1, offer by its terms (type/refund), accepted, paid
V1_REFUNDED=$(cli_open v1-refunded '.order_ref = "ORD-V1-1"' --as agent:alice)
at 2026-03-02T09:05:00Z
ev "$V1_REFUNDED" investigate --as agent:alice
ev "$V1_REFUNDED" make_offer --field type=refund_keep_item --field refund=115.00 \
	--note "full refund, buyer keeps the lamp" --as agent:alice
at 2026-03-02T09:10:00Z
ev "$V1_REFUNDED" accept_offer --as storefront:acme-eu
ev "$V1_REFUNDED" refund_issued --field payment_ref=PSP-V1-0001 --as storefront:acme-eu

# V1-OPEN: version 1, left investigating (no deadline) with a note and an
# offer countered then rejected; an event is applied to it after upgrades
V1_OPEN=$(cli_open v1-open '.order_ref = "ORD-V1-2" | .reason = "not_received" | .channel = "email"' \
	--as agent:bob)
ev "$V1_OPEN" investigate --as agent:bob
rd evidence add "$V1_OPEN" "$WORK/note.txt" --kind note --as agent:bob >/dev/null
ev "$V1_OPEN" make_offer --field type=partial_discount --field refund=20.00 --as agent:bob
ev "$V1_OPEN" counter_offer --field amount=45.00 --as storefront:acme-eu
ev "$V1_OPEN" reject_offer --note "the buyer wants a full refund" --as storefront:acme-eu

# === B. 2026-03-02T10:00Z: version 2 only, the command line ===========================
export REDRESS_WORKFLOWS=$FIX/config/workflows
at 2026-03-02T10:00:00Z

# RETURNED: refund with return: awaiting_return, return proof, refund paid
RETURNED=$(cli_open returned '.order_ref = "ORD-3001" | .reason = "wrong_item"' --as agent:alice)
ev "$RETURNED" investigate --as agent:alice
ev "$RETURNED" make_offer --field offer_id="$(offer_id "$RETURNED" refund_with_return)" --as agent:alice
ev "$RETURNED" accept_offer --as storefront:acme-eu
at 2026-03-02T10:30:00Z
rd evidence add "$RETURNED" "$WORK/inspection.txt" --kind inspection_report \
	--captured-at 2026-03-02T10:20:00Z --note "checked at the warehouse" --as agent:alice >/dev/null
ev "$RETURNED" return_received --as agent:alice
ev "$RETURNED" refund_issued --field payment_ref=PSP-3001 --as storefront:acme-eu

# SLA-FIRED: left opened; its 24 h deadline is fired by `redress sweep`
at 2026-03-02T10:00:00Z
SLA_FIRED=$(cli_open sla-fired '.order_ref = "ORD-3002" | .reason = "late_delivery" | .storefront = "globex"' \
	--as agent:alice)

# DISCOUNTED: a reshipment offer declined, a discount made, countered by
# the storefront, the counter accepted by the engine, paid; photos and a
# large carrier report, one photo withdrawn
at 2026-03-02T10:05:00Z
DISCOUNTED=$(cli_open discounted '.order_ref = "ORD-3003" | .reason = "missing_parts"' --as agent:alice)
ev "$DISCOUNTED" investigate --as agent:alice
rd evidence add "$DISCOUNTED" "$WORK/box.png" --kind photo --captured-at 2026-03-01T08:00:00Z \
	--note "box dented on arrival" --as agent:alice >/dev/null
rd evidence add "$DISCOUNTED" "$WORK/label.jpg" --kind photo --captured-at 2026-03-01T08:01:00Z \
	--name label.jpg --as storefront:acme-eu >/dev/null
rd evidence add "$DISCOUNTED" "$WORK/carrier-report.pdf" --kind carrier_report --channel carrier \
	--as agent:alice >/dev/null
rd evidence withdraw "$DISCOUNTED" 2 --reason "photo of another order" --as agent:alice >/dev/null
ev "$DISCOUNTED" make_offer --field offer_id="$(offer_id "$DISCOUNTED" reshipment)" --as agent:alice
ev "$DISCOUNTED" reject_offer --note "the buyer does not want a replacement" --as storefront:acme-eu
ev "$DISCOUNTED" make_offer --field offer_id="$(offer_id "$DISCOUNTED" partial_discount)" --as agent:alice
at 2026-03-02T10:15:00Z
ev "$DISCOUNTED" counter_offer --field amount=25.00 --as storefront:acme-eu
[ "$(rd show "$DISCOUNTED" --json | jq -r .state)" = discount_pending ] ||
	ev "$DISCOUNTED" accept_offer --as storefront:acme-eu
ev "$DISCOUNTED" discount_issued --field payment_ref=PSP-3003 --as storefront:acme-eu

# RESHIPPED: a replacement shipped with its tracking record, delivered
at 2026-03-02T10:20:00Z
RESHIPPED=$(cli_open reshipped '.order_ref = "ORD-3004" | .reason = "defective" | .locale = "en-GB" | .currency = "EUR"' \
	--as agent:bob)
ev "$RESHIPPED" investigate --as agent:bob
ev "$RESHIPPED" make_offer --field offer_id="$(offer_id "$RESHIPPED" reshipment)" --as agent:bob
ev "$RESHIPPED" accept_offer --as agent:bob
rd evidence add "$RESHIPPED" "$WORK/tracking.txt" --kind tracking_record --channel carrier \
	--captured-at 2026-03-01T10:00:00Z --as agent:bob >/dev/null
ev "$RESHIPPED" shipment_sent --field tracking_number=1Z999AA10123456784 --as agent:bob
ev "$RESHIPPED" delivery_confirmed --as storefront:acme-eu

# WITHDRAWN and REJECTED: the two outcomes without a settlement
at 2026-03-02T10:25:00Z
WITHDRAWN=$(cli_open withdrawn '.order_ref = "ORD-3005" | .reason = "changed_mind"' --as agent:alice)
ev "$WITHDRAWN" withdraw --note "the buyer changed their mind" --as storefront:acme-eu
REJECTED=$(cli_open rejected '.order_ref = "ORD-3006" | .reason = "other" | .channel = "phone"' --as agent:bob)
ev "$REJECTED" investigate --as agent:bob
rd evidence add "$REJECTED" "$WORK/tracking.txt" --kind tracking_record --name carrier-scan.txt \
	--as agent:bob >/dev/null
ev "$REJECTED" reject_dispute --field reason="delivered as tracked" --as agent:bob

# EXPIRED: an offer nobody answered; its 5-day deadline fires by the sweep
at 2026-03-02T10:40:00Z
EXPIRED=$(cli_open expired '.order_ref = "ORD-3007" | .reason = "damaged" | .storefront = "globex"' \
	--as agent:alice)
ev "$EXPIRED" investigate --as agent:alice
ev "$EXPIRED" make_offer --field offer_id="$(offer_id "$EXPIRED" refund_keep_item)" --as agent:alice

# AUTO-ACCEPTED: a counter-offer the engine accepts itself (system:offers);
# the refund then goes unpaid past its 3-day deadline: escalated by the sweep
at 2026-03-02T10:45:00Z
AUTO_ACCEPTED=$(cli_open auto-accepted '.order_ref = "ORD-3008" | .reason = "damaged"' --as agent:bob)
ev "$AUTO_ACCEPTED" investigate --as agent:bob
ev "$AUTO_ACCEPTED" make_offer --field offer_id="$(offer_id "$AUTO_ACCEPTED" refund_keep_item)" --as agent:bob
ev "$AUTO_ACCEPTED" counter_offer --field amount=90.00 --as storefront:acme-eu
[ "$(rd show "$AUTO_ACCEPTED" --json | jq -r .state)" = refund_pending ] ||
	die "the engine did not accept AUTO-ACCEPTED's counter-offer"

# --- the sweep, five days on: SLA-FIRED and AUTO-ACCEPTED escalate, EXPIRED's offer lapses
at 2026-03-07T11:00:00Z
rd sweep --json >"$WORK/sweep.json"
[ "$(rd show "$SLA_FIRED" --json | jq -r .state)" = escalated ] || die "the sweep did not escalate SLA-FIRED"
[ "$(rd show "$EXPIRED" --json | jq -r .state)" = investigating ] || die "the sweep did not expire EXPIRED's offer"
[ "$(rd show "$AUTO_ACCEPTED" --json | jq -r .state)" = escalated ] || die "the sweep did not escalate AUTO-ACCEPTED"

# --- quotas ---------------------------------------------------------------------------
rd key quota acme-eu --daily 500MiB --total 20GiB >/dev/null
rd key quota globex --total none >/dev/null
rd key quota tiny-shop --daily 1KiB --total 1MiB >/dev/null

# === C. 2026-03-07T12:00Z: the HTTP API, with Idempotency-Keys ========================
NOW=2026-03-07T12:00:00Z
at "$NOW"
echo "$NOW" >"$FIX/now"
start_server

# call KEY METHOD PATH [curl args] -> STATUS, BODY, HDRS
call() {
	local key=$1 method=$2 path=$3
	shift 3
	local auth=()
	[ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
	STATUS=$(curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' \
		-X "$method" "${auth[@]}" "$@" "$BASE$path")
	BODY=$(cat "$WORK/body")
	HDRS=$(tr -d '\r' <"$WORK/headers")
}
want() { # STATUS WHAT
	[ "$STATUS" = "$1" ] || die "$2: status $STATUS, expected $1: $BODY"
}

# post_json NAME KEYVAR IDEM-KEY PATH BODY: a JSON POST with an
# Idempotency-Key, kept under replays/NAME to be replayed by dump.bash
post_json() {
	local name=$1 keyvar=$2 idem=$3 path=$4 body=$5 dir=$FIX/replays/$1
	mkdir -p "$dir"
	printf '%s' "$body" >"$dir/body"
	printf 'KEYVAR=%q\nIDEM=%q\nREQ_PATH=%q\nFORM=json\n' "$keyvar" "$idem" "$path" >"$dir/meta.env"
	call "${!keyvar}" POST "$path" -H "Idempotency-Key: $idem" --data-binary @"$dir/body"
}

# post_raw NAME KEYVAR IDEM-KEY PATH FILE: a raw evidence upload, likewise
post_raw() {
	local name=$1 keyvar=$2 idem=$3 path=$4 file=$5 dir=$FIX/replays/$1
	mkdir -p "$dir"
	cp "$file" "$dir/body"
	printf 'KEYVAR=%q\nIDEM=%q\nREQ_PATH=%q\nFORM=raw\n' "$keyvar" "$idem" "$path" >"$dir/meta.env"
	call "${!keyvar}" POST "$path" -H "Idempotency-Key: $idem" \
		-H 'Content-Type: application/octet-stream' --data-binary @"$dir/body"
}

# post_form NAME KEYVAR IDEM-KEY PATH FILE NAME-IN-FORM FIELD=VALUE...: a
# multipart/form-data evidence upload, likewise
post_form() {
	local name=$1 keyvar=$2 idem=$3 path=$4 file=$5 filename=$6 dir=$FIX/replays/$1
	shift 6
	mkdir -p "$dir"
	cp "$file" "$dir/body"
	printf 'KEYVAR=%q\nIDEM=%q\nREQ_PATH=%q\nFORM=form\nFILENAME=%q\nFIELDS=(' \
		"$keyvar" "$idem" "$path" "$filename" >"$dir/meta.env"
	printf '%q ' "$@" >>"$dir/meta.env"
	printf ')\n' >>"$dir/meta.env"
	local args=() f
	for f in "$@"; do args+=(-F "$f"); done
	call "${!keyvar}" POST "$path" -H "Idempotency-Key: $idem" "${args[@]}" \
		-F "file=@$dir/body;filename=$filename"
}

json_doc() { jq -c "$1" "$HERE/../../examples/dispute.json"; }

# H-OPENED: opened by the globex storefront's key, left opened (deadline
# tomorrow); the retry is replayed
post_json open-h1 SHOP2_KEY open-ORD-4001 /v1/disputes \
	"$(json_doc '.storefront = "globex" | .order_ref = "ORD-4001" | .reason = "not_as_described" | .channel = "web"')"
want 201 "open ORD-4001"
H_OPENED=$(jq -r .id <<<"$BODY")
call "$SHOP2_KEY" POST /v1/disputes -H "Idempotency-Key: open-ORD-4001" --data-binary @"$FIX/replays/open-h1/body"
want 201 "retry of open ORD-4001"
grep -qi '^Idempotent-Replayed: true' <<<"$HDRS" || die "the retry of open ORD-4001 was not a replay"

# H-REFUND: opened by an agent, evidence raw and as a form, an offer
# accepted by the storefront: left refund_pending (3-day deadline)
post_json open-h2 AGENT_KEY open-ORD-4002 /v1/disputes \
	"$(json_doc '.order_ref = "ORD-4002" | .reason = "damaged"')"
want 201 "open ORD-4002"
H_REFUND=$(jq -r .id <<<"$BODY")
post_json inv-h2 AGENT_KEY inv-ORD-4002 "/v1/disputes/$H_REFUND/events" '{"event": "investigate", "note": "taken"}'
want 200 "investigate ORD-4002"
post_raw photo-h2 AGENT_KEY photo-ORD-4002 \
	"/v1/disputes/$H_REFUND/evidence?kind=photo&captured_at=2026-03-07T08:00:00Z&name=box.png&note=dented" \
	"$WORK/box.png"
want 201 "photo on ORD-4002"
post_form chat-h2 SHOP_KEY chat-ORD-4002 "/v1/disputes/$H_REFUND/evidence" "$WORK/chat.txt" transcript.txt \
	kind=chat_transcript channel=chat "note=exported from the help desk"
want 201 "chat transcript on ORD-4002"
call "$AGENT_KEY" GET "/v1/disputes/$H_REFUND/offers"
offer=$(jq -r '[.offers[] | select(.type == "refund_keep_item")][0].offer_id' <<<"$BODY")
post_json offer-h2 AGENT_KEY offer-ORD-4002 "/v1/disputes/$H_REFUND/events" \
	"{\"event\": \"make_offer\", \"fields\": {\"offer_id\": \"$offer\"}}"
want 200 "make_offer on ORD-4002"
post_json accept-h2 SHOP_KEY accept-ORD-4002 "/v1/disputes/$H_REFUND/events" '{"event": "accept_offer"}'
want 200 "accept_offer on ORD-4002"

# H-COUNTERED: an offer countered by the storefront (an integer amount the
# engine does not accept at once): left offer_pending (5-day deadline)
post_json open-h3 AGENT_KEY open-ORD-4003 /v1/disputes \
	"$(json_doc '.order_ref = "ORD-4003" | .reason = "defective" | .currency = "EUR" | .locale = "fr-FR"')"
want 201 "open ORD-4003"
H_COUNTERED=$(jq -r .id <<<"$BODY")
call "$AGENT_KEY" POST "/v1/disputes/$H_COUNTERED/events" -H 'If-Match: "1"' --data-binary '{"event": "investigate"}'
want 200 "investigate ORD-4003"
call "$AGENT_KEY" GET "/v1/disputes/$H_COUNTERED/offers"
offer=$(jq -r '[.offers[] | select(.type == "partial_discount")][0].offer_id' <<<"$BODY")
call "$AGENT_KEY" POST "/v1/disputes/$H_COUNTERED/events" \
	--data-binary "{\"event\": \"make_offer\", \"fields\": {\"offer_id\": \"$offer\"}}"
want 200 "make_offer on ORD-4003"
post_json counter-h3 SHOP_KEY counter-ORD-4003 "/v1/disputes/$H_COUNTERED/events" \
	'{"event": "counter_offer", "fields": {"amount": 9500}, "note": "the buyer asks for 95.00"}'
want 200 "counter_offer on ORD-4003"
[ "$(jq -r .state <<<"$BODY")" = offer_pending ] || die "the counter-offer on ORD-4003 left $(jq -r .state <<<"$BODY")"

# V1-OPEN escalated over HTTP, with a key
post_json esc-v1 AGENT2_KEY esc-ORD-V1-2 "/v1/disputes/$V1_OPEN/events" '{"event": "escalate"}'
want 200 "escalate ORD-V1-2"

# the key to revoke, used before its revocation
call "$OLD_KEY" GET /v1/me
want 200 "the old key before its revocation"
rd key revoke "$OLD_ID" >/dev/null
call "$OLD_KEY" GET /v1/me
want 401 "the old key after its revocation"

# over the tiny-shop quota: refused, nothing recorded
TINY=$(cli_open tiny '.storefront = "tiny-shop" | .order_ref = "ORD-TINY-1"' --as agent:alice)
head -c 2000 /dev/zero | tr '\0' 'x' >"$WORK/big-note.txt"
call "$AGENT_KEY" POST "/v1/disputes/$TINY/evidence?kind=note" -H 'Content-Type: text/plain' \
	--data-binary @"$WORK/big-note.txt"
want 507 "a note over tiny-shop's daily quota"
post_raw note-tiny AGENT_KEY note-ORD-TINY-1 "/v1/disputes/$TINY/evidence?kind=note&name=short.txt" "$WORK/note.txt"
want 201 "a note within tiny-shop's quota"

kill -TERM "$SERVER_PID"
set +e
wait "$SERVER_PID"
code=$?
set -e
SERVER_PID=""
[ "$code" = 0 ] || die "the server exited $code: $(tail -5 "$WORK/serve.err")"

# --- the record is sound ---------------------------------------------------------------
rd audit verify --all >/dev/null || die "audit verify --all found a mismatch"
{
	for v in V1_REFUNDED V1_OPEN RETURNED SLA_FIRED DISCOUNTED RESHIPPED WITHDRAWN REJECTED \
		EXPIRED AUTO_ACCEPTED H_OPENED H_REFUND H_COUNTERED TINY; do
		echo "$v=${!v}"
	done
} >"$FIX/disputes.env"
rm -rf "$WORK"
echo "fixture made in $OUT with $("$REDRESS" --version)"
