"""What both benchmark servers share: the event text (with its publish time) and RSS."""

from __future__ import annotations

import gc
import os
import time

# Kept small so the frame size does not dominate: the harness only needs the phase and the time.
CONTENT = "p={phase} i={index} t={ts:.6f}"


def content(phase: str, index: int) -> str:
    return CONTENT.format(phase=phase, index=index, ts=time.time())


def rss_bytes() -> int:
    gc.collect()
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")
