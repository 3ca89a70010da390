"""TaskHub: ordering, resume, idempotence, fan-out and bounds, with no I/O."""

from __future__ import annotations

import asyncio
import json
from uuid import uuid4

import pytest
from bcrao_gateway.streaming.hub import SubState, TaskHub
from bcrao_gateway.streaming.settings import StreamSettings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ids(frames: list[bytes]) -> list[int]:
    return [int(f.split(b"\n", 1)[0].removeprefix(b"id: ")) for f in frames]


def body(frame: bytes) -> dict:
    return json.loads(frame.split(b"data: ", 1)[1])


def feed_full_task(hub: TaskHub, task, n: int = 4) -> None:
    hub.ingest(task.status(1))
    for seq in range(2, n + 1):
        hub.ingest(task.chunk(seq))
    hub.ingest(task.stored(n + 1))


def test_late_subscriber_gets_everything_from_seq_1_then_the_stream_ends(task):
    hub = TaskHub(StreamSettings())
    feed_full_task(hub, task, n=4)
    sub = hub.subscribe(task.task_id)
    frames = hub.take(sub)
    assert ids(frames) == [1, 2, 3, 4, 5]
    assert [body(f)["type"] for f in frames] == ["status", "chunk", "chunk", "chunk", "complete"]
    assert body(frames[-1])["draft"]["task_id"] == str(task.task_id)
    assert sub.state is SubState.DONE
    assert hub.take(sub) == []


def test_resume_after_last_event_id_is_exact(task):
    hub = TaskHub(StreamSettings())
    feed_full_task(hub, task, n=6)
    for last in range(0, 8):
        sub = hub.subscribe(task.task_id, after=last)
        assert ids(hub.take(sub)) == list(range(last + 1, 8)), last


def test_live_subscriber_sees_each_seq_once_across_many_takes(task):
    hub = TaskHub(StreamSettings())
    sub = hub.subscribe(task.task_id, create=True)
    seen: list[int] = []
    hub.ingest(task.status(1))
    seen += ids(hub.take(sub))
    hub.ingest(task.chunk(2))
    hub.ingest(task.chunk(3))
    seen += ids(hub.take(sub))
    seen += ids(hub.take(sub))
    hub.ingest(task.failed(4))
    seen += ids(hub.take(sub))
    assert seen == [1, 2, 3, 4]
    assert sub.state is SubState.DONE


def test_duplicate_ingest_is_ignored(task):
    hub = TaskHub(StreamSettings())
    assert hub.ingest(task.status(1)) is True
    assert hub.ingest(task.chunk(2, "first")) is True
    assert hub.ingest(task.chunk(2, "redelivered")) is False
    assert hub.ingest(task.status(1)) is False
    frames = hub.take(hub.subscribe(task.task_id))
    assert ids(frames) == [1, 2]
    assert body(frames[1])["content"] == "first"
    assert hub.metrics()["events_ignored"] == 2


def test_out_of_order_seq_is_held_until_the_gap_fills(task):
    hub = TaskHub(StreamSettings())
    sub = hub.subscribe(task.task_id, create=True)
    hub.ingest(task.status(1))
    hub.ingest(task.chunk(3))
    hub.ingest(task.stored(4))  # the terminal overtakes the last progress event (other topic)
    assert ids(hub.take(sub)) == [1]
    assert sub.is_open
    hub.ingest(task.chunk(2))
    assert ids(hub.take(sub)) == [2, 3, 4]
    assert sub.state is SubState.DONE


def test_failure_without_seq_follows_the_buffer_or_starts_it(task):
    hub = TaskHub(StreamSettings())
    hub.ingest(task.failed(None))
    frames = hub.take(hub.subscribe(task.task_id))
    assert ids(frames) == [1]
    assert body(frames[0])["code"] == "LLM_UNAVAILABLE"

    other = type(task)()
    hub.ingest(other.status(1))
    hub.ingest(other.chunk(2))
    hub.ingest(other.failed(None))
    assert ids(hub.take(hub.subscribe(other.task_id))) == [1, 2, 3]


def test_events_after_the_terminal_are_ignored(task):
    hub = TaskHub(StreamSettings())
    feed_full_task(hub, task, n=2)
    assert hub.ingest(task.chunk(4)) is False
    assert hub.ingest(task.failed(3)) is False
    assert ids(hub.take(hub.subscribe(task.task_id))) == [1, 2, 3]


def test_unknown_task_is_not_subscribed_unless_asked(task):
    hub = TaskHub(StreamSettings())
    assert hub.subscribe(task.task_id) is None
    assert hub.knows(task.task_id) is False
    assert hub.subscribe(task.task_id, create=True) is not None
    assert hub.knows(task.task_id) is True


