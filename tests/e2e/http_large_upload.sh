#!/usr/bin/env bash
# A 20 MiB video uploaded through the HTTP API is streamed: the server's
# peak resident memory (VmHWM in /proc/PID/status) grows by far less than
# the upload while it is received, hashed, sniffed and written to git; the
# evidence row carries the file's SHA-256, and downloading it gives back
# the same bytes, read from git a chunk at a time (flat memory too).
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

SIZE=$((20 * 1024 * 1024))
GROWTH_LIMIT_KIB=$((8 * 1024))

if [ ! -r /proc/self/status ]; then
	echo "no /proc: memory cannot be read here"
	exit 0
fi

rd init >/dev/null
agent=$(new_key agent)
id=$(open_dispute)

# An MP4 header (libmagic: video/mp4) and incompressible bytes, as a
# phone's video would be.
mp4() { # FILE TOTAL-BYTES
	{
		printf '\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41'
		head -c $(($2 - 32)) /dev/urandom
	} >"$1"
}
mp4 "$E2E_TMP/small.mp4" 300000
mp4 "$E2E_TMP/big.mp4" "$SIZE"
expect_eq "$(stat -c %s "$E2E_TMP/big.mp4")" "$SIZE" "test file is 20 MiB"

# Built with AddressSanitizer (CI's second run), freed memory is held in
# its quarantine, which would count as growth: the server runs without.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0" start_server s --sweep-interval 0
pid=$PID_s
upload() { # FILE -> status in $STATUS, row in $BODY
	api "$agent" POST "$SERVER_BASE/v1/disputes/$id/evidence?kind=video&captured_at=2026-03-01T08:00:00Z&name=unboxing.mp4" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$1"
}
hwm_kib() {
	awk '/^VmHWM:/ {print $2}' "/proc/$pid/status"
}

# Warm up every worker thread (each opens its own service on first use)
# with uploads of the same kind, so that what follows measures the upload.
for _ in 1 2 3; do
	for k in 1 2 3 4; do
		curl -s -o /dev/null -H "Authorization: Bearer $agent" --data-binary "@$E2E_TMP/small.mp4" \
			"$SERVER_BASE/v1/disputes/$id/evidence?kind=video&captured_at=2026-03-01T08:00:00Z" &
	done
	wait $(jobs -p | grep -v "^$pid\$")
done
expect_eq "$(rd evidence list "$id" --json | jq '.evidence | length')" "12" "warm-up uploads stored"
# the mirror has packed them: what follows is the upload's memory alone
mirror_wait "$id"

before=$(hwm_kib)
upload "$E2E_TMP/big.mp4"
after=$(hwm_kib)
expect_eq "$STATUS" "201" "20 MiB video accepted"
expect_eq "$(jq -r '.size' <<<"$BODY")" "$SIZE" "size recorded"
expect_eq "$(jq -r '.content_type' <<<"$BODY")" "video/mp4" "content type detected from the bytes"
sum=$(sha256sum "$E2E_TMP/big.mp4" | cut -d' ' -f1)
expect_eq "$(jq -r '.sha256' <<<"$BODY")" "$sum" "SHA-256 recorded"
n=$(jq -r .n <<<"$BODY")
growth=$((after - before))
echo "peak resident memory: $before KiB before the upload, $after KiB after (+$growth KiB for $((SIZE / 1024)) KiB uploaded)"
if [ "$growth" -lt "$GROWTH_LIMIT_KIB" ]; then
	ok
else
	fail "peak memory grew by $growth KiB during a $((SIZE / 1024)) KiB upload (limit $GROWTH_LIMIT_KIB KiB)"
fi

# A download maps the loose object's file (page cache, counted in RssFile
# and so in VmHWM, shared and reclaimable); what must stay flat is the
# server's own memory, RssAnon, sampled while the download runs.
anon_kib() {
	awk '/^RssAnon:/ {print $2}' "/proc/$pid/status"
}
# the mirror packs the new file once (reading it whole): let it be done,
# so that what follows is the download's memory alone
mirror_wait "$id"
sleep 0.3
before=$(anon_kib)
( peak=0
  while [ ! -e "$E2E_TMP/download.done" ]; do
	v=$(anon_kib)
	[ "${v:-0}" -gt "$peak" ] && peak=$v
	sleep 0.002
  done
  echo "$peak" >"$E2E_TMP/anon.peak" ) &
sampler=$!
curl -s -o "$E2E_TMP/back.mp4" -H "Authorization: Bearer $agent" "$SERVER_BASE/v1/disputes/$id/evidence/$n"
touch "$E2E_TMP/download.done"
wait "$sampler"
after=$(cat "$E2E_TMP/anon.peak")
growth=$((after - before))
echo "anonymous memory: $before KiB before the download, peak $after KiB during it (+$growth KiB for $((SIZE / 1024)) KiB)"
if [ "$growth" -lt "$GROWTH_LIMIT_KIB" ]; then
	ok
else
	fail "peak memory grew by $growth KiB during a $((SIZE / 1024)) KiB download (limit $GROWTH_LIMIT_KIB KiB)"
fi
expect_eq "$(sha256sum "$E2E_TMP/back.mp4" | cut -d' ' -f1)" "$sum" "downloaded bytes have the uploaded SHA-256"
expect_eq "$(stat -c %s "$E2E_TMP/back.mp4")" "$SIZE" "downloaded size"

stop_server s
expect_eq "$STOP_CODE" "0" "server stops with 0"
expect_exit 0 rd audit verify "$id"

finish
