"""`BENCH_PROFILE=1`: py-spy on the three services during one round of a benchmark.

Off by default: the sampler's own CPU would be taken from the services it watches on two
cores. Writes bench/out/profiles/<label>-<service>.txt (collapsed stacks, for flamegraph tools)
and returns, per service, the functions with the most samples on top of the stack (self time).
Only threads holding the GIL are sampled (`--gil`): the CPU the service spends, not its waits.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from system import OUT

TOP = 6


def enabled() -> bool:
    wanted = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
    return wanted and (Path(_py_spy()).exists() or shutil.which("py-spy") is not None)


def _py_spy() -> str:
    venv = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "py-spy"
    return str(venv) if venv.exists() else "py-spy"


@contextmanager
def profile(label: str, pids: dict[str, int], summary: dict[str, list[str]]) -> Iterator[None]:
    if not enabled():
        yield
        return
    folder = OUT / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    samplers = {}
    for name, pid in pids.items():
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        path = folder / f"{slug}-{name}.txt"
        samplers[name] = (
            path,
            subprocess.Popen(
                [
                    _py_spy(),
                    "record",
                    "--pid",
                    str(pid),
                    "--gil",
                    "--rate",
                    os.environ.get("BENCH_PROFILE_RATE", "50"),
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--output",
                    str(path),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        )
    try:
        yield
    finally:
        for _, proc in samplers.values():
            proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        for name, (path, proc) in samplers.items():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            summary[f"{label} {name}"] = top_self(path)


def top_self(path: Path) -> list[str]:
    """'function (file:line) 12.3 %' for the frames most often on top of the stack."""
    if not path.exists():
        return ["(no samples: py-spy could not attach?)"]
    counts: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[stack.split(";")[-1]] += int(count)
    total = sum(counts.values()) or 1
    return [f"{frame} {100 * n / total:.1f} %" for frame, n in counts.most_common(TOP)]
