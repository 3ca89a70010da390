"""docs/CONFIGURATION.md is generated from the settings classes and must not drift from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from bcrao_stacktest.catalog import SERVICES, env_vars
from bcrao_stacktest.scripts import load_script

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts/gen_config_reference.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return load_script("gen_config_reference")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def rows(text: str) -> dict[str, list[str]]:
    table = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            table[cells[0].strip("`")] = cells[1:]
    return table


def test_the_committed_reference_is_current() -> None:
    done = run("--check")
    assert done.returncode == 0, done.stderr


def test_a_stale_reference_is_detected(tmp_path: Path) -> None:
    copy = tmp_path / "CONFIGURATION.md"
    assert run("--output", str(copy)).returncode == 0
    copy.write_text(copy.read_text().replace("`GATEWAY_PORT`", "`GATEWAY_OLD_PORT`"))
    done = run("--check", "--output", str(copy))
    assert done.returncode == 1
    assert "run `make docs`" in done.stderr


def test_every_variable_has_one_described_row() -> None:
    table = rows((ROOT / "docs/CONFIGURATION.md").read_text())
    expected = {v.name for s in SERVICES for v in env_vars(s.settings, s.prefix)}
    assert set(table) == expected
    undescribed = sorted(name for name, (_t, _d, text) in table.items() if not text)
    assert not undescribed, f"give these a Field(description=...): {undescribed}"


def test_secrets_show_no_value() -> None:
    table = rows((ROOT / "docs/CONFIGURATION.md").read_text())
    for service in SERVICES:
        for var in env_vars(service.settings, service.prefix):
            if var.secret:
                kind, default, _ = table[var.name]
                assert kind.startswith("secret")
                want = "(secret, required)" if var.required else "(secret, optional)"
                assert default == want


def test_extra_descriptions_name_real_settings(generator: ModuleType) -> None:
    known = {v.name for s in SERVICES for v in env_vars(s.settings, s.prefix)}
    assert set(generator.EXTRA) <= known, set(generator.EXTRA) - known
