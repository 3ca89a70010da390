#!/usr/bin/env bash
# Starts, stops and reports the three services as background processes, with their settings
# from the environment (and from .env at the repo root when it exists), logs in .state/logs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${BCRAO_STATE_DIR:-$ROOT/.state}"
LOGS="$STATE/logs"
RUN="$STATE/run"
PY="$ROOT/.venv/bin/python"
mkdir -p "$LOGS" "$RUN"

SERVICES=(draft-store generator api-gateway)
declare -A MODULE=([draft-store]=bcrao_draft_store [generator]=bcrao_generator [api-gateway]=bcrao_gateway)
declare -A HEALTH=(
  [draft-store]="http://127.0.0.1:${DRAFT_STORE_PORT:-8001}/healthz"
  [generator]="http://127.0.0.1:${GENERATOR_PORT:-8002}/healthz"
  [api-gateway]="http://127.0.0.1:${GATEWAY_PORT:-8000}/readyz"
)

secrets() {
  # Generated once per checkout: the dev JWT secret and the gateway→draft-store credential.
  local file="$STATE/secrets.env"
  if [[ ! -f $file ]]; then
    umask 077
    "$PY" - >"$file" <<'PY'
import secrets
print(f"BCRAO_JWT_SECRET={secrets.token_urlsafe(48)}")
print(f"BCRAO_SERVICE_TOKEN={secrets.token_urlsafe(32)}")
PY
  fi
  # shellcheck disable=SC1090
  source "$file"
}

environment() {
  secrets
  if [[ -f $ROOT/.env ]]; then
    set -a
    # shellcheck disable=SC1091
    source "$ROOT/.env"
    set +a
  fi
  local kafka="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:${KAFKA_PORT:-19092}}"
  local db="${DATABASE_URL:-postgresql+psycopg://bcrao:bcrao@127.0.0.1:${PG_PORT:-15432}/bcrao}"
  export DRAFT_STORE_DATABASE_URL="${DRAFT_STORE_DATABASE_URL:-$db}"
  export DRAFT_STORE_KAFKA_BOOTSTRAP_SERVERS="${DRAFT_STORE_KAFKA_BOOTSTRAP_SERVERS:-$kafka}"
  export DRAFT_STORE_SERVICE_TOKEN="${DRAFT_STORE_SERVICE_TOKEN:-$BCRAO_SERVICE_TOKEN}"
  export GENERATOR_KAFKA_BOOTSTRAP_SERVERS="${GENERATOR_KAFKA_BOOTSTRAP_SERVERS:-$kafka}"
  export GENERATOR_DRAFT_STORE_URL="${GENERATOR_DRAFT_STORE_URL:-http://127.0.0.1:${DRAFT_STORE_PORT:-8001}}"
  export GENERATOR_DRAFT_STORE_TOKEN="${GENERATOR_DRAFT_STORE_TOKEN:-$DRAFT_STORE_SERVICE_TOKEN}"
  export GATEWAY_KAFKA_BOOTSTRAP_SERVERS="${GATEWAY_KAFKA_BOOTSTRAP_SERVERS:-$kafka}"
  export GATEWAY_DRAFT_STORE_URL="${GATEWAY_DRAFT_STORE_URL:-http://127.0.0.1:${DRAFT_STORE_PORT:-8001}}"
  export GATEWAY_DRAFT_STORE_TOKEN="${GATEWAY_DRAFT_STORE_TOKEN:-$DRAFT_STORE_SERVICE_TOKEN}"
  export GATEWAY_JWT_SECRET="${GATEWAY_JWT_SECRET:-$BCRAO_JWT_SECRET}"
}

running() {
  local pidfile="$RUN/$1.pid"
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

healthy() {
  "$PY" - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

start_one() {
  local name=$1
  if running "$name"; then
    echo "$name: already running (pid $(cat "$RUN/$name.pid"))"
    return
  fi
  setsid nohup "$PY" -m "${MODULE[$name]}" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

wait_healthy() {
  local name=$1
  for _ in $(seq 1 120); do
    if healthy "${HEALTH[$name]}"; then
      echo "$name: up (pid $(cat "$RUN/$name.pid"), log $LOGS/$name.log)"
      return 0
    fi
    if ! running "$name"; then break; fi
    sleep 0.5
  done
  echo "$name: did not become healthy; last lines of $LOGS/$name.log:" >&2
  tail -n 30 "$LOGS/$name.log" >&2 || true
  return 1
}

stop_one() {
  local name=$1 pidfile="$RUN/$1.pid"
  if ! running "$name"; then
    rm -f "$pidfile"
    return
  fi
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "$name: stopped"
}

case "${1:-}" in
  start)
    environment
    # draft-store first: it migrates the schema the others rely on.
    start_one draft-store
    wait_healthy draft-store
    start_one generator
    start_one api-gateway
    wait_healthy generator
    wait_healthy api-gateway
    ;;
  stop)
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_one "${SERVICES[$i]}"; done
    ;;
  status)
    rc=0
    for name in "${SERVICES[@]}"; do
      if running "$name"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: stopped"; rc=1; fi
    done
    exit $rc
    ;;
  export)
    # For `eval`: the same settings the services get, for admin commands and tokens.
    environment
    export -p | grep -E ' (DRAFT_STORE|GENERATOR|GATEWAY)_'
    ;;
  env)
    environment
    env | grep -E '^(DRAFT_STORE|GENERATOR|GATEWAY)_' | sed -E 's/(TOKEN|SECRET|KEY)=.*/\1=<hidden>/'
    ;;
  *)
    echo "usage: $0 start|stop|status|env|export" >&2
    exit 2
    ;;
esac
