"""Bounded load through the public API: users generating, browser-like SSE readers, deletions.

Everything runs as asyncio tasks in the caller's loop against 127.0.0.1, bounded by a count and
a deadline. Each generation's context carries a nonce (`fz-<hex>`) so the fake LLM's log and the
database's task rows can be joined to what the client saw; the nonce is its Idempotency-Key
too, as the page sends one per click (a release that keeps no keys ignores the header). What
was sent and seen is kept in `LoadRecord`, the load half of a `history.History`.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from bcrao_contracts import demo

from .history import DeletedDraft, Message, StreamLog, Submission
from .sse_client import Followed, Frame, follow_stream

NONCE = re.compile(r"fz-[0-9a-f]{12}")


def user_token(secret: str, user: str, ttl: int = 7200) -> str:
    """A user token the gateways of a test deployment accept (HS256, the dev issuer/audience)."""
    import jwt

    now = int(time.time())
    claims = {"sub": user, "iss": "bcrao-drafts", "aud": "bcrao-api", "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


@dataclass
class LoadRecord:
    submissions: list[Submission] = field(default_factory=list)
    streams: list[StreamLog] = field(default_factory=list)
    deleted: list[DeletedDraft] = field(default_factory=list)
    completions: list[float] = field(default_factory=list)  # wall time of each `complete`
    transport_errors: int = 0

    def accepted(self) -> int:
        return sum(1 for s in self.submissions if s.status == 202)


@dataclass
class LoadPlan:
    users: int = 6
    generations: int = 30
    rate: float = 6.0  # generate POSTs per second, all users together
    stream_timeout: float = 180.0
    delete_every: int = 5  # the user deletes every n-th completed draft (0: never)
    gated_every: int = 10  # every n-th request is for a gated pair and must fail (0: never)
    chaos: Callable[[int], str] = lambda index: ""  # per-request fault directive for the LLM
    user_prefix: str = field(default_factory=lambda: f"fz{secrets.token_hex(3)}")


class LoadDriver:
    def __init__(
        self,
        gateway_url: str,
        token_for: Callable[[str], str],
        plan: LoadPlan,
        *,
        set_plan: Callable[[str], object] | None = None,
    ) -> None:
        self.url = gateway_url
        self.token_for = token_for
        self.plan = plan
        self.set_plan = set_plan
        self.record = LoadRecord()
        self.campaigns: dict[str, str] = {}
        self._followers: list[asyncio.Task[None]] = []
        self._clients: dict[str, httpx.AsyncClient] = {}

    def client(self, user: str) -> httpx.AsyncClient:
        if user not in self._clients:
            self._clients[user] = httpx.AsyncClient(
                base_url=self.url,
                headers={"Authorization": f"Bearer {self.token_for(user)}"},
                timeout=httpx.Timeout(30, connect=5),
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            )
        return self._clients[user]

    async def setup(self) -> None:
        """One campaign per user, through the public API, and a plan without a unit limit."""
        users = [f"{self.plan.user_prefix}-u{i}" for i in range(self.plan.users)]
        for user in users:
            if self.set_plan is not None:
                await asyncio.to_thread(self.set_plan, user)
            client = self.client(user)
            # Only what differs from the defaults: a release that predates a field refuses it.
            body = demo.CAMPAIGN.model_dump(mode="json", exclude_defaults=True)
            created = await client.post("/v1/campaigns", json=body)
            created.raise_for_status()
            campaign = str(created.json()["id"])
            for subreddit, profile in demo.PROFILES.items():
                put = await client.put(
                    f"/v1/campaigns/{campaign}/profiles/{subreddit}",
                    json=profile.model_dump(mode="json", exclude_defaults=True),
                )
                put.raise_for_status()
            self.campaigns[user] = campaign

    async def run(self, generations: int | None = None) -> None:
        """Sends `generations` requests at the plan's rate; followers keep reading afterwards."""
        count = self.plan.generations if generations is None else generations
        users = list(self.campaigns)
        start = len(self.record.submissions)
        senders = []
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for i in range(count):
            index = start + i
            await asyncio.sleep(max(0.0, t0 + i / self.plan.rate - loop.time()))
            senders.append(asyncio.create_task(self._generate(users[index % len(users)], index)))
        await asyncio.gather(*senders)

    async def drain(self) -> None:
        """Waits for every follower to finish (each is bounded by the plan's stream timeout)."""
        while self._followers:
            followers, self._followers = self._followers, []
            await asyncio.gather(*followers)

    async def close(self) -> None:
        for follower in self._followers:
            follower.cancel()
        for client in self._clients.values():
            await client.aclose()

    async def _generate(self, user: str, index: int) -> None:
        nonce = f"fz-{secrets.token_hex(6)}"
        gated = self.plan.gated_every and index % self.plan.gated_every == self.plan.gated_every - 1
        body = {
            "subreddit": "selfhosted" if gated else "SaaS",
            "archetype": "Journey" if gated else "ProblemSolution",
            "context": f"Chasing late invoices, ref {nonce} {self.plan.chaos(index)}".strip(),
        }
        url = f"/v1/campaigns/{self.campaigns[user]}/drafts/generate"
        try:
            answer = await self.client(user).post(
                url, json=body, headers={"Idempotency-Key": nonce}
            )
        except httpx.HTTPError:
            self.record.transport_errors += 1
            self.record.submissions.append(Submission(nonce, user, None))
            return
        if answer.status_code != 202:
            self.record.submissions.append(Submission(nonce, user, answer.status_code))
            return
        accepted = answer.json()
        task_id = str(accepted["task_id"])
        self.record.submissions.append(Submission(nonce, user, 202, task_id))
        follower = self._follow(user, task_id, str(accepted["stream_url"]))
        self._followers.append(asyncio.create_task(follower))

    async def _follow(self, user: str, task_id: str, stream_url: str) -> None:
        frames: list[Frame] = []
        status = {"last": 0}

        def seen(frame: Frame, followed: Followed) -> None:
            frames.append(frame)
            status["last"] = followed.attempts[-1].status_code
            if frame.data and frame.data.get("type") == "complete":
                self.record.completions.append(time.time())

        client = self.client(user)
        # follow_stream's own timeout bounds each read, not the whole stream: a stream that only
        # sends heartbeats would be followed forever, so the whole reader is bounded here.
        try:
            async with asyncio.timeout(self.plan.stream_timeout):
                followed = await follow_stream(
                    client,
                    stream_url,
                    timeout=self.plan.stream_timeout,
                    retry_delay=0.5,
                    max_attempts=1000,
                    on_message=seen,
                )
            if followed.attempts:
                status["last"] = followed.attempts[-1].status_code
        except TimeoutError:
            status["last"] = status["last"] or 200
        messages = []
        for frame in frames:
            data = frame.data or {}
            draft = data.get("draft") if data.get("type") == "complete" else None
            draft_id = str(draft["id"]) if isinstance(draft, dict) else None
            messages.append(Message(frame.id, str(data.get("type")), draft_id))
        self.record.streams.append(StreamLog(task_id, tuple(messages), True, status["last"]))
        done = messages[-1] if messages else None
        every = self.plan.delete_every
        if done and done.draft_id and every and len(self.record.completions) % every == 0:
            try:
                deleted = await client.delete(f"/v1/drafts/{done.draft_id}")
            except httpx.HTTPError:
                return
            if deleted.status_code == 204:
                self.record.deleted.append(DeletedDraft(done.draft_id, task_id))
