"""The release record and the contract evolution rules (ADR 0007), checked on every `make test`.

- Every release in RELEASES.toml names a real commit whose package version is the one recorded,
  and its schema snapshots are in releases/; RELEASES.md is the record rendered.
- The current JSON Schema of every event and of draft-store's internal API is compared with the
  last release's snapshot: a breaking change (removed field or schema or endpoint, changed type,
  new required field, changed enum) fails unless the package's major version went up.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from bcrao_testkit import releases
from bcrao_testkit.schema_compat import allowed, catalogue_breaks, major, openapi_breaks

RECORD = releases.read_record()


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=releases.ROOT, check=True, capture_output=True, text=True
    ).stdout


def test_every_package_and_service_has_a_release() -> None:
    assert {r.package for r in RECORD} == set(releases.PACKAGES)


@pytest.mark.parametrize("release", RECORD, ids=lambda r: f"{r.package}-{r.version}")
def test_a_release_names_a_full_commit_holding_its_version(release: releases.Release) -> None:
    assert len(release.commit) == 40, "record the full commit hash"
    if subprocess.run(
        ["git", "cat-file", "-e", f"{release.commit}^{{commit}}"], cwd=releases.ROOT
    ).returncode:
        pytest.skip(f"{release.commit} is not in this clone (a shallow one)")
    path = f"{release.commit}:{releases.PACKAGES[release.package]}/pyproject.toml"
    assert tomllib.loads(git("show", path))["project"]["version"] == release.version


@pytest.mark.parametrize("release", RECORD, ids=lambda r: f"{r.package}-{r.version}")
def test_a_release_keeps_its_schema_snapshots(release: releases.Release) -> None:
    folder = releases.snapshot_dir(release.package, release.version)
    kept = (
        {str(p.relative_to(folder)) for p in folder.rglob("*.json")} if folder.exists() else set()
    )
    if release.package in ("contracts", "draft-store"):
        assert kept, f"releases/{release.package}/{release.version}/ is missing"
    else:  # the other packages publish no schema of their own
        assert kept == set()
        assert releases.snapshot_files(release.package) == {}


def test_versions_only_move_forward() -> None:
    for package in releases.PACKAGES:
        last = releases.last_release(package, RECORD)
        assert major(releases.current_version(package)) >= major(last.version)
        current = tuple(int(p) for p in releases.current_version(package).split("."))
        assert current >= tuple(int(p) for p in last.version.split(".")), package


def test_releases_md_is_the_record_rendered() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/release.py", "render", "--check"],
        cwd=releases.ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_events_keep_the_last_release_compatible() -> None:
    last = releases.last_release("contracts", RECORD)
    breaks = catalogue_breaks(releases.released_events(last.version), releases.event_schemas())
    current = releases.current_version("contracts")
    assert allowed(breaks, last.version, current), (
        f"breaking changes to the events since contracts {last.version} (ADR 0007): add fields "
        f"as optional, or a new schema_version read side by side, or raise the major version "
        f"of bcrao-contracts (now {current}):\n" + "\n".join(map(str, breaks))
    )


def test_internal_api_keeps_the_last_release_compatible() -> None:
    last = releases.last_release("draft-store", RECORD)
    breaks = openapi_breaks(
        releases.released_internal_api(last.version), releases.internal_api_schema()
    )
    current = releases.current_version("draft-store")
    assert allowed(breaks, last.version, current), (
        f"breaking changes to draft-store's internal API since {last.version} (ADR 0007): "
        f"add optional fields and new endpoints only, or raise the major version of "
        f"bcrao-draft-store (now {current}):\n" + "\n".join(map(str, breaks))
    )
