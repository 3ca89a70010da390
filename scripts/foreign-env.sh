#!/usr/bin/env bash
# Prints `export NAME=value` for every documented variable, each set to a value other than its
# default: every service setting of docs/CONFIGURATION.md and the local launcher's ports. CI runs
# `make test` under it (`eval "$(bash scripts/foreign-env.sh)"`) to prove the suite reads none
# of the caller's settings and follows the launcher's ports wherever they are.
#   ports: default + 10000 (infrastructure) or + 500 (services); booleans flipped; numbers + 1;
#   everything else a string no default has.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
echo "export KAFKA_PORT=29092 KAFKA_CONTROLLER_PORT=29093 PG_PORT=25432"
# | `NAME` | type | `default` | description |
grep -E '^\| `[A-Z_]+` \|' "$ROOT"/docs/CONFIGURATION.md | while IFS='|' read -r _ name type default _; do
  name="${name//[\` ]/}"
  type="$(echo "$type" | xargs)"
  default="$(echo "$default" | tr -d '`' | xargs)"
  case "$name" in
    *_PORT) value=$(( ${default:-8000} + 500 )) ;;
    *)
      case "$type" in
        bool) [[ $default == true ]] && value=false || value=true ;;
        int) value=$(( ${default:-0} + 1 )) ;;
        float) value="${default:-0}1" ;;
        *) value="foreign-$(echo "$name" | tr 'A-Z_' 'a-z-')" ;;
      esac
      ;;
  esac
  printf 'export %s=%q\n' "$name" "$value"
done
