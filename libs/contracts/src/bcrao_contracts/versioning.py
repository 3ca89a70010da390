"""Versions of what a person edits (campaigns, profiles, blacklist entries, drafts).

A version is a digest of the resource as the API shows it (everything but `version` itself), so
any change to what a reader saw gives a new one, whoever made it. The API returns it as the
`ETag` header and the `version` field; a PATCH, PUT or DELETE with `If-Match` applies only while
the resource still has that version (412 PRECONDITION_FAILED, with the current state, when not).
Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def version_of(model: BaseModel) -> str:
    """The version of a resource: a digest of its JSON without the `version` field."""
    raw = model.model_dump_json(exclude={"version"})
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def versioned(model: M) -> M:
    """The model with its `version` field filled in."""
    return model.model_copy(update={"version": version_of(model)})


def etag(version: str) -> str:
    """The strong entity tag of a version, as it goes in `ETag`."""
    return f'"{version}"'


def if_match_tags(header: str) -> list[str] | None:
    """The versions an `If-Match` header names; None for `*` (any current version)."""
    tags: list[str] = []
    for part in header.split(","):
        tag = part.strip()
        if tag == "*":
            return None
        tag = tag.removeprefix("W/")
        if len(tag) >= 2 and tag.startswith('"') and tag.endswith('"'):
            tag = tag[1:-1]
        if tag:
            tags.append(tag)
    return tags


def matches(header: str | None, current: str | None) -> bool:
    """Whether a write with this `If-Match` may apply to a resource at version `current`
    (None: it does not exist). No header always matches; `*` matches any existing resource."""
    if header is None or not header.strip():
        return True
    tags = if_match_tags(header)
    if current is None:
        return False
    return tags is None or current in tags
