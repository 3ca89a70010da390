"""The repository's generator scripts (scripts/gen_*.py) loaded as modules, so a drift check
calls their `render` in the test's own process instead of starting an interpreter that imports
every service again."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[4]


@cache
def load_script(name: str) -> ModuleType:
    """`scripts/<name>.py` as a module (loaded once per process)."""
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
