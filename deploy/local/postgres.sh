#!/usr/bin/env bash
# Local throwaway PostgreSQL cluster for development and tests, from the machine's initdb/pg_ctl
# (Debian's `postgresql` package, installed with apt-get when missing and running as root).
#
#   postgres.sh start    initdb once, start on 127.0.0.1:$PG_PORT, create role/db bcrao, wait
#   postgres.sh stop     pg_ctl stop -m fast
#   postgres.sh status   prints running/stopped, exits 0/1
#
# Env: BCRAO_STATE_DIR (default <repo>/.state), PG_PORT (15432).
# Connect: postgresql://bcrao:bcrao@127.0.0.1:$PG_PORT/bcrao (TCP needs the password, scram);
#          the unix socket in $STATE/pg/run trusts local users.
# When run as root the server runs as the `postgres` system user (postgres refuses to run as root).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="$(realpath -m "${BCRAO_STATE_DIR:-$ROOT/.state}")"
PGDIR="$STATE/pg"
PGDATA="$PGDIR/data"
SOCK="$PGDIR/run"
LOGS="$STATE/logs"
LOG="$LOGS/postgres.log"
PORT="${PG_PORT:-15432}"
HOST=127.0.0.1
USER_NAME=bcrao
PASSWORD=bcrao
DB=bcrao

say() { echo "postgres: $*"; }
die() { echo "postgres: ERROR: $*" >&2; exit 1; }
show_tail() { # infra.sh sets BCRAO_NO_LOG_TAIL and shows the tail itself
  [[ -n ${BCRAO_NO_LOG_TAIL:-} ]] || { echo "--- last lines of $LOG ---" >&2; tail -n 25 "$LOG" >&2; }
}

cd / # the server user may not be allowed into the caller's cwd; all paths here are absolute

bindir() { # directory holding initdb, pg_ctl, postgres, pg_isready, psql
  local d
  d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then echo "$d"; return 0; fi
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  return 1
}

ensure_installed() {
  BIN="$(bindir)" && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "initdb not found; installing Debian's postgresql package"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    # The package creates and starts a default cluster on port 5432; we do not use it.
    BIN="$(bindir)" || die "postgresql installed but initdb still not found"
  else
    die "initdb/pg_ctl not found: install PostgreSQL (Debian: sudo apt-get install -y postgresql)"
  fi
}

AS=() # command prefix that runs a command as the cluster's owner
setup_user() {
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the server"
    AS=(runuser -u postgres --)
  fi
}
as_owner() { "${AS[@]}" "$@" 9>&-; } # 9>&-: the server must not inherit the lock

prepare_dirs() {
  mkdir -p "$PGDIR" "$SOCK" "$LOGS"
  touch "$LOG"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$PGDIR" "$SOCK" "$LOG"
    [[ -d $PGDATA ]] && chown -R postgres: "$PGDATA"
    # The postgres user must be able to reach $PGDIR: let it traverse (not list) each parent.
    local d="" part
    local -a parts
    IFS=/ read -ra parts <<<"${PGDIR#/}"
    for part in "${parts[@]}"; do # top-down: a child is only reachable once its parent is
      d="$d/$part"
      if ! runuser -u postgres -- test -x "$d"; then
        say "granting o+x on $d so the postgres user can reach $PGDIR"
        chmod o+x "$d"
      fi
    done
    runuser -u postgres -- test -w "$PGDIR" || die "the postgres user cannot write to $PGDIR"
  fi
  chmod 755 "$PGDIR" # $PGDIR/data itself is 0700 (initdb)
  chmod 755 "$SOCK" # socket dir: readable by other local users so they can connect
}

init_cluster() {
  [[ -f $PGDATA/PG_VERSION ]] && return 0
  say "creating cluster in $PGDATA"
  local pw="$PGDIR/.pwfile"
  (umask 077 && printf '%s\n' "$PASSWORD" >"$pw")
  [[ $(id -u) -eq 0 ]] && chown postgres: "$pw"
  if ! as_owner "$BIN/initdb" -D "$PGDATA" -U "$USER_NAME" --pwfile="$pw" -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >>"$LOG" 2>&1; then
    rm -f "$pw"
    show_tail
    die "initdb failed (log: $LOG)"
  fi
  rm -f "$pw"
  # Settings live in their own file, included once; rewritten on every start (port may change).
  echo "include_if_exists = 'bcrao.conf'" | as_owner tee -a "$PGDATA/postgresql.conf" >/dev/null
}

