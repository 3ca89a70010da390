"""`bcrao-token [--user demo] [--ttl 86400]`: print a development bearer token for the API."""

from __future__ import annotations

import argparse
import os
import sys

from bcrao_platform.settings import load_settings

from bcrao_gateway.auth import issue_user_token
from bcrao_gateway.config import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="bcrao-token", description="Print a dev JWT signed with GATEWAY_JWT_SECRET."
    )
    parser.add_argument("--user", default="demo", help="the token's subject (user id)")
    parser.add_argument("--ttl", type=int, default=86_400, help="lifetime in seconds")
    args = parser.parse_args(argv)
    if args.ttl <= 0:
        parser.error("--ttl must be positive")
    # The token needs only the JWT settings; draft-store's credential is irrelevant here.
    overrides = (
        {} if os.environ.get("GATEWAY_DRAFT_STORE_TOKEN") else {"draft_store_token": "x" * 16}
    )
    settings = load_settings(
        Settings, env_prefix="GATEWAY_", program="bcrao-token", overrides=overrides
    )
    if args.ttl > settings.jwt_max_lifetime_seconds:
        limit = settings.jwt_max_lifetime_seconds
        print(f"bcrao-token: --ttl is above the maximum lifetime ({limit} s)", file=sys.stderr)
        raise SystemExit(2)
    try:
        print(issue_user_token(settings, args.user, ttl_seconds=args.ttl))
    except (RuntimeError, ValueError) as exc:
        print(f"bcrao-token: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
