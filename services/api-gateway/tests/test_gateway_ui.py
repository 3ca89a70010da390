"""The web UI's static files and the rules document it reads.

`/` serves the page, `/ui/*` its ES modules and stylesheet and nothing else; no module renders
text as HTML; every module the page imports is served; GET /v1/rules is the catalogue of
bcrao_rules, behind the bearer token like the rest of /v1.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import uvicorn
from bcrao_gateway.auth import issue_user_token
from bcrao_gateway.routes_rules import router as rules_router
from bcrao_gateway.ui import UI_DIR, mount_ui
from bcrao_rules.catalogue import rules_document
from fastapi import FastAPI
from fastapi.testclient import TestClient

IMPORT = re.compile(r"""^import\s.*?from\s+"\./([\w-]+\.js)";""", re.MULTILINE | re.DOTALL)


def _client() -> TestClient:
    app = FastAPI()
    mount_ui(app)
    return TestClient(app)


def test_index_is_served_at_the_root_with_a_strict_policy() -> None:
    response = _client().get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/app.js"' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy


def test_every_module_and_stylesheet_the_page_uses_is_served() -> None:
    client = _client()
    seen: set[str] = set()
    pending = ["app.js"]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        response = client.get(f"/ui/{name}")
        assert response.status_code == 200, name
        assert "javascript" in response.headers["content-type"], name
        pending.extend(IMPORT.findall(response.text))
    on_disk = {path.name for path in UI_DIR.glob("*.js")}
    assert seen == on_disk, f"modules nobody imports: {sorted(on_disk - seen)}"
    sheets = re.findall(r'href="/ui/([\w-]+\.css)"', client.get("/").text)
    assert sorted(sheets) == sorted(path.name for path in UI_DIR.glob("*.css"))
    for sheet in sheets:
        style = client.get(f"/ui/{sheet}")
        assert style.status_code == 200
        assert style.headers["content-type"].startswith("text/css")


def test_python_files_of_the_package_are_not_served() -> None:
    client = _client()
    assert client.get("/ui/__init__.py").status_code == 404
    assert client.get("/ui/__pycache__/x.pyc").status_code == 404


def test_no_module_renders_text_as_html() -> None:
    for path in UI_DIR.glob("*.js"):
        script = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in script, f"{path.name} uses {sink}"


def test_no_module_keeps_its_own_copy_of_a_rule_threshold() -> None:
    """The ISC thresholds, tiers and limits reach the page through GET /v1/rules only."""
    isc = rules_document()["isc"]
    numbers = {isc["archetype_block_above"], isc["elevated_above"], isc["promotional_at_or_below"]}
    numbers |= {t["below"] for t in isc["tiers"] if t["below"] is not None}
    for path in UI_DIR.glob("*.js"):
        script = path.read_text()
        for value in numbers:
            literal = re.compile(rf"(?<![\w.]){re.escape(str(value))}(?![\w.])")
            assert not literal.search(script), f"{path.name} hard-codes {value}"


def _rules_app(secret: str) -> TestClient:
    from bcrao_gateway.config import Settings
    from bcrao_gateway.errors import install_error_handlers

    app = FastAPI()
    app.state.settings = Settings(jwt_secret=secret, draft_store_token="t" * 32)
    install_error_handlers(app)
    app.include_router(rules_router)
    return TestClient(app)


def test_rules_are_the_catalogue_behind_the_bearer_token() -> None:
    secret = "s" * 48
    client = _rules_app(secret)
    refused = client.get("/v1/rules")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "AUTH_REQUIRED"
    token = issue_user_token(client.app.state.settings, "alice")  # type: ignore[attr-defined]
    answer = client.get("/v1/rules", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json() == rules_document()


async def test_a_raw_dot_dot_path_reaches_the_app_and_serves_nothing_outside_the_ui() -> None:
    # httpx normalises "..", even in a raw_path, so the request goes over a plain socket to a real
    # server; the wrapper records what the app received, proving the attempt was not cleaned up
    # on the way.
    inner = FastAPI()
    mount_ui(inner)
    received: list[str] = []

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            received.append(scope["path"])
        await inner(scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(recording, host="127.0.0.1", port=0, log_level="error"))
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):  # a hang guard, not a speed requirement
            while not server.started:
                await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            answers = [
                await _raw_get(port, raw)
                for raw in (
                    "/ui/../app.py",
                    "/ui/%2e%2e/app.py",
                    "/ui/..%2f..%2fbcrao_gateway/app.py",
                )
            ]
    finally:
        server.should_exit = True
        await serving
    assert received == ["/ui/../app.py", "/ui/../app.py", "/ui/../../bcrao_gateway/app.py"]
    for status_line, body in answers:  # bcrao_gateway/app.py is right there, one level up
        assert status_line.split()[1] == b"404", status_line
        assert b"create_app" not in body


async def _raw_get(port: int, path: str) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], body
