#!/usr/bin/env bash
# Prepares the Python environment: uv (installed through pip when missing) and the locked
# workspace in .venv, on the machine's own Python 3.11 (never a downloaded interpreter).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v uv >/dev/null 2>&1; then
  if ! python3 -m uv --version >/dev/null 2>&1; then
    echo "bootstrap: installing uv with pip" >&2
    python3 -m pip install --quiet --disable-pip-version-check uv
  fi
  UV=(python3 -m uv)
else
  UV=(uv)
fi

PYTHON="$(command -v python3.11 || command -v python3)"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "bootstrap: Python 3.11 is required (found $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi

export UV_PYTHON_DOWNLOADS=never
"${UV[@]}" sync --frozen --python "$PYTHON" --quiet

# The browser tests drive Debian's chromium (never a downloaded browser). Install it when this
# user can (root, with apt-get); elsewhere the browser tests skip and say why. BOOTSTRAP_CHROMIUM=0
# leaves it alone.
if [ "${BOOTSTRAP_CHROMIUM:-1}" != 0 ] && ! command -v chromium >/dev/null 2>&1 \
  && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: installing chromium with apt-get (for the browser tests)" >&2
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    echo "bootstrap: chromium could not be installed; the browser tests will skip" >&2
  fi
fi

# axe-core for the browser tests' accessibility check, from npm at the locked version (offline
# once installed). Without npm the accessibility check skips and says why.
A11Y="$ROOT/tests/e2e/a11y"
if command -v npm >/dev/null 2>&1 && [ ! -f "$A11Y/node_modules/axe-core/axe.min.js" ]; then
  echo "bootstrap: installing axe-core with npm (for the accessibility check)" >&2
  if ! npm ci --prefix "$A11Y" --no-audit --no-fund --silent; then
    echo "bootstrap: axe-core could not be installed; the accessibility check will skip" >&2
  fi
fi