async def test_slow_subscriber_is_dropped_while_fifty_others_receive_everything(task):
    hub = TaskHub(StreamSettings(client_queue_size=8))
    slow = hub.subscribe(task.task_id, create=True)
    received: dict[int, list[int]] = {i: [] for i in range(50)}

    async def reader(i: int) -> None:
        sub = hub.subscribe(task.task_id)
        while True:
            received[i] += ids(hub.take(sub))
            if not sub.is_open:
                return
            await sub.wait(5)

    readers = [asyncio.create_task(reader(i)) for i in range(50)]
    await asyncio.sleep(0)
    for seq in range(1, 31):
        hub.ingest(task.chunk(seq))
        await asyncio.sleep(0)  # the readers get to run; the slow one never takes
    hub.ingest(task.stored(31))
    await asyncio.wait_for(asyncio.gather(*readers), 5)

    assert slow.state is SubState.DROPPED
    assert hub.take(slow) == []
    assert all(got == list(range(1, 32)) for got in received.values())
    assert hub.metrics()["dropped_slow_clients"] == 1


async def test_a_burst_larger_than_the_queue_does_not_drop_a_reader_that_keeps_up(task):
    hub = TaskHub(StreamSettings(client_queue_size=8))
    sub = hub.subscribe(task.task_id, create=True)
    waiting = asyncio.create_task(sub.wait(5))
    await asyncio.sleep(0)  # the reader is idle: it has sent all it took
    for seq in range(1, 31):  # e.g. the replay after a broker outage, in one poll
        hub.ingest(task.chunk(seq))
    assert await waiting is True
    assert sub.is_open
    hub.ingest(task.stored(31))
    assert ids(hub.take(sub)) == list(range(1, 32))
    assert hub.metrics()["dropped_slow_clients"] == 0


async def test_wait_wakes_on_ingest_and_times_out_otherwise(task):
    hub = TaskHub(StreamSettings())
    sub = hub.subscribe(task.task_id, create=True)
    assert await sub.wait(0.01) is False
    asyncio.get_running_loop().call_later(0.01, hub.ingest, task.status(1))
    assert await sub.wait(5) is True
    assert ids(hub.take(sub)) == [1]


def test_open_stream_count_and_close_all(task):
    hub = TaskHub(StreamSettings())
    subs = [hub.subscribe(task.task_id, create=True) for _ in range(3)]
    assert hub.metrics()["open_streams"] == 3
    assert hub.close_all() == 3
    assert all(s.state is SubState.CLOSED for s in subs)
    assert hub.subscribe(task.task_id).state is SubState.CLOSED  # refused after shutdown began
    for s in subs:
        hub.unsubscribe(s)
    assert hub.metrics()["open_streams"] == 0


def test_task_count_bound_evicts_finished_tasks_first(task):
    hub = TaskHub(StreamSettings(buffer_max_tasks=3))
    running = type(task)()
    hub.ingest(running.status(1))  # oldest, but still running
    finished = [type(task)() for _ in range(2)]
    for t in finished:
        feed_full_task(hub, t, n=1)
    newcomer = type(task)()
    hub.ingest(newcomer.status(1))
    assert hub.knows(running.task_id)
    assert not hub.knows(finished[0].task_id)  # least recently finished goes first
    assert hub.knows(finished[1].task_id)
    assert hub.knows(newcomer.task_id)
    assert hub.metrics()["tasks_buffered"] == 3


def test_task_count_bound_evicts_oldest_running_when_none_finished(task):
    hub = TaskHub(StreamSettings(buffer_max_tasks=2))
    tasks = [type(task)() for _ in range(3)]
    sub = None
    for i, t in enumerate(tasks):
        hub.ingest(t.status(1))
        if i == 0:
            sub = hub.subscribe(t.task_id)
    assert not hub.knows(tasks[0].task_id)
    assert sub.state is SubState.DROPPED  # its client reconnects and is served elsewhere
    assert hub.knows(tasks[2].task_id)


def test_events_per_task_bound_keeps_the_newest_and_the_terminal(task):
    hub = TaskHub(StreamSettings(buffer_max_events_per_task=5))
    for seq in range(1, 9):
        hub.ingest(task.chunk(seq))
    hub.ingest(task.stored(9))
    assert hub.metrics()["frames_buffered"] <= 6
    frames = hub.take(hub.subscribe(task.task_id))
    assert ids(frames)[-1] == 9
    assert ids(frames) == sorted(set(ids(frames)))
    assert len(frames) <= 6
    assert hub.ingest(task.chunk(2)) is False  # evicted seqs are not re-buffered


