"""Every error the gateway can produce is the envelope, and oversize bodies are cut off early."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

CAP = 65_536


def _envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return dict(body["error"])


async def test_unknown_route_is_404_envelope(client: httpx.AsyncClient) -> None:
    _envelope(await client.get("/v1/nope"), 404, "RESOURCE_NOT_FOUND")
    _envelope(await client.get("/no/such/page"), 404, "RESOURCE_NOT_FOUND")
    _envelope(await client.get("/ui/missing.js"), 404, "RESOURCE_NOT_FOUND")


async def test_wrong_method_is_405_with_allow(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    response = await client.delete("/v1/campaigns", headers=alice)
    error = _envelope(response, 405, "VALIDATION_ERROR")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert set(error["details"]["allowed"]) == {"GET", "POST"}
    assert error["details"]["method"] == "DELETE"


async def test_bad_json_is_422(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await client.post(
        "/v1/campaigns",
        content=b'{"name": ',
        headers={**alice, "Content-Type": "application/json"},
    )
    error = _envelope(response, 422, "VALIDATION_ERROR")
    assert error["details"]["errors"][0]["message"].startswith("invalid JSON")


async def test_validation_errors_name_fields_without_echoing_input(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_body: dict[str, Any]
) -> None:
    huge = "Q" * 5000
    body = {**campaign_body, "name": huge, "keywords": ["one"], "unexpected": 1}
    response = await client.post("/v1/campaigns", json=body, headers=alice)
    error = _envelope(response, 422, "VALIDATION_ERROR")
    fields = {e["field"] for e in error["details"]["errors"]}
    assert {"body.name", "body.keywords", "body.unexpected"} <= fields
    assert "QQQQQQQQ" not in response.text
    assert '"input"' not in json.dumps(error["details"])


async def test_subreddit_prefix_is_stripped_and_bad_names_refused(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_body: dict[str, Any]
) -> None:
    created = await client.post("/v1/campaigns", json=campaign_body, headers=alice)
    assert created.json()["target_subreddits"] == ["SaaS", "freelance"]
    bad = {**campaign_body, "target_subreddits": ["r/no spaces allowed"]}
    error = _envelope(
        await client.post("/v1/campaigns", json=bad, headers=alice), 422, "VALIDATION_ERROR"
    )
    assert error["details"]["errors"][0]["field"].startswith("body.target_subreddits")


async def test_malformed_path_id_is_422(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    error = _envelope(
        await client.get("/v1/campaigns/not-a-uuid", headers=alice), 422, "VALIDATION_ERROR"
    )
    assert error["details"]["errors"][0]["field"] == "path.campaign_id"


async def test_unhandled_error_is_500_without_details(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("database password is hunter2")

    app.add_api_route("/boom", explode)
    with caplog.at_level(logging.ERROR):
        response = await client.get("/boom", headers={"X-Request-ID": "req-123"})
    error = _envelope(response, 500, "INTERNAL_ERROR")
    assert error == {"code": "INTERNAL_ERROR", "message": "internal error", "details": {}}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-request-id"] == "req-123"
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == "req-123"]
    assert logged
    assert logged[0].exc_info is not None


async def test_content_length_over_cap_is_413(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/campaigns",
        content=b"x" * (CAP + 1),
        headers={**alice, "Content-Type": "application/json"},
    )
    error = _envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"] == {"max_bytes": CAP}
    assert response.headers["connection"] == "close"


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gateway"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("gateway", 80),
    }


async def _call(app: FastAPI, scope: dict[str, Any], receive: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_declared_oversize_body_is_refused_before_reading(
    app: FastAPI, alice: dict[str, str]
) -> None:
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    auth = (b"authorization", alice["Authorization"].encode())
    scope = _scope("/v1/campaigns", [auth, (b"content-length", str(CAP * 10).encode())])
    sent = await _call(app, scope, receive)
    assert sent[0]["status"] == 413
    assert reads == 0


async def test_chunked_body_is_cut_off_at_the_cap(app: FastAPI, alice: dict[str, str]) -> None:
    chunk, total_chunks = b"x" * 8192, 100
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        more = reads < total_chunks
        return {"type": "http.request", "body": chunk, "more_body": more}

    auth = (b"authorization", alice["Authorization"].encode())
    scope = _scope("/v1/campaigns", [auth, (b"transfer-encoding", b"chunked")])
    sent = await _call(app, scope, receive)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert len(sent) == 2  # nothing the app produced for the cut-off body leaks through
    assert reads == CAP // len(chunk) + 1


async def test_chunked_body_under_the_cap_passes(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_body: dict[str, Any]
) -> None:
    payload = json.dumps(campaign_body).encode()

    async def chunks() -> Any:
        for i in range(0, len(payload), 16):
            yield payload[i : i + 16]

    response = await client.post(
        "/v1/campaigns", content=chunks(), headers={**alice, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text


async def test_request_id_and_access_log_without_secrets(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    campaign_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        response = await client.get(
            f"/v1/campaigns/{campaign_id}", headers={**alice, "X-Request-ID": "bad id with spaces"}
        )
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert request_id != "bad id with spaces"
    assert len(request_id) == 32
    access = [vars(r) for r in caplog.records if r.name.endswith(".access")]
    assert access[-1]["path"] == "/v1/campaigns/{campaign_id}"
    assert access[-1]["status"] == 200
    assert access[-1]["user"] == "alice"
    assert access[-1]["request_id"] == request_id
    assert access[-1]["msg"].startswith("GET /v1/campaigns/{campaign_id} 200 ")
    token = alice["Authorization"].split()[1]
    assert all(token not in r.getMessage() for r in caplog.records)
