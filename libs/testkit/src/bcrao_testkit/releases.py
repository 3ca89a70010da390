"""The release record (RELEASES.toml), the schema snapshots of each release (releases/), and the
checkout of a release as a git worktree with its own locked environment (.state/releases/).

    RELEASES.toml                              every release of every package: version, commit
    releases/contracts/<version>/events/*.json the JSON Schema of every event, per schema version
    releases/draft-store/<version>/internal-api.json   draft-store's internal REST (OpenAPI)

`scripts/release.py` cuts a release and renders RELEASES.md; `tests/test_releases.py` compares
the current schemas with the last release's snapshots (ADR 0007); `make compat` and the fault
suite's rolling upgrade run a release's services from its worktree.
"""

from __future__ import annotations

import fcntl
import inspect
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[4]
RECORD = ROOT / "RELEASES.toml"
SNAPSHOTS = ROOT / "releases"
WORKTREES = ROOT / ".state" / "releases"

# package (as RELEASES.toml names it) -> its folder in the workspace
PACKAGES = {
    "api-gateway": "services/api-gateway",
    "generator": "services/generator",
    "draft-store": "services/draft-store",
    "contracts": "libs/contracts",
    "rules": "libs/rules",
    "platform": "libs/platform",
    "testkit": "libs/testkit",
}
SERVICES = ("api-gateway", "generator", "draft-store")


@dataclass(frozen=True)
class Release:
    package: str
    version: str
    commit: str
    date: str
    notes: str = ""


def read_record(path: Path = RECORD) -> list[Release]:
    data = tomllib.loads(path.read_text())
    return [Release(**entry) for entry in data.get("release", [])]


def last_release(package: str, record: list[Release] | None = None) -> Release:
    """The newest release of `package` (the record lists releases oldest first)."""
    releases = [
        r for r in (record if record is not None else read_record()) if r.package == package
    ]
    if not releases:
        raise LookupError(f"{package} has no release in {RECORD.name}")
    return releases[-1]


def current_version(package: str, root: Path = ROOT) -> str:
    data = tomllib.loads((root / PACKAGES[package] / "pyproject.toml").read_text())
    return str(data["project"]["version"])


# -- schemas --------------------------------------------------------------------------------------


def event_schemas() -> dict[str, dict[str, Any]]:
    """Every event model of bcrao_contracts, keyed "<event_type>.v<schema_version>"."""
    from bcrao_contracts import events
    from bcrao_contracts.base import Contract

    found: dict[str, dict[str, Any]] = {}
    for _, cls in inspect.getmembers(events, inspect.isclass):
        if not issubclass(cls, Contract):
            continue
        event_type = cls.model_fields.get("event_type")
        version = cls.model_fields.get("schema_version")
        if event_type is None or version is None or not isinstance(event_type.default, str):
            continue
        found[f"{event_type.default}.v{version.default}"] = cls.model_json_schema()
    return found


def internal_api_schema() -> dict[str, Any]:
    """draft-store's internal REST as OpenAPI, without the parts that change every release.

    Input and output schemas are not split (`separate_input_output_schemas`): a field with a
    default is optional on both sides, so adding one is not mistaken for a new required field.
    """
    from bcrao_draft_store.app import create_app
    from bcrao_draft_store.config import Settings

    # A placeholder token: building the document reads no secret and opens no connection.
    app = create_app(Settings(service_token="s" * 32))
    app.separate_input_output_schemas = False
    document = app.openapi()
    document.pop("info", None)
    return document


def dump(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def snapshot_files(package: str) -> dict[str, str]:
    """The files (relative path -> text) a release of `package` keeps in releases/."""
    if package == "contracts":
        return {f"events/{name}.json": dump(s) for name, s in sorted(event_schemas().items())}
    if package == "draft-store":
        return {"internal-api.json": dump(internal_api_schema())}
    return {}


def snapshot_dir(package: str, version: str) -> Path:
    return SNAPSHOTS / package / version


def released_events(version: str) -> dict[str, dict[str, Any]]:
    folder = snapshot_dir("contracts", version) / "events"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def released_internal_api(version: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (snapshot_dir("draft-store", version) / "internal-api.json").read_text()
    )
    return data


# -- release checkouts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkout:
    """A release's source and its own environment: run its services with `python`."""

    commit: str
    path: Path

    @property
    def python(self) -> str:
        return str(self.path / ".venv" / "bin" / "python")


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time builds a checkout (two pytest runs may want the same one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def checkout(commit: str, root: Path = ROOT) -> Checkout:
    """The release at `commit` in .state/releases/<commit>: a detached git worktree with its
    own locked environment (`uv sync --frozen`, as bootstrap does). Built once, then reused;
    a checkout whose environment is complete is marked by `.state/releases/<commit>.ready`."""
    commit = _git("rev-parse", "--verify", f"{commit}^{{commit}}", cwd=root)
    base = root / ".state" / "releases"
    path, ready = base / commit, base / f"{commit}.ready"
    with _locked(base / f"{commit}.lock"):
        if ready.exists() and (path / ".venv" / "bin" / "python").exists():
            return Checkout(commit, path)
        if not (path / ".git").exists():
            _git("worktree", "prune", cwd=root)  # forget a worktree whose folder was removed
            _git("worktree", "add", "--detach", "--force", str(path), commit, cwd=root)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env["UV_PYTHON_DOWNLOADS"] = "never"
        # The interpreter this environment was built on (the venv's python resolves to it).
        interpreter = os.path.realpath(sys.executable)
        subprocess.run(
            ["uv", "sync", "--frozen", "--quiet", "--python", interpreter],
            cwd=path,
            env=env,
            check=True,
        )
        ready.write_text(commit + "\n")
    return Checkout(commit, path)


def release_checkout(package: str, root: Path = ROOT) -> Checkout:
    """The checkout of `package`'s last release."""
    return checkout(last_release(package).commit, root)
