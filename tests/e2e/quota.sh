#!/usr/bin/env bash
# Evidence quotas per storefront, against the real server: the defaults of
# `redress serve --quota-daily/--quota-total`, a storefront's own setting
# by `redress key quota` (taken at once by the running server, kept across
# a restart and a reindex), the refusal (507, type quota_exceeded, which
# quota and the bytes left) before any byte is stored (usage, the evidence
# list and the evidence store's objects unchanged) for raw uploads with
# and without "Expect: 100-continue" and for forms, uploads of every
# uploader to the storefront's disputes counted, other storefronts
# untouched, the CLI held to the same quota (exit 10), the bytes per
# storefront in /metrics, and the day's usage starting again the next UTC
# day. The bytes the server process writes (wchar of /proc/PID/io) while
# refusing show that a refused body is not spooled either (at most the
# 42400 bytes left, for a form whose file part passes them as it arrives),
# with TMPDIR at a fresh directory that stays empty.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
auditor=$(new_key auditor --name metrics)
acme=$(new_key storefront --storefront acme-eu)
other=$(new_key storefront --storefront other-shop)
id=$(open_dispute)
other_id=$(open_dispute '.storefront = "other-shop"')
at=2026-03-01T10:00:00Z

# plain text of N bytes (tracking_record: text/plain, up to 5 MiB)
text_file() { # NAME BYTES
	{ printf 'Tracking history of parcel 1Z999\n'; head -c $(($2 - 33)) /dev/zero | tr '\0' 'x'; } >"$E2E_TMP/$1"
	echo "$E2E_TMP/$1"
}
small=$(text_file small.txt 60000)
mid=$(text_file mid.txt 50000)
big=$(text_file big.txt 3000000)

objects_bytes() {
	# the record: its evidence files, and its objects
	echo "$(du -sb "$REDRESS_DATA/blobs" | cut -f1)" \
		"$(record_sql "SELECT count(*), sum(size) FROM objects")"
}
evidence_count() { # ID
	rd evidence list "$1" --json | jq '.evidence | length'
}
upload() { # KEY ID FILE [curl args...]
	local key=$1 dispute=$2 file=$3
	shift 3
	call "$key" POST "/v1/disputes/$dispute/evidence?kind=tracking_record" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$file" "$@"
}
metric() { # NAME STOREFRONT
	call "$auditor" GET /metrics
	awk -v want="$1{storefront=\"$2\"}" '$1 == want {print $2}' <<<"$BODY"
}

# 100 KiB a day, 150 KiB in all
spool_dir="$E2E_TMP/spool"
mkdir "$spool_dir"
TMPDIR="$spool_dir" start_server s --sweep-interval 0 --quota-daily 100KiB --quota-total 150KiB
wchar() {
	if [ -r "/proc/$PID_s/io" ]; then awk '/^wchar:/ {print $2}' "/proc/$PID_s/io"; else echo 0; fi
}

upload "$acme" "$id" "$small"
expect_eq "$STATUS" "201" "60000 bytes fit: $BODY"
expect_eq "$(metric redress_storefront_evidence_bytes acme-eu)" "60000" "metrics: the storefront's bytes"
expect_eq "$(metric redress_storefront_evidence_bytes_today acme-eu)" "60000" "metrics: the storefront's bytes today"

# --- the daily quota: 60000 + 50000 > 102400 --------------------------------------
mirror_wait "$id"
before_objects=$(objects_bytes)
before_written=$(wchar)
upload "$agent" "$id" "$mid"
expect_eq "$STATUS" "507" "an agent's upload counts too: $BODY"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/quota_exceeded" "problem type"
expect_eq "$(jq -r '.quota + " " + (.limit|tostring) + " " + (.remaining|tostring)' <<<"$BODY")" \
	"daily 102400 42400" "which quota, its limit, the bytes left"
expect_has "$(jq -r .detail <<<"$BODY")" "redress key quota acme-eu --daily" "the detail says how to go on"
# a large body: curl waits for 100 Continue, the answer comes at once (the
# total quota is named first when both are passed: tomorrow does not help)
upload "$acme" "$id" "$big"
expect_eq "$STATUS:$(jq -r .quota <<<"$BODY")" "507:total" "3 MB, answered at its headers"
expect_eq "$(header Connection)" "close" "the refused body is not read"
# the same without Expect: the body is read and dropped, same answer
upload "$acme" "$id" "$big" -H 'Expect:'
expect_eq "$STATUS:$(jq -r .quota <<<"$BODY")" "507:total" "3 MB without Expect"
# a form: its Content-Length is over what is left
call "$acme" POST "/v1/disputes/$id/evidence" -F kind=tracking_record -F "file=@$big"
expect_eq "$STATUS:$(jq -r .quota <<<"$BODY")" "507:total" "a form over the quota"
# a form whose file part passes the room left while it arrives: refused too
call "$acme" POST "/v1/disputes/$id/evidence" -F kind=tracking_record -F "file=@$mid"
expect_eq "$STATUS:$(jq -r .quota <<<"$BODY")" "507:daily" "a form under the quota plus its overhead"
written=$(($(wchar) - before_written))
echo "the server wrote $written bytes while refusing 5 uploads (6.1 MB sent)"
if [ "$written" -le 42400 ]; then ok; else
	fail "the server wrote $written bytes while refusing uploads over the quota"
