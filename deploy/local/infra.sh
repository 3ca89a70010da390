#!/usr/bin/env bash
# Local infrastructure for BC-RAO Drafts: Kafka (KRaft) + PostgreSQL on 127.0.0.1, no Docker.
#
#   infra.sh up       fetch Kafka if needed, start Kafka and PostgreSQL (concurrently), wait for both
#   infra.sh down     stop both
#   infra.sh status   show both; exits 0 only when both are running
#
# Env: BCRAO_STATE_DIR (default <repo>/.state), KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093),
#      PG_PORT (15432). See deploy/local/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="$(realpath -m "${BCRAO_STATE_DIR:-$ROOT/.state}")"
export BCRAO_STATE_DIR="$STATE"
LOGS="$STATE/logs"
KAFKA_URL="127.0.0.1:${KAFKA_PORT:-19092}"
PG_URL="postgresql://bcrao:bcrao@127.0.0.1:${PG_PORT:-15432}/bcrao"

# Runs "kafka.sh $1" and "postgres.sh $1" at the same time (a JVM start is the slow part), their
# prefixed progress lines straight to the terminal. For each one that fails: its error message and
# what its log gained during this run.
both() {
  local action=$1 tmp
  tmp="$(mktemp -d)"
  mkdir -p "$LOGS"
  local -A pid code
  local name log
  for name in kafka postgres; do
    log="$LOGS/$name.log"
    stat -c %s "$log" >"$tmp/$name.size" 2>/dev/null || echo 0 >"$tmp/$name.size"
    BCRAO_NO_LOG_TAIL=1 bash "$HERE/$name.sh" "$action" 2>"$tmp/$name.err" &
    pid[$name]=$!
  done
  local failed=0
  for name in kafka postgres; do
    code[$name]=0
    wait "${pid[$name]}" || code[$name]=$?
  done
  for name in kafka postgres; do
    (( code[$name] != 0 )) || continue
    failed=1
    log="$LOGS/$name.log"
    {
      echo
      echo "FAILED: $name $action (exit ${code[$name]})"
      sed 's/^/  /' "$tmp/$name.err"
      local size new
      size="$(cat "$tmp/$name.size")"
      new="$(tail -c +"$(( size + 1 ))" "$log" 2>/dev/null | tail -n 30 || true)"
      if [[ -n $new ]]; then
        echo "  last lines $name logged in $log:"
        printf '%s\n' "$new" | sed 's/^/  | /'
      else
        echo "  (nothing new in $log)"
      fi
    } >&2
  done
  for name in kafka postgres; do # successful runs: pass any warnings through
    (( code[$name] == 0 )) && [[ -s $tmp/$name.err ]] && cat "$tmp/$name.err" >&2
  done
  rm -rf "$tmp"
  return "$failed"
}

case "${1:-}" in
  up)
    t0=$SECONDS
    both start || { echo "infra: up failed (state: $STATE)" >&2; exit 1; }
    echo "infra: up in $(( SECONDS - t0 ))s (state: $STATE)"
    echo "Kafka: $KAFKA_URL"
    echo "PostgreSQL: $PG_URL"
    ;;
  down)
    both stop || { echo "infra: down failed" >&2; exit 1; }
    ;;
  status)
    ok=0
    bash "$HERE/kafka.sh" status || ok=1
    bash "$HERE/postgres.sh" status || ok=1
    if (( ok == 0 )); then
      echo "Kafka: $KAFKA_URL"
      echo "PostgreSQL: $PG_URL"
    fi
    exit "$ok"
    ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
