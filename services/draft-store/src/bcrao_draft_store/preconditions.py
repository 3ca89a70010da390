"""If-Match on writes: a stale version is refused with the state the writer did not see."""

from __future__ import annotations

from bcrao_contracts.base import Contract
from bcrao_contracts.versioning import matches

from .errors import PreconditionFailed


def require_version(if_match: str | None, current: Contract | None, what: str) -> None:
    """Refuse (412) a write whose If-Match does not name `current`'s version. Called with the
    row locked, so nobody changes it between this check and the write."""
    version = getattr(current, "version", None) if current is not None else None
    if matches(if_match, version):
        return
    state = current.model_dump(mode="json") if current is not None else None
    message = (
        f"this {what} was changed since you loaded it; reload it, or send your change again "
        "with the current version"
        if current is not None
        else f"this {what} no longer exists"
    )
    raise PreconditionFailed(message, {"current": state, "version": version})
