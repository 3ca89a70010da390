"""The web UI: index.html, ES modules (app.js imports the rest; no build step) and two
stylesheets, served by the gateway itself.

`mount_ui(app)` serves `GET /` (index.html) and `/ui/<asset>`. Same origin as the API, so the
page needs no CORS and the stream URL's relative path resolves against it. The files sit inside
the package directory, so hatchling ships them in the wheel with the Python modules.

The modules: app.js (wiring), api.js (fetch, error envelope), rules.js (everything GET /v1/rules
says, turned into words and decisions), campaigns.js, profiles.js + profile_editor.js,
blacklist.js, generate.js, stream.js + sse.js (the SSE reader over fetch, reconnection),
draftview.js + marks.js (a draft, its reports and its marked hits), drafts.js, bulk.js (several
drafts at once), detail.js, history.js, and small helpers (dom.js, errors.js, dialog.js,
token.js, usage.js, schema.js, state.js). Text from the server or the user is only ever set with
textContent.

Only the UI's own asset types are served from this folder: `__init__.py` and `__pycache__`
live here too and are nobody's business.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

UI_DIR = Path(__file__).resolve().parent
INDEX = UI_DIR / "index.html"
ASSET_SUFFIXES = frozenset({".html", ".js", ".css", ".svg", ".png", ".ico", ".woff2"})

# Everything the page loads comes from this origin; server text is rendered with textContent.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is tiny and changes with each deploy: always revalidate (ETag makes it cheap).
    "Cache-Control": "no-cache",
}


class _UiAssets(StaticFiles):
    """StaticFiles limited to the UI's asset types, with the UI's security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if Path(path).suffix.lower() not in ASSET_SUFFIXES or "__pycache__" in path:
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


async def _index() -> FileResponse:
    return FileResponse(INDEX, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


def mount_ui(app: FastAPI) -> None:
    """Serve the UI: `GET /` → index.html, `/ui/*` → its assets. Call once, after the API routes."""
    app.add_api_route("/", _index, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/ui", _UiAssets(directory=UI_DIR), name="ui")