def test_ttl_evicts_idle_tasks_without_subscribers(task):
    clock = FakeClock()
    settings = StreamSettings(buffer_ttl_seconds=60, buffer_finished_ttl_seconds=60)
    hub = TaskHub(settings, clock=clock)
    feed_full_task(hub, task, n=1)
    watched = type(task)()
    hub.ingest(watched.status(1))
    sub = hub.subscribe(watched.task_id)
    clock.now += 59
    assert hub.sweep() == 0
    assert hub.knows(task.task_id)
    clock.now += 2
    assert hub.sweep() == 1
    assert not hub.knows(task.task_id)
    assert hub.knows(watched.task_id)  # someone is still streaming it
    hub.unsubscribe(sub)
    assert hub.sweep() == 1
    assert hub.metrics()["tasks_buffered"] == 0


def test_ttl_counts_from_the_last_event(task):
    clock = FakeClock()
    hub = TaskHub(StreamSettings(buffer_ttl_seconds=60), clock=clock)
    hub.ingest(task.status(1))
    clock.now += 50
    hub.ingest(task.chunk(2))
    clock.now += 50
    assert hub.sweep() == 0
    clock.now += 11
    assert hub.sweep() == 1


def test_finished_tasks_leave_sooner_than_unfinished_ones(task):
    clock = FakeClock()
    hub = TaskHub(
        StreamSettings(buffer_ttl_seconds=600, buffer_finished_ttl_seconds=30), clock=clock
    )
    feed_full_task(hub, task, n=1)
    running = type(task)()
    hub.ingest(running.status(1))
    clock.now += 31
    assert hub.sweep() == 1
    assert not hub.knows(task.task_id)
    assert hub.knows(running.task_id)
    clock.now += 570
    assert hub.sweep() == 1
    assert not hub.knows(running.task_id)


def test_an_expected_task_is_known_with_its_campaign_before_any_event(task):
    clock = FakeClock()
    hub = TaskHub(StreamSettings(), clock=clock)
    campaign = uuid4()
    assert not hub.knows(task.task_id)
    hub.expect(task.task_id, campaign, "u1")
    assert hub.knows(task.task_id)
    assert hub.campaign_of(task.task_id) == campaign
    sub = hub.subscribe(task.task_id)
    assert sub is not None
    assert hub.take(sub) == []  # nothing yet: the stream waits for the generator's events
    hub.ingest(task.status(1))
    assert ids(hub.take(sub)) == [1]


def test_a_task_still_without_events_is_asked_about_again_after_a_while(task):
    from bcrao_gateway.streaming.hub import EXPECT_SECONDS

    clock = FakeClock()
    hub = TaskHub(StreamSettings(), clock=clock)
    hub.expect(task.task_id, uuid4(), "u1")
    clock.now += EXPECT_SECONDS + 1
    assert not hub.knows(task.task_id)  # its events never came here: the stream asks draft-store
    assert not hub.has_events(task.task_id)
    hub.ingest(task.status(1))
    clock.now += EXPECT_SECONDS + 1
    assert hub.knows(task.task_id)
    assert hub.has_events(task.task_id)


def test_unfillable_gap_is_skipped_only_when_ready_and_after_the_timeout(task):
    clock = FakeClock()
    hub = TaskHub(StreamSettings(gap_timeout_seconds=10), clock=clock)
    sub = hub.subscribe(task.task_id, create=True)
    hub.ingest(task.chunk(5))  # seq 1..4 predate the replay window
    hub.ingest(task.stored(6))
    clock.now += 30
    hub.sweep()
    assert hub.take(sub) == []  # still replaying: seq 1..4 may yet arrive
    hub.mark_ready()
    clock.now += 5
    hub.sweep()
    assert ids(hub.take(sub)) == [5, 6]
    assert sub.state is SubState.DONE

    fresh = type(task)()  # ready now, but a gap younger than the timeout is still held
    fresh_sub = hub.subscribe(fresh.task_id, create=True)
    hub.ingest(fresh.chunk(2))
    clock.now += 9
    hub.sweep()
    assert hub.take(fresh_sub) == []
    clock.now += 2
    hub.sweep()
    assert ids(hub.take(fresh_sub)) == [2]


@pytest.mark.parametrize("timeout", [0.01])
async def test_wait_ready(timeout):
    hub = TaskHub(StreamSettings())
    assert await hub.wait_ready(timeout) is False
    asyncio.get_running_loop().call_later(0.01, hub.mark_ready)
    assert await hub.wait_ready(5) is True
    assert hub.ready


def test_campaign_is_learned_from_terminal_events(task):
    hub = TaskHub(StreamSettings())
    hub.ingest(task.status(1))
    assert hub.campaign_of(task.task_id) is None
    hub.ingest(task.stored(2))
    assert hub.campaign_of(task.task_id) == task.campaign_id
    assert hub.campaign_of(uuid4()) is None
