#!/usr/bin/env bash
# A PostgreSQL server of the test suite's own, started for real from
# Debian's postgresql package in a temporary directory, listening on
# 127.0.0.1 only, on a free port.
#
#   pg.sh start STATE   initdb, start, wait until it answers; STATE (a file)
#                       receives PGDIR=, PGPORT=, PGURI= lines
#   pg.sh stop STATE    stop it (fast shutdown) and remove its directory
#   pg.sh halt STATE    stop it (fast shutdown: its sessions are ended, as
#                       a restart or a failover ends them) keeping its
#                       directory, its data and STATE
#   pg.sh resume STATE  start a halted one again, on the same port, and
#                       wait until it answers; its data is as it was
#   pg.sh createdb STATE NAME
#                       create database NAME, print its URI
#   pg.sh dropdb STATE NAME
#                       drop database NAME, its connections closed first
#
# PostgreSQL refuses to run as root: run as root (as CI does), the server
# runs as the `postgres` user the package created, in a directory that user
# owns; run as anyone else, it runs as that user. Authentication is `trust`,
# which the loopback-only listener and the private socket directory bound
# to this machine's test runs.
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }

bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir)
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  die "no PostgreSQL server found (initdb): install Debian's postgresql package (make test does)"
}

# as_owner COMMAND...: run as the server's owner, from / (the postgres
# user may have no access to the directory ctest runs in)
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found on 127.0.0.1"
}

# server_start BIN DIR PORT: start the server of DIR on 127.0.0.1:PORT and
# wait (up to 60 s) until it answers
server_start() {
  as_owner "$1/pg_ctl" -D "$2/data" -l "$2/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $3 -c unix_socket_directories=$2 -c max_connections=300 -c shared_buffers=64MB" \
    start >/dev/null 2>&1
}

start() {
  local state=$1 bin dir port
  bin=$(bindir)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (Debian's postgresql package creates it)"
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/redress-pg.XXXXXX")
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if server_start "$bin" "$dir" "$port"; then
      break
    fi
    port=""
    tail -n 5 "$dir/server.log" >&2 || true
  done
  [ -n "$port" ] || die "PostgreSQL did not start (log: $dir/server.log)"
  {
    echo "PGDIR=$dir"
    echo "PGPORT=$port"
    echo "PGURI=postgresql://postgres@127.0.0.1:$port/postgres"
  } >"$state"
  echo "PostgreSQL $("$bin/postgres" --version | sed "s/^postgres (PostgreSQL) //") on 127.0.0.1:$port ($dir)"
}

load_state() {
  [ -f "$1" ] || die "$1: no server started (pg.sh start first)"
  # shellcheck disable=SC1090
  . "$1"
}

stop() {
  local state=$1
  [ -f "$state" ] || return 0
  load_state "$state"
  as_owner "$(bindir)/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDIR" "$state"
}

halt() {
  load_state "$1"
  as_owner "$(bindir)/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 \
    || die "PostgreSQL on port $PGPORT did not stop (log: $PGDIR/server.log)"
}

resume() {
  load_state "$1"
  server_start "$(bindir)" "$PGDIR" "$PGPORT" || {
    tail -n 5 "$PGDIR/server.log" >&2 || true
    die "PostgreSQL did not start again on port $PGPORT (log: $PGDIR/server.log)"
  }
}

createdb() {
  local state=$1 name=$2
  load_state "$state"
  [[ "$name" =~ ^[a-z][a-z0-9_]{0,62}$ ]] || die "bad database name: $name"
  psql -X -q -v ON_ERROR_STOP=1 "$PGURI" -c "CREATE DATABASE $name" >/dev/null
  echo "postgresql://postgres@127.0.0.1:$PGPORT/$name"
}

dropdb() {
  local state=$1 name=$2
  load_state "$state"
  [[ "$name" =~ ^[a-z][a-z0-9_]{0,62}$ ]] || die "bad database name: $name"
  psql -X -q -v ON_ERROR_STOP=1 "$PGURI" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
}

case "${1:-}" in
  start) [ $# = 2 ] || die "usage: pg.sh start STATE"; start "$2" ;;
  stop) [ $# = 2 ] || die "usage: pg.sh stop STATE"; stop "$2" ;;
  halt) [ $# = 2 ] || die "usage: pg.sh halt STATE"; halt "$2" ;;
  resume) [ $# = 2 ] || die "usage: pg.sh resume STATE"; resume "$2" ;;
  createdb) [ $# = 3 ] || die "usage: pg.sh createdb STATE NAME"; createdb "$2" "$3" ;;
  dropdb) [ $# = 3 ] || die "usage: pg.sh dropdb STATE NAME"; dropdb "$2" "$3" ;;
  *) die "usage: pg.sh start|stop|halt|resume|createdb|dropdb STATE [NAME]" ;;
esac
