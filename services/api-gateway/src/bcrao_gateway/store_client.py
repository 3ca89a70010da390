"""draft-store's internal REST (docs/INTERNAL_API.md), over one shared httpx.AsyncClient.

Every call is scoped to a user id. Errors draft-store answers in the envelope come back as ApiError
with the same status, code, message and details; an unreachable or timing-out draft-store is 503
UNAVAILABLE with Retry-After; a refused service credential is our misconfiguration, so the client
sees 500 INTERNAL_ERROR (never AUTH_INVALID, which would tell it to sign in again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote
from uuid import UUID

import httpx
from bcrao_contracts.analysis import ProfileProposal
from bcrao_contracts.api import (
    BlacklistEntryCreate,
    BlacklistEntryOut,
    BlacklistEntryUpdate,
    BlacklistList,
    Campaign,
    CampaignCreate,
    CampaignList,
    CampaignUpdate,
    DraftList,
    DraftPatch,
    GenerateRequest,
    InFlightTaskList,
    ProfileIn,
    ProfileList,
    RegenerateRequest,
    TaskState,
    Usage,
)
from bcrao_contracts.api import Profile as ProfileOut
from bcrao_contracts.base import Contract
from bcrao_contracts.enums import Archetype, DraftStatus, ErrorCode, Plan, TaskStatus
from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.history import DraftHistory
from bcrao_contracts.models import Draft
from bcrao_platform.http import service_client
from pydantic import ValidationError

from bcrao_gateway.config import Settings
from bcrao_gateway.errors import ApiError, unavailable

log = logging.getLogger("bcrao_gateway.store_client")

M = TypeVar("M", bound=Contract)
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class OpenedTask:
    """A task draft-store opened: its GenerateRequested as draft-store serialised it, and parsed.

    draft-store owns the event; the gateway only relays it. `payload` is the exact body draft-store
    answered and is what gets published, so a field a newer draft-store adds reaches the generator
    even when this gateway's contracts do not know it yet. `event` is the tolerant parse, read only
    for the ids the gateway checks and names (task, user, campaign).
    """

    @property
    def live(self) -> bool:
        """Still to be generated, or being generated (a new task always is)."""
        return self.status in (None, TaskStatus.QUEUED, TaskStatus.RUNNING)

    @property
    def to_publish(self) -> bool:
        """A new task, or a replayed one still queued: its GenerateRequested may never have been
        sent (the first attempt died before it did), so it is sent (again); the generator's
        claim makes a second copy harmless."""
        return not self.replayed or self.status in (None, TaskStatus.QUEUED)

    event: GenerateRequested
    payload: bytes
    # The Idempotency-Key found the task it opened before (draft-store answered 200, ADR 0010),
    # and that task's status then (None: not said).
    replayed: bool = False
    status: TaskStatus | None = None


def create_http_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The gateway's one draft-store client (bcrao_platform.http says how it is pooled)."""
    timeout = settings.draft_store_timeout_seconds
    return service_client(
        settings.draft_store_url,
        settings.draft_store_token.get_secret_value(),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
        max_connections=settings.draft_store_max_connections,
        transport=transport,
    )


def _internal_error(message: str) -> ApiError:
    log.error(message)
    return ApiError(500, ErrorCode.INTERNAL_ERROR, "internal error")


def _error_from(response: httpx.Response) -> ApiError:
    status = response.status_code
    if status == 401:
        return _internal_error("draft-store refused the service credential (check the token)")
    try:
        error = response.json()["error"]
        code = ErrorCode(error["code"])
        message = str(error["message"])
        details = error.get("details") or {}
        if not isinstance(details, dict):
            raise TypeError("details is not an object")
    except (ValueError, KeyError, TypeError):
        if status >= 500:
            return unavailable("draft-store is not answering properly", RETRY_AFTER_SECONDS)
        return _internal_error(f"draft-store answered {status} without an error envelope")
    headers = None
    if status in (429, 503):
        headers = {"Retry-After": response.headers.get("Retry-After", str(RETRY_AFTER_SECONDS))}
    return ApiError(status, code, message, details, headers)


class DraftStoreClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    # -- plumbing ------------------------------------------------------------------------------

    @staticmethod
    def _path(user_id: str, *parts: object) -> str:
        segments = [quote(str(part), safe="") for part in (user_id, *parts)]
        return "/internal/users/" + "/".join(segments)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        expected: tuple[int, ...] = (200,),
        json: Any = None,
        params: Any = None,
        if_match: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        if if_match is not None:
            headers = {**(headers or {}), "If-Match": if_match}
        try:
            response = await self._http.request(
                method, path, json=json, params=params, headers=headers
            )
        except httpx.TimeoutException:
            log.warning("draft-store timed out", extra={"method": method})
            raise unavailable("draft-store did not answer in time", RETRY_AFTER_SECONDS) from None
        except httpx.TransportError as exc:
            log.warning("draft-store unreachable: %s", type(exc).__name__)
            raise unavailable("draft-store is unreachable", RETRY_AFTER_SECONDS) from None
        if response.status_code in expected:
            return response
        raise _error_from(response)

    @staticmethod
    def _parse(model: type[M], response: httpx.Response) -> M:
        try:
            return model.parse(response.content)
        except (ValidationError, ValueError) as exc:
            raise _internal_error(
                f"draft-store answered a body that is not a {model.__name__}: {exc}"
            ) from None

    async def ping(self) -> bool:
        try:
            response = await self._http.get("/healthz", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    # -- campaigns -----------------------------------------------------------------------------

    async def create_campaign(self, user_id: str, body: CampaignCreate) -> Campaign:
        r = await self._call(
            "POST", self._path(user_id, "campaigns"), expected=(201, 200), json=_json(body)
        )
        return self._parse(Campaign, r)

    async def list_campaigns(self, user_id: str, limit: int, offset: int) -> CampaignList:
        params = {"limit": limit, "offset": offset}
        r = await self._call("GET", self._path(user_id, "campaigns"), params=params)
        return self._parse(CampaignList, r)

    async def get_campaign(self, user_id: str, campaign_id: UUID) -> Campaign:
        r = await self._call("GET", self._path(user_id, "campaigns", campaign_id))
        return self._parse(Campaign, r)

    async def update_campaign(
        self, user_id: str, campaign_id: UUID, body: CampaignUpdate, if_match: str | None = None
    ) -> Campaign:
        r = await self._call(
            "PATCH",
            self._path(user_id, "campaigns", campaign_id),
            json=_json(body, patch=True),
            if_match=if_match,
        )
        return self._parse(Campaign, r)

    async def delete_campaign(
        self, user_id: str, campaign_id: UUID, if_match: str | None = None
    ) -> None:
        await self._call(
            "DELETE",
            self._path(user_id, "campaigns", campaign_id),
            expected=(204, 200),
            if_match=if_match,
        )

    # -- profiles ------------------------------------------------------------------------------

    async def put_profile(
        self,
        user_id: str,
        campaign_id: UUID,
        subreddit: str,
        body: ProfileIn,
        if_match: str | None = None,
    ) -> tuple[ProfileOut, bool]:
        """The stored profile, and whether it was created (True) or replaced (False)."""
        path = self._path(user_id, "campaigns", campaign_id, "profiles", subreddit)
        r = await self._call("PUT", path, expected=(200, 201), json=_json(body), if_match=if_match)
        return self._parse(ProfileOut, r), r.status_code == 201

    async def list_profiles(self, user_id: str, campaign_id: UUID) -> ProfileList:
        r = await self._call("GET", self._path(user_id, "campaigns", campaign_id, "profiles"))
        return self._parse(ProfileList, r)

    async def get_profile(self, user_id: str, campaign_id: UUID, subreddit: str) -> ProfileOut:
        path = self._path(user_id, "campaigns", campaign_id, "profiles", subreddit)
        return self._parse(ProfileOut, await self._call("GET", path))

    async def analyze_profile(
        self, user_id: str, campaign_id: UUID, subreddit: str, payload: Any
    ) -> ProfileProposal:
        """A proposed profile from posts; the posts go through as sent (draft-store parses both
        shapes and answers 422 with the reason)."""
        path = self._path(user_id, "campaigns", campaign_id, "profiles", subreddit, "analyze")
        return self._parse(ProfileProposal, await self._call("POST", path, json=payload))

    # -- blacklist -----------------------------------------------------------------------------

    async def list_blacklist(self, user_id: str, campaign_id: UUID) -> BlacklistList:
        r = await self._call("GET", self._path(user_id, "campaigns", campaign_id, "blacklist"))
        return self._parse(BlacklistList, r)

    async def create_blacklist_entry(
        self, user_id: str, campaign_id: UUID, body: BlacklistEntryCreate
    ) -> BlacklistEntryOut:
        path = self._path(user_id, "campaigns", campaign_id, "blacklist")
        r = await self._call("POST", path, expected=(201, 200), json=_json(body))
        return self._parse(BlacklistEntryOut, r)

    async def update_blacklist_entry(
        self,
        user_id: str,
        entry_id: UUID,
        body: BlacklistEntryUpdate,
        if_match: str | None = None,
    ) -> BlacklistEntryOut:
        path = self._path(user_id, "blacklist", entry_id)
        try:
            r = await self._call("PATCH", path, json=_json(body, patch=True), if_match=if_match)
        except ApiError as exc:
            if exc.status != 405:
                raise
            # draft-store 0.2.0 has no PATCH here (a rolling upgrade is under way): say so.
            raise unavailable(
                "editing blacklist entries needs a newer draft-store than the one answering; "
                "try again once the upgrade is done, or delete the entry and add it again",
                RETRY_AFTER_SECONDS,
            ) from None
        return self._parse(BlacklistEntryOut, r)

    async def delete_blacklist_entry(
        self, user_id: str, entry_id: UUID, if_match: str | None = None
    ) -> None:
        path = self._path(user_id, "blacklist", entry_id)
        await self._call("DELETE", path, expected=(204, 200), if_match=if_match)

    # -- drafts --------------------------------------------------------------------------------

    async def list_drafts(
        self,
        user_id: str,
        campaign_id: UUID,
        *,
        statuses: list[DraftStatus],
        subreddit: str | None,
        limit: int,
        offset: int,
        search: str | None = None,
        archetype: Archetype | None = None,
        needs_review: bool | None = None,
        sort: str = "newest",
    ) -> DraftList:
        params: list[tuple[str, str | int]] = [("status", s.value) for s in statuses]
        if subreddit is not None:
            params.append(("subreddit", subreddit))
        if search:
            params.append(("q", search))
        if archetype is not None:
            params.append(("archetype", archetype.value))
        if needs_review is not None:
            params.append(("needs_review", "true" if needs_review else "false"))
        if sort != "newest":
            params.append(("sort", sort))
        params += [("limit", limit), ("offset", offset)]
        path = self._path(user_id, "campaigns", campaign_id, "drafts")
        return self._parse(DraftList, await self._call("GET", path, params=params))

    async def get_draft(self, user_id: str, draft_id: UUID) -> Draft:
        return self._parse(Draft, await self._call("GET", self._path(user_id, "drafts", draft_id)))

    async def patch_draft(
        self, user_id: str, draft_id: UUID, body: DraftPatch, if_match: str | None = None
    ) -> Draft:
        path = self._path(user_id, "drafts", draft_id)
        r = await self._call("PATCH", path, json=_json(body, patch=True), if_match=if_match)
        return self._parse(Draft, r)

    async def get_draft_history(self, user_id: str, draft_id: UUID) -> DraftHistory:
        path = self._path(user_id, "drafts", draft_id, "history")
        return self._parse(DraftHistory, await self._call("GET", path))

    async def delete_draft(self, user_id: str, draft_id: UUID, if_match: str | None = None) -> None:
        path = self._path(user_id, "drafts", draft_id)
        await self._call("DELETE", path, expected=(204, 200), if_match=if_match)

    # -- tasks and quota -----------------------------------------------------------------------

    async def open_task(
        self,
        user_id: str,
        campaign_id: UUID,
        body: GenerateRequest,
        idempotency_key: str | None = None,
        *,
        replay_only: bool = False,
    ) -> OpenedTask:
        """Open a generation task (quota unit reserved); answers the event to relay. With an
        Idempotency-Key, the user's task opened before with that key and request comes back
        instead (`replayed`); `replay_only` asks for that task only (404 when there is none)."""
        path = self._path(user_id, "campaigns", campaign_id, "tasks")
        return await self._open(path, _json(body), idempotency_key, replay_only)

    async def open_regeneration(
        self,
        user_id: str,
        draft_id: UUID,
        body: RegenerateRequest,
        idempotency_key: str | None = None,
        *,
        replay_only: bool = False,
    ) -> OpenedTask:
        path = self._path(user_id, "drafts", draft_id, "tasks")
        return await self._open(path, _json(body), idempotency_key, replay_only)

    async def _open(
        self, path: str, body: dict[str, Any], key: str | None, replay_only: bool
    ) -> OpenedTask:
        # A header, never a body field: a draft-store a release behind ignores it (ADR 0007).
        headers = {"Idempotency-Key": key} if key is not None else None
        if replay_only:
            path += "/replay"  # a draft-store without it answers 404, as for an unknown key
        r = await self._call("POST", path, expected=(201, 200), json=body, headers=headers)
        event = self._parse(GenerateRequested, r)
        if r.status_code == 201 or key is None:
            return OpenedTask(event, r.content)
        try:
            status: TaskStatus | None = TaskStatus(r.headers.get("Task-Status", ""))
        except ValueError:
            status = None
        return OpenedTask(event, r.content, replayed=True, status=status)

    async def release_task(self, user_id: str, task_id: UUID, *, code: str, message: str) -> None:
        """Mark a queued task failed and give its unit back (publishing its event failed)."""
        path = self._path(user_id, "tasks", task_id, "release")
        body = {"code": code, "message": message}
        await self._call("POST", path, expected=(204, 200), json=body)

    async def in_flight_tasks(self, user_id: str, campaign_id: UUID) -> InFlightTaskList:
        path = self._path(user_id, "campaigns", campaign_id, "tasks")
        return self._parse(InFlightTaskList, await self._call("GET", path))

    async def get_task(self, user_id: str, task_id: UUID) -> TaskState | None:
        try:
            r = await self._call("GET", self._path(user_id, "tasks", task_id))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return self._parse(TaskState, r)

    async def get_usage(self, user_id: str) -> Usage:
        return self._parse(Usage, await self._call("GET", self._path(user_id, "usage")))

    async def set_plan(self, user_id: str, plan: Plan) -> Usage:
        """Admin path; the public API never exposes it."""
        r = await self._call("PUT", self._path(user_id, "plan"), json={"plan": plan.value})
        return self._parse(Usage, r)


def _json(body: Contract, *, patch: bool = False) -> dict[str, Any]:
    """Only the fields the client set: a PATCH's explicit null still clears a field, and a
    field added in a later release is not sent unless the client used it, so a draft-store one
    release behind (which refuses fields it does not know) keeps working (ADR 0007). draft-store
    fills the rest from the same contract's defaults. `patch` is kept for the call sites."""
    del patch
    return body.model_dump(mode="json", exclude_unset=True)
