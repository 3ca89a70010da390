"""The installed package's version, reported by /healthz and the OpenAPI document."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("bcrao-api-gateway")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0+unknown"
