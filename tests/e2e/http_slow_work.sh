#!/usr/bin/env bash
# Slow work never starves the server. One storefront key runs 2 exports
# and 16 verifications of one large dispute (48 MiB of evidence) at once;
# meanwhile another key's small requests (GET /healthz, GET a dispute)
# are each answered within a bound. A third export of that key is refused
# (429 with Retry-After), and so is a slow request past the key's bound.
# Downloads and exports stream: the server's temporary directory (TMPDIR)
# holds no copy of a file or an archive at any moment (its files, unlinked
# ones too, are sampled while they run), and a download of a tampered blob
# is cut before its last byte, so it cannot pass as whole. With
# --slow-timeout 1, a slow request that waited 1 s for a thread is
# answered 503, and a download whose client reads nothing for 1 s is cut.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

FILE_MIB=16
FILES=3
# Each small request of the other key must be answered within this, on a
# loaded 2-core CI machine under ASan (they take tens of milliseconds);
# with slow work on the request threads, /healthz waited for the exports
# to be built (seconds at this size).
PROMPT_MS=1000
# The most the server may hold in TMPDIR at once during downloads and
# exports (a whole copy would be 16 MiB or more).
SPOOL_LIMIT=$((1024 * 1024))

if [ ! -d /proc/self/fd ]; then
	echo "no /proc: the server's files cannot be sampled here"
	exit 0
fi

rd init >/dev/null
shop=$(new_key storefront --storefront acme-eu)
other=$(new_key agent --name other)
id=$(open_dispute)
mine=$(open_dispute '.order_ref = "ORD-OTHER-1"')

# Incompressible video files, as phones make them, added with the CLI.
for i in $(seq "$FILES"); do
	{
		printf '\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41'
		head -c $((FILE_MIB * 1024 * 1024 - 32)) /dev/urandom
	} >"$E2E_TMP/big$i.mp4"
	expect_exit 0 rd evidence add "$id" "$E2E_TMP/big$i.mp4" --kind video \
		--captured-at 2026-03-01T08:00:00Z
done

spool="$E2E_TMP/spool"
mkdir "$spool"
TMPDIR="$spool" start_server s --sweep-interval 0 --rate-limit 0 --slow-per-key 20
pid=$PID_s

