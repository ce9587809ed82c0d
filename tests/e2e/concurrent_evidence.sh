#!/usr/bin/env bash
# Two processes adding evidence to one dispute 200 times each lose nothing
# and leave a linear history of 400 evidence commits.
set -e
. "$(dirname "$0")/lib.bash"

GIT="git --git-dir=$REDRESS_DATA/evidence.git"
rd init >/dev/null
id=$(open_dispute)
note=$(sample_file note)

writer() { # NAME
	local i
	for i in $(seq 1 200); do
		rd evidence add "$id" "$note" --kind note --name "$1-$i.txt" \
			--as "agent:$1" >/dev/null 2>"$E2E_TMP/$1.err" ||
			echo "$1 $i failed: $(cat "$E2E_TMP/$1.err")" >>"$E2E_TMP/errors"
	done
}
writer ann &
a=$!
writer ben &
b=$!
wait "$a" "$b"

expect_eq "$(cat "$E2E_TMP/errors" 2>/dev/null)" "" "no add failed"
expect_eq "$(rd evidence list "$id" --json | jq '.evidence | length')" "400" "400 evidence rows"
expect_eq "$(rd evidence list "$id" --json | jq '[.evidence[].n] | unique | length')" "400" "400 distinct numbers"
expect_eq "$($GIT rev-list "refs/disputes/$id" | wc -l | tr -d ' ')" "401" "401 commits: opened + 400"
expect_eq "$($GIT rev-list --min-parents=2 "refs/disputes/$id" | wc -l | tr -d ' ')" "0" "linear history"
expect_eq "$($GIT log --format=%s "refs/disputes/$id" | grep -c '^evidence_added by agent:ann')" "200" "ann's 200"
expect_eq "$($GIT log --format=%s "refs/disputes/$id" | grep -c '^evidence_added by agent:ben')" "200" "ben's 200"
expect_eq "$(rd show "$id" --json | jq .version)" "401" "version counts every change"
expect_exit 0 rd audit verify "$id"
expect_exit 0 $GIT fsck --strict

finish
