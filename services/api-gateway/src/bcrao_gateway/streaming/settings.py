"""Tunables of the SSE subsystem; nested in the gateway Settings as `stream` (GATEWAY_STREAM__*)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StreamSettings(BaseModel):
    ping_seconds: float = Field(default=15.0, gt=0, le=300)
    retry_ms: int = Field(default=3000, ge=0, le=600_000)
    # A stream ends after this long; the browser reconnects with Last-Event-ID, which also
    # re-balances long-lived connections across gateway instances.
    max_lifetime_seconds: float = Field(default=900.0, gt=0)
    # Messages a client may lag behind its task before it is dropped (it reconnects and resumes).
    client_queue_size: int = Field(default=256, ge=1)
    # A client whose socket accepts nothing for this long is dropped, so a reader that stopped
    # reading never holds a stream (and its buffers) open.
    send_timeout_seconds: float = Field(default=15.0, gt=0)
    buffer_max_tasks: int = Field(default=10_000, ge=1)
    buffer_max_events_per_task: int = Field(default=2000, ge=2)
    # An unfinished task leaves the buffer this long after its last event.
    buffer_ttl_seconds: float = Field(default=1800.0, gt=0)
    # A finished task leaves it this long after its terminal event: its streams have ended, and
    # a client reconnecting later is answered from draft-store (the task's final message), so
    # finished tasks no longer fill the buffer up to `buffer_max_tasks` under steady load.
    buffer_finished_ttl_seconds: float = Field(default=120.0, gt=0)
    # How far back a (re)started gateway reads the topics to rebuild recent tasks.
    replay_seconds: float = Field(default=900.0, ge=0)
    shutdown_farewell: bool = True
    # A seq gap still open this long after the reader caught up will not be filled (its events
    # predate the replay window): deliver past it rather than hold the stream forever.
    gap_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long a stream request for a task the hub does not know waits for the replay to catch up
    # before asking draft-store, so a restarted gateway does not answer from stale state.
    catch_up_wait_seconds: float = Field(default=3.0, ge=0)
    # How often the stream reader checks that the broker answers (readiness fails when not).
    reader_check_seconds: float = Field(default=5.0, gt=0, le=300)
    # How often the stream reader looks for new partitions and late-created topics (this fetches
    # the metadata of every topic in the cluster, so not too often).
    reader_refresh_seconds: float = Field(default=30.0, gt=0, le=3600)
    # The reader is also watched by bcrao_platform.consumers: without its partitions or without
    # polling this long it is recreated in the process (the process exits if that fails) ...
    consumer_rejoin_seconds: float = Field(default=30.0, ge=1, le=3600)
    # ... and not polled for this long it is stalled: /readyz answers 503.
    consumer_poll_seconds: float = Field(default=60.0, ge=1, le=3600)
    # How long a fetch of the stream reader waits for `fetch_min_bytes` before the broker answers.
    # 10 ms with 64 KiB halved the reader's CPU at 500 progress events a second (3.0 -> 1.9 s per
    # 8 s; every fetch names all 72 partitions, aiokafka has no incremental fetch sessions) and
    # took a fifth off the broker's; the price is up to 10 ms per event under light traffic and a
    # hundred fetches a second when idle (docs/OPERATIONS.md, "Idle gateways").
    fetch_wait_ms: int = Field(default=10, ge=0, le=30_000)
    # The bytes a fetch of the stream reader waits for (at most `fetch_wait_ms`); 1 answers as
    # soon as there is a record, which suits a mostly idle deployment (with 500 ms of wait).
    fetch_min_bytes: int = Field(default=64 * 1024, ge=1, le=64 * 1024 * 1024)
