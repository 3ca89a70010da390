#!/usr/bin/env bash
# Loads the demo data (idempotent) and prints where to go and what to paste.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
eval "$(bash deploy/local/services.sh export)"
PY=.venv/bin/python

CAMPAIGN=$("$PY" -m bcrao_draft_store.cli seed-demo demo | tail -n 1)
TOKEN=$("$PY" -m bcrao_gateway.tokens --user demo)
BASE="http://127.0.0.1:${GATEWAY_PORT:-8000}"
if [[ -n ${GENERATOR_LLM_API_KEY:-} ]]; then LLM="${GENERATOR_LLM_MODEL:-gpt-4o-mini} at ${GENERATOR_LLM_BASE_URL:-the default endpoint}"; else LLM="the offline composer (no GENERATOR_LLM_API_KEY set)"; fi

cat <<MSG

BC-RAO Drafts is up.
  Open:      $BASE/        (the web UI: paste the token below)
  API:       $BASE/openapi.json   (rendered at $BASE/docs when online)
  Drafts by: $LLM
  Demo user: demo — campaign "Invoicely validation" ($CAMPAIGN)
  Logs:      .state/logs/      Stop: make down

A dev token for user demo (24 h; another user: make token USER=alice):
  export TOKEN=$TOKEN

Generate a draft for r/SaaS and watch it being written (paste as is):

  STREAM=\$(curl -s -X POST "$BASE/v1/campaigns/$CAMPAIGN/drafts/generate" \\
      -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
      -d '{"subreddit": "SaaS", "archetype": "ProblemSolution", "context": "Chasing late payments from clients eats my Fridays"}' \\
    | $PY -c 'import json,sys; print(json.load(sys.stdin)["stream_url"])')
  curl -N "$BASE\$STREAM"

Then list the stored drafts:
  curl -s "$BASE/v1/campaigns/$CAMPAIGN/drafts" -H "Authorization: Bearer \$TOKEN"
MSG
