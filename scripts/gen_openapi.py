"""Write docs/openapi/api-gateway.json: the public API's OpenAPI document, from the gateway app.

    python scripts/gen_openapi.py           # rewrite it (part of `make docs`)
    python scripts/gen_openapi.py --check   # exit 1 when it is stale

The same document is served by a running gateway at /openapi.json; the copy in the repository
lets a reader (and a review) see the API without starting anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bcrao_gateway.app import create_app
from bcrao_gateway.config import Settings

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs/openapi/api-gateway.json"


def render() -> str:
    # Placeholder secrets: building the document reads no secret and opens no connection.
    settings = Settings(jwt_secret="d" * 32, draft_store_token="d" * 16)
    document = create_app(settings).openapi()
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = OUT.read_text() if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
