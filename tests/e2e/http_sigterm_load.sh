#!/usr/bin/env bash
# SIGTERM under load loses no acknowledged write: writers open disputes
# and apply events through the API as fast as they can, each recording
# every write the server acknowledged (a complete 2xx answer); the server
# (sweeper running) gets SIGTERM in the middle and exits 0; then the
# command line, on the same data directory, finds every acknowledged write
# in the index and in git, and `redress audit verify --all` is clean; the
# mirror was brought up to the record before the server exited.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

WRITERS=4
LOAD_SECONDS=1.5

rd init >/dev/null
for w in $(seq "$WRITERS"); do
	new_key admin --name "writer-$w" >"$E2E_TMP/key-$w"
done
start_server s --sweep-interval 1
BASE=$SERVER_BASE

# post KEY PATH BODY [IF-MATCH]: 0 and the body in $E2E_TMP/wN.body when
# the answer was a complete 2xx; 7 when the server no longer listens; 1
# otherwise.
post() {
	local key=$1 path=$2 body=$3 match=${4:-} code status
	local extra=()
	[ -n "$match" ] && extra=(-H "If-Match: \"$match\"")
	set +e
	status=$(curl -s -o "$OUTF" -w '%{http_code}' -H "Authorization: Bearer $key" \
		"${extra[@]}" --data-binary "$body" "$BASE$path")
	code=$?
	set -e
	[ "$code" = 7 ] && return 7
	[ "$code" = 0 ] && [ "${status:0:1}" = 2 ] && return 0
	return 1
}

# writer N: open a dispute, walk it through four events, open the next...
# Acknowledged writes go to $E2E_TMP/acks-N as "ID VERSION EVENT".
writer() {
	local n=$1 key id version event rc
	key=$(cat "$E2E_TMP/key-$n")
	OUTF="$E2E_TMP/w$n.body"
	local doc
	doc=$(cat "$REDRESS_SOURCE_DIR/examples/dispute.json")
	while :; do
		rc=0
		post "$key" /v1/disputes "$doc" || rc=$?
		[ "$rc" = 7 ] && return 0
		[ "$rc" = 0 ] || continue
		id=$(jq -r .id <"$OUTF")
		version=$(jq -r .version <"$OUTF")
		echo "$id $version opened" >>"$E2E_TMP/acks-$n"
		for event in investigate escalate resume escalate; do
			rc=0
			post "$key" "/v1/disputes/$id/events" "{\"event\":\"$event\"}" "$version" || rc=$?
			[ "$rc" = 7 ] && return 0
			[ "$rc" = 0 ] || break
			version=$(jq -r .version <"$OUTF")
			echo "$id $version $event" >>"$E2E_TMP/acks-$n"
		done
	done
}

pids=()
for w in $(seq "$WRITERS"); do
	writer "$w" &
	pids+=($!)
done
sleep "$LOAD_SECONDS"
stop_server s TERM
expect_eq "$STOP_CODE" "0" "server exits 0 on SIGTERM under load"
# The server is gone: every writer ends at its next connection.
wait "${pids[@]}"
expect_has "$(cat "$E2E_TMP/s.err")" "SIGTERM received" "the stop is logged"

# The server brought the mirror up to every change before it exited: no
# command has run since, and none is needed.
db="$REDRESS_DATA/redress.db"
expect_eq "$(sqlite3 "$db" "SELECT position FROM mirror_state")" \
	"$(sqlite3 "$db" "SELECT coalesce(max(seq), 0) FROM changes")" \
	"the mirror's position is the record's last change once the server exited"
behind=0
while read -r id head; do
	[ "$(git --git-dir="$REDRESS_DATA/evidence.git" rev-parse -q --verify \
		"refs/disputes/$id" 2>/dev/null || true)" = "$head" ] || behind=$((behind + 1))
done < <(sqlite3 -separator ' ' "$db" "SELECT dispute_id, head FROM refs")
expect_eq "$behind" "0" "every dispute's ref in the mirror is its head in the record"

cat "$E2E_TMP"/acks-* >"$E2E_TMP/acks"
acked=$(wc -l <"$E2E_TMP/acks" | tr -d ' ')
echo "$acked acknowledged writes"
if [ "$acked" -ge "$WRITERS" ]; then ok; else fail "only $acked writes acknowledged: no load"; fi

# Every acknowledged write, in the index and in git.
missing=0
for id in $(cut -d' ' -f1 "$E2E_TMP/acks" | sort -u); do
	shown=$(rd show "$id" 2>&1) || { fail "acknowledged dispute $id: $shown"; continue; }
	version=$(rd show "$id" --json | jq .version)
	log=$(rd audit log "$id" --json | jq -r '.commits[].message | [match("Redress-Version: ([0-9]+)").captures[0].string, match("Redress-Event: ([a-z_]+)").captures[0].string] | join(" ")')
	while read -r _ v event; do
		if [ "$v" -gt "$version" ]; then
			fail "$id: version $v ($event) was acknowledged, the index has $version"
			missing=$((missing + 1))
			continue
		fi
		if ! grep -Eq "^ +$v [^ ]+ $event " <<<"$shown"; then
			fail "$id: event $v $event acknowledged, not in the index"
			missing=$((missing + 1))
		fi
		if ! grep -qx "$v $event" <<<"$log"; then
			fail "$id: event $v $event acknowledged, not in git"
			missing=$((missing + 1))
		fi
	done < <(grep "^$id " "$E2E_TMP/acks")
done
expect_eq "$missing" "0" "no acknowledged write lost"
expect_exit 0 rd audit verify --all

finish