# The bytes the server holds under $spool: files there, and files it has
# open there (an unlinked temporary file has no name left), sampled until
# $E2E_TMP/sample.stop appears; the peak goes to $E2E_TMP/spool.peak.
spool_bytes() {
	local total=0 f t s
	for f in /proc/"$pid"/fd/*; do
		t=$(readlink "$f" 2>/dev/null) || continue
		case "$t" in
		"$spool"/*)
			s=$(stat -L -c %s "$f" 2>/dev/null) || s=0
			total=$((total + s)) ;;
		esac
	done
	for s in $(find "$spool" -type f -printf '%s\n'); do
		total=$((total + s))
	done
	echo "$total"
}
( peak=0
  while [ ! -e "$E2E_TMP/sample.stop" ]; do
	v=$(spool_bytes)
	[ "$v" -gt "$peak" ] && peak=$v
	sleep 0.01
  done
  echo "$peak" >"$E2E_TMP/spool.peak" ) &
sampler=$!

ms_since() { # START-NS -> milliseconds since
	echo $((($(date +%s%N) - $1) / 1000000))
}

# --- 2 exports and 16 verifications of one key --------------------------------------------
# The exports' clients do not read until told: their exports are then
# under way (the producer waits on the client), deterministically. They
# start a moment apart, as clients do, and the verifications after them.
for i in 1 2; do
	( curl -s -D "$E2E_TMP/export$i.headers" -H "Authorization: Bearer $shop" \
		"$SERVER_BASE/v1/disputes/$id/export" |
		{ while [ ! -e "$E2E_TMP/read.go" ]; do sleep 0.05; done
		  cat >"$E2E_TMP/export$i.tar.gz"; } ) &
	eval "export_pid$i=$!"
	sleep 0.05
done
verifies=()
for i in $(seq 16); do
	curl -s -o "$E2E_TMP/verify$i.json" -w '%{http_code}' -H "Authorization: Bearer $shop" \
		"$SERVER_BASE/v1/disputes/$id/verify" >"$E2E_TMP/verify$i.status" &
	verifies+=($!)
done
sleep 0.1

# another key's small requests while all that runs
slowest=0
for round in 1 2 3 4 5; do
	for path in /healthz "/v1/disputes/$mine"; do
		start=$(date +%s%N)
		status=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -H "Authorization: Bearer $other" \
			"$SERVER_BASE$path")
		took=$(ms_since "$start")
		expect_eq "$status" "200" "GET $path under load (round $round)"
		[ "$took" -gt "$slowest" ] && slowest=$took
	done
	sleep 0.05
done
still=0
for p in "${verifies[@]}" "$export_pid1" "$export_pid2"; do
	kill -0 "$p" 2>/dev/null && still=$((still + 1))
done
echo "slowest small request of another key under load: $slowest ms ($still slow requests still running after them)"
if [ "$slowest" -lt "$PROMPT_MS" ]; then ok; else
	fail "a small request of another key took $slowest ms under load (bound $PROMPT_MS ms)"
fi
if [ "$still" -gt 0 ]; then ok; else
	fail "the load ended before the small requests did: it proves nothing"
fi

for _ in $(seq 600); do
	[ -s "$E2E_TMP/export1.headers" ] && [ -s "$E2E_TMP/export2.headers" ] && break
	sleep 0.05
done
expect_eq "$(head -1 "$E2E_TMP/export1.headers" | tr -d '\r')" "HTTP/1.1 200 OK" "export 1 streams"
expect_eq "$(head -1 "$E2E_TMP/export2.headers" | tr -d '\r')" "HTTP/1.1 200 OK" "export 2 streams"
expect_eq "$(grep -ci '^transfer-encoding: chunked' "$E2E_TMP/export1.headers")" "1" \
	"an export is sent chunked as it is built"

# a third export of the same key, while two are under way (unread)
call "$shop" GET "/v1/disputes/$id/export"
expect_eq "$STATUS" "429" "a third export of one key is refused"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/slow_work_limited" "its problem type"
expect_eq "$(header Retry-After)" "1" "with Retry-After"
touch "$E2E_TMP/read.go"

for p in "${verifies[@]}" "$export_pid1" "$export_pid2"; do
	wait "$p"
done
for i in $(seq 16); do
	expect_eq "$(cat "$E2E_TMP/verify$i.status")" "200" "verify $i answered"
	expect_eq "$(jq -r .ok "$E2E_TMP/verify$i.json")" "true" "verify $i passed"
done
for i in 1 2; do
	root=$E2E_TMP/x$i
	mkdir -p "$root"
	expect_exit 0 tar -xzf "$E2E_TMP/export$i.tar.gz" -C "$root"
	expect_eq "$(sha256sum <"$root/dispute-$id/evidence/0002/content.mp4")" \
		"$(sha256sum <"$E2E_TMP/big2.mp4")" "export $i carries the evidence whole"
done

# --- past the key's bound of slow requests -------------------------------------------------
# 20 downloads that are not read hold the key's 20 slots; the 21st is
# refused. Then their clients go away: the server stops their producers.
holders=()
for i in $(seq 20); do
	curl -s -H "Authorization: Bearer $shop" "$SERVER_BASE/v1/disputes/$id/evidence/1" \
		> >(while [ ! -e "$E2E_TMP/hold.go" ]; do sleep 0.05; done; cat >/dev/null) &
	holders+=($!)
done
sleep 1
call "$shop" GET "/v1/disputes/$id/history"
expect_eq "$STATUS" "429" "a slow request past the key's bound is refused"
expect_has "$BODY" "20 slow requests" "the problem names the bound"
call "$other" GET "/v1/disputes/$id/history"
expect_eq "$STATUS" "200" "another key's history is answered meanwhile"
kill "${holders[@]}"
touch "$E2E_TMP/hold.go"
wait "${holders[@]}" 2>/dev/null || true
for _ in $(seq 100); do
	call "$shop" GET "/v1/disputes/$id/history"
	[ "$STATUS" = 200 ] && break
	sleep 0.1
done
expect_eq "$STATUS" "200" "the key's slots are free again once its clients went away"

# --- a download streams ---------------------------------------------------------------------
call "$other" GET "/v1/disputes/$id/evidence/1"
expect_eq "$STATUS" "200" "download"
expect_eq "$(sha256sum <"$RESPONSE_FILE")" "$(sha256sum <"$E2E_TMP/big1.mp4")" "downloaded whole"
expect_eq "$(header Content-Length)" "$((FILE_MIB * 1024 * 1024))" "with its Content-Length"
expect_eq "$(header Repr-Digest)" "sha-256=:$(sha256sum "$E2E_TMP/big1.mp4" | cut -d' ' -f1 | xxd -r -p | base64 -w0):" \
	"and its Repr-Digest"

touch "$E2E_TMP/sample.stop"
wait "$sampler"
peak=$(cat "$E2E_TMP/spool.peak")
echo "peak bytes in TMPDIR during 2 exports and 21 downloads: $peak"
if [ "$peak" -lt "$SPOOL_LIMIT" ]; then ok; else
	fail "the server held $peak bytes in TMPDIR at once (limit $SPOOL_LIMIT)"
fi

# --- a tampered blob is never delivered whole --------------------------------------------------
# The record keeps an evidence file's bytes as they are in
# <data>/blobs/<2 hex>/<38 hex> (on PostgreSQL: in rows of file_chunks),
# named by their git blob id; the mirror's tree names the same id (the
# mirror is current: the files were added with the CLI, which updates it
# before it ends).
mirror_wait "$id"
GIT="git --git-dir=$REDRESS_DATA/evidence.git"
obj=$($GIT rev-parse "refs/disputes/$id:evidence/0002/content.mp4")
expect_eq "$obj" "$(git hash-object "$E2E_TMP/big2.mp4")" "evidence 2's blob id is that of its bytes"
file="$REDRESS_DATA/blobs/${obj:0:2}/${obj:2}"
tampered=0
if on_postgres; then
	# One byte of its last chunk changed in place.
	changed=$(record_sql "UPDATE file_chunks AS c
		SET data = set_byte(c.data, octet_length(c.data) - 1000,
			get_byte(c.data, octet_length(c.data) - 1000) # 255)
		FROM files AS f
		WHERE f.id = '\\x$obj' AND c.upload = f.upload
		AND c.n = (SELECT max(n) FROM file_chunks WHERE upload = f.upload)
		RETURNING c.n")
	[ -n "$changed" ] && tampered=1
elif [ -f "$file" ]; then
	# The same bytes, one changed, written again in place.
	python3 - "$file" <<'EOF'
import os, sys
path = sys.argv[1]
raw = bytearray(open(path, 'rb').read())
raw[-1000] ^= 0xFF
os.chmod(path, 0o644)
open(path, 'r+b').write(bytes(raw))
EOF
	tampered=1
fi
if [ "$tampered" = 1 ]; then
	set +e
	curl -s -o "$E2E_TMP/tampered" -D "$E2E_TMP/tampered.headers" -H "Authorization: Bearer $other" \
		"$SERVER_BASE/v1/disputes/$id/evidence/2"
	code=$?
	set -e
	expect_eq "$(head -1 "$E2E_TMP/tampered.headers" | tr -d '\r')" "HTTP/1.1 200 OK" "the tampered download began"
	expect_eq "$code" "18" "curl: the body ended short of its Content-Length (partial file)"
	got=$(stat -c %s "$E2E_TMP/tampered")
	if [ "$got" -lt $((FILE_MIB * 1024 * 1024)) ]; then ok; else
		fail "the tampered file was delivered whole ($got bytes)"
	fi
else
	fail "evidence 2 is not in the record where it should be ($file): cannot tamper with it here"
fi

stop_server s
expect_eq "$STOP_CODE" "0" "server stops with 0"

# --- --slow-timeout: no connection waits on slow work for longer -----------------------------
# A slow request that waited 1 s for a thread is answered 503. Each job
# is held 3 s before it runs (a test-only setting), so the one thread is
# busy for longer than the second request may wait, however fast the
# machine is.
REDRESS_TEST_SLOW_HOLD_MS=3000 start_server h --sweep-interval 0 --rate-limit 0 \
	--slow-threads 1 --slow-timeout 1
curl -s -o /dev/null -H "Authorization: Bearer $other" "$SERVER_BASE/v1/disputes/$id/verify" &
holder=$!
sleep 0.3
start=$(date +%s%N)
call "$shop" GET "/v1/disputes/$id/verify"
took=$(ms_since "$start")
expect_eq "$STATUS" "503" "a slow request that waited past --slow-timeout"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/unavailable" "its problem type"
expect_eq "$(header Retry-After)" "1" "with Retry-After"
echo "answered $STATUS after $took ms of waiting (--slow-timeout 1)"
wait "$holder" || true
stop_server h
expect_eq "$STOP_CODE" "0" "server stops with 0"
start_server t --sweep-interval 0 --rate-limit 0 --slow-threads 1 --slow-timeout 1
# A download whose client reads nothing for 1 s is cut, and its thread
# freed: the client finds the body short of its Content-Length.
( code=0
  curl -s -H "Authorization: Bearer $other" "$SERVER_BASE/v1/disputes/$id/evidence/1" \
	> >(while [ ! -e "$E2E_TMP/late.go" ]; do sleep 0.05; done; cat >"$E2E_TMP/late.bytes") ||
	code=$?
  echo "$code" >"$E2E_TMP/late.code" ) &
late=$!
sleep 3
call "$other" GET "/v1/disputes/$id/verify"
expect_eq "$STATUS" "200" "the thread is free again"
touch "$E2E_TMP/late.go"
wait "$late"
expect_eq "$(cat "$E2E_TMP/late.code")" "18" "the unread download was cut (curl: partial file)"
if [ "$(stat -c %s "$E2E_TMP/late.bytes")" -lt $((FILE_MIB * 1024 * 1024)) ]; then ok; else
	fail "the unread download was delivered whole"
fi
stop_server t
expect_eq "$STOP_CODE" "0" "server stops with 0"
finish