fi
expect_eq "$(find "$spool_dir" -mindepth 1 | wc -l)" "0" "nothing left in TMPDIR"
expect_eq "$(evidence_count "$id")" "1" "nothing recorded"
expect_eq "$(objects_bytes)" "$before_objects" "nothing written to the evidence store"
expect_eq "$(metric redress_storefront_evidence_bytes acme-eu)" "60000" "usage unchanged"
# with an Idempotency-Key, refused as the evidence is written: still nothing
upload "$acme" "$id" "$mid" -H 'Idempotency-Key: quota-1'
expect_eq "$STATUS:$(jq -r .quota <<<"$BODY")" "507:daily" "an idempotent upload"
expect_eq "$(evidence_count "$id")" "1" "nothing recorded for it"

# another storefront has its own quota
upload "$other" "$other_id" "$mid"
expect_eq "$STATUS" "201" "another storefront's upload"
expect_eq "$(metric redress_storefront_evidence_bytes other-shop)" "50000" "metrics: per storefront"

# --- a storefront's own quota, taken by the running server -------------------------
expect_exit 0 rd key quota acme-eu --daily 200KiB
expect_has "$OUT" "daily  204800 bytes (set for the storefront); 60000 used today (UTC), 144800 left" "key quota sets and shows"
upload "$acme" "$id" "$mid"
expect_eq "$STATUS" "201" "under the storefront's own daily quota: $BODY"
# the total default (153600) is now the limit: 110000 + 50000 > 153600
upload "$acme" "$id" "$mid"
expect_eq "$(jq -r '(.status|tostring) + " " + .quota + " " + (.remaining|tostring)' <<<"$BODY")" \
	"507 total 43600" "the total quota"
expect_exit 0 rd key quota acme-eu --json
expect_eq "$(jq -c '[.daily.setting, .daily.used, .total.setting, .total.used]' <<<"$OUT")" \
	'[204800,110000,"default",110000]' "key quota --json (the CLI's own default total)"

# --- restart: the setting stays; the CLI hits the same quota ---------------------
stop_server s
expect_eq "$STOP_CODE" "0" "server stopped"
start_server s2 --sweep-interval 0 --quota-daily 100KiB --quota-total 150KiB
upload "$acme" "$id" "$(text_file ten.txt 10000)"
expect_eq "$STATUS" "201" "the storefront's daily quota survives a restart: $BODY"
stop_server s2
expect_exit 0 rd key quota acme-eu --total 120000
expect_exit 10 rd evidence add "$id" "$mid" --kind tracking_record
expect_has "$ERR" "quota" "the CLI names the quota"
expect_eq "$(evidence_count "$id")" "3" "the CLI stored nothing"

# --- reindex keeps the settings and counts the usage again -----------------------
rd key quota acme-eu --json >"$E2E_TMP/before.json"
expect_exit 0 rd reindex
expect_exit 0 rd key quota acme-eu --json
expect_eq "$OUT" "$(cat "$E2E_TMP/before.json")" "reindex: same settings and usage"
expect_eq "$(jq -c '[.daily.used, .total.setting, .total.used]' <<<"$OUT")" '[120000,120000,120000]' "usage counted again"

# --- the next UTC day: the daily usage starts again, the total does not ----------
REDRESS_NOW=2026-03-03T00:00:01Z rd key quota acme-eu --json >"$E2E_TMP/next.json"
expect_eq "$(jq -c '[.daily.used, .total.used]' "$E2E_TMP/next.json")" '[0,120000]' "a new day"
expect_exit 0 rd key quota acme-eu --daily default --total none
expect_eq "$(rd key quota acme-eu --json | jq -c '[.daily.setting, .total.setting, .total.limit]')" \
	'["default","none",null]' "back to the default; no total quota"
expect_exit 2 rd key quota acme-eu --daily lots
expect_exit 3 rd key quota 'Not A Storefront' --daily 1MiB

finish
