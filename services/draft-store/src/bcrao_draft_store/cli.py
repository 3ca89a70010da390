"""`bcrao-draft-store-admin`: migrate, set-plan USER PLAN, seed-demo USER."""

from __future__ import annotations

import argparse
import asyncio
import os

from bcrao_contracts.enums import Plan

from . import repository as repo
from .db import create_engine, session_factory, unit_of_work, upgrade
from .demo import seed_demo

DEFAULT_URL = "postgresql+psycopg://bcrao:bcrao@127.0.0.1:15432/bcrao"


def _database_url(args: argparse.Namespace) -> str:
    # The admin tool needs only the database, not the service token, so it reads just this one.
    return str(args.database_url or os.environ.get("DRAFT_STORE_DATABASE_URL") or DEFAULT_URL)


async def _run(database_url: str, command: str, args: argparse.Namespace) -> str:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            if command == "set-plan":
                await repo.set_plan(session, args.user, Plan(args.plan))
                return f"{args.user}: plan {args.plan}"
            return str(await seed_demo(session, args.user))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bcrao-draft-store-admin")
    parser.add_argument("--database-url", help="default: $DRAFT_STORE_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the schema to the newest revision")
    plan = commands.add_parser("set-plan", help="change a user's plan")
    plan.add_argument("user")
    plan.add_argument("plan", choices=[p.value for p in Plan])
    demo = commands.add_parser("seed-demo", help="load the sample campaign; prints its id")
    demo.add_argument("user")
    args = parser.parse_args(argv)
    url = _database_url(args)
    if args.command == "migrate":
        upgrade(url)
        print("migrated")
        return
    print(asyncio.run(_run(url, args.command, args)))


if __name__ == "__main__":
    main()
