"""B1's baselines, each its own process under the gateway's uvicorn settings.

    b1_apps.py fastapi     --port P                          (a) bare FastAPI, small JSON
    b1_apps.py handwritten --port P --database-url D --kafka K --topic T --payload F
                           (the JWT secret in BENCH_JWT_SECRET)

(b) does the I/O an accept needs, in one process and nothing more: verify the JWT (HS256, issuer,
audience), one PostgreSQL transaction that locks the user's account row and inserts a task, one
acks=all produce of a GenerateRequested-sized message, then 202 with a small JSON body.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

import uvicorn

POOL_SIZE = 10  # draft-store's default DRAFT_STORE_DB_POOL_SIZE
SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_accounts (user_id text PRIMARY KEY, plan text NOT NULL);
CREATE TABLE IF NOT EXISTS bench_tasks (
    id uuid PRIMARY KEY, user_id text NOT NULL REFERENCES bench_accounts (user_id),
    campaign_id text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
"""


def fastapi_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/v1/campaigns/{campaign_id}/drafts/generate", status_code=202)
    async def generate(campaign_id: str) -> dict[str, str]:
        return {"task_id": campaign_id, "status": "queued"}

    return app


def handwritten_app(args: argparse.Namespace) -> Any:
    import jwt
    import psycopg
    from aiokafka import AIOKafkaProducer

    payload = Path(args.payload).read_bytes()
    secret = os.environ["BENCH_JWT_SECRET"]
    pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    state: dict[str, Any] = {}

    async def startup() -> None:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(SCHEMA)
        for _ in range(POOL_SIZE):
            pool.put_nowait(await psycopg.AsyncConnection.connect(args.database_url))
        producer = AIOKafkaProducer(bootstrap_servers=args.kafka, acks="all", linger_ms=1)
        await producer.start()
        state["producer"] = producer

    async def reply(send: Any, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": raw})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    await startup()
                    await send({"type": "lifespan.startup.complete"})
            await state["producer"].stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        try:
            claims = jwt.decode(
                auth.removeprefix("Bearer "),
                secret,
                algorithms=["HS256"],
                audience="bcrao-api",
                issuer="bcrao-drafts",
            )
        except jwt.PyJWTError:
            await reply(send, 401, {"error": {"code": "UNAUTHORIZED"}})
            return
        json.loads(body)
        user, campaign = claims["sub"], scope["path"].split("/")[3]
        task_id = uuid.uuid4()
        conn = await pool.get()
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO bench_accounts VALUES (%s, 'growth') ON CONFLICT DO NOTHING",
                    (user,),
                )
                await conn.execute(
                    "SELECT plan FROM bench_accounts WHERE user_id = %s FOR UPDATE", (user,)
                )
                await conn.execute(
                    "INSERT INTO bench_tasks (id, user_id, campaign_id) VALUES (%s, %s, %s)",
                    (task_id, user, campaign),
                )
        finally:
            pool.put_nowait(conn)
        await state["producer"].send_and_wait(args.topic, payload, key=str(task_id).encode())
        await reply(send, 202, {"task_id": str(task_id), "status": "queued"})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["fastapi", "handwritten"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--kafka")
    parser.add_argument("--topic")
    parser.add_argument("--payload")
    args = parser.parse_args()
    app = fastapi_app() if args.kind == "fastapi" else handwritten_app(args)
    # The gateway's uvicorn settings (bcrao_gateway.__main__), so only the app differs.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