# Crash-safe by default (a 202 must survive `pg_ctl stop -m immediate`). BCRAO_PG_MODE=fast-unsafe
# trades durability for speed; `make test` asks for it, since its databases are thrown away.
durability() {
  case "${BCRAO_PG_MODE:-safe}" in
    safe)
      printf '%s\n' "# Crash-safe (the default)." "fsync = on" "synchronous_commit = on" \
        "full_page_writes = on"
      ;;
    fast-unsafe)
      printf '%s\n' "# BCRAO_PG_MODE=fast-unsafe: a crash (not a clean stop) can lose or corrupt" \
        "# data. For throwaway test clusters only." "fsync = off" "synchronous_commit = off" \
        "full_page_writes = off"
      ;;
    *) die "BCRAO_PG_MODE must be safe or fast-unsafe (got ${BCRAO_PG_MODE})" ;;
  esac
}

write_conf() {
  as_owner tee "$PGDATA/bcrao.conf" >/dev/null <<EOF
# Generated by deploy/local/postgres.sh on every start.
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$SOCK'
max_connections = 200
shared_buffers = 128MB
password_encryption = 'scram-sha-256'
$(durability)
log_min_messages = warning
log_connections = off
EOF
}

running() { as_owner "$BIN/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1; }

ready() { "$BIN/pg_isready" -q -h "$HOST" -p "$PORT" -d postgres -U "$USER_NAME" -t 2; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

psql_local() { # as the bcrao superuser over the unix socket (trust)
  as_owner "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U "$USER_NAME" "$@"
}

start() {
  ensure_installed
  setup_user
  prepare_dirs
  init_cluster
  if running; then
    say "already running ($(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null | sed 's/^/pid /'))"
  else
    port_open "$PORT" && die "port $PORT is in use by another process (set PG_PORT)"
    write_conf
    echo "=== $(date -Is) starting PostgreSQL on $HOST:$PORT" >>"$LOG"
    if ! as_owner "$BIN/pg_ctl" start -D "$PGDATA" -l "$LOG" -w -t 60 -s >/dev/null 2>&1; then
      show_tail
      die "pg_ctl start failed (log: $LOG)"
    fi
    say "started $("$BIN/postgres" --version | awk '{print $3}') (pid $(head -n 1 "$PGDATA/postmaster.pid"))"
  fi
  local i
  for (( i = 0; i < 60; i++ )); do ready && break; sleep 0.5; done
  ready || { show_tail; die "not accepting connections on $HOST:$PORT (log: $LOG)"; }
  if [[ $(psql_local -d postgres -tAc "select 1 from pg_database where datname = '$DB'") != 1 ]]; then
    psql_local -d postgres -c "create database $DB owner $USER_NAME" >/dev/null
    say "created database $DB"
  fi
  say "ready on $HOST:$PORT"
}

stop() {
  BIN="$(bindir)" || { say "not installed"; return 0; }
  setup_user
  if [[ ! -f $PGDATA/PG_VERSION ]] || ! running; then
    say "not running"
    return 0
  fi
  as_owner "$BIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 60 -s >/dev/null
  say "stopped"
}

status() {
  BIN="$(bindir)" || { echo "postgres: stopped (not installed)"; return 1; }
  setup_user
  if [[ -f $PGDATA/PG_VERSION ]] && running && ready; then
    echo "postgres: running (pid $(head -n 1 "$PGDATA/postmaster.pid"), $HOST:$PORT)"
    return 0
  fi
  echo "postgres: stopped"
  return 1
}

lock() { # one start/stop at a time per state dir
  mkdir -p "$PGDIR"
  exec 9>"$PGDIR/.lock"
  flock -w 120 9 || die "another postgres.sh is still busy with $STATE (lock $PGDIR/.lock)"
}

case "${1:-}" in
  start) lock; start ;;
  stop) lock; stop ;;
  restart) lock; stop; start ;;
  status) status ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
