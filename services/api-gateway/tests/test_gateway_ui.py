"""The web UI's static files: `/` serves the page, `/ui/*` its assets and nothing else."""

from __future__ import annotations

from bcrao_gateway.ui import mount_ui
from fastapi import FastAPI
from fastapi.testclient import TestClient


def _client() -> TestClient:
    app = FastAPI()
    mount_ui(app)
    return TestClient(app)


def test_index_is_served_at_the_root_with_a_strict_policy() -> None:
    response = _client().get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script src="/ui/app.js"' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy


def test_assets_are_served_under_ui() -> None:
    client = _client()
    script = client.get("/ui/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    style = client.get("/ui/style.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


def test_python_files_of_the_package_are_not_served() -> None:
    client = _client()
    assert client.get("/ui/__init__.py").status_code == 404
    assert client.get("/ui/__pycache__/x.pyc").status_code == 404
    assert client.get("/ui/../app.py").status_code == 404


def test_the_page_renders_server_text_without_innerhtml() -> None:
    script = _client().get("/ui/app.js").text
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
