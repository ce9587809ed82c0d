#!/usr/bin/env bash
# `redress reindex` replaces the index file: while a server (or any other
# redress process) has the data directory open it is refused, naming the
# process (pid and command line), and nothing changes; once the server has
# stopped it runs. Keys made while the server ran keep working after it.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
id=$(open_dispute)
admin=$(new_key admin)

start_server s --sweep-interval 0
expect_exit 8 rd reindex
expect_has "$ERR" "redress reindex needs the data directory $REDRESS_DATA to itself" \
	"reindex beside a server is refused"
expect_has "$ERR" "process $PID_s (" "the refusal names the server's pid"
expect_has "$ERR" "serve --listen 127.0.0.1:0 --sweep-interval 0)" \
	"the refusal names the server's command line"
expect_eq "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" "1" "one line"

# The server still owns a whole index: a key made now works at once.
agent=$(new_key agent)
call "$agent" GET "/v1/disputes/$id"
expect_eq "$STATUS" "200" "a key made after the refused reindex works"
stop_server s
expect_eq "$STOP_CODE" "0" "server stops cleanly"

expect_exit 0 rd reindex
expect_has "$OUT" "rebuilt the index of 1 dispute" "reindex runs once alone"
start_server s --sweep-interval 0
call "$agent" GET "/v1/disputes/$id"
expect_eq "$STATUS" "200" "the key survives the reindex"
call "$admin" GET "/v1/workflows"
expect_eq "$STATUS" "200" "the admin key too"
stop_server s

finish
