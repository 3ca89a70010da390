#!/usr/bin/env bash
# Runs a command with the local stack's settings (generated secrets, .env, local endpoints).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
eval "$(bash "$ROOT/deploy/local/services.sh" export)"
exec "$@"
