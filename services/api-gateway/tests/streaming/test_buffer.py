"""Property tests of one task's buffer: whatever order, duplicates and bounds, a reader that
follows it sees increasing seqs, no gap unless one was given up on, and one terminal at the end."""

from __future__ import annotations

from bcrao_gateway.streaming.buffer import Offer, TaskBuffer
from hypothesis import given, settings
from hypothesis import strategies as st


def frame(seq: int) -> bytes:
    return b"frame-%d" % seq


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A task of `n` progress seqs and a terminal (n + 1), delivered shuffled with duplicates."""
    n = draw(st.integers(min_value=0, max_value=40))
    seqs = list(range(1, n + 2))
    repeats = draw(st.lists(st.sampled_from(seqs), max_size=20))
    order = draw(st.permutations(seqs + repeats))
    return n + 1, order


def check_invariants(buffer: TaskBuffer, skipped: frozenset[int] = frozenset()) -> None:
    assert buffer.floor <= buffer.frontier
    assert all(s > buffer.floor for s in buffer.frames)
    held = range(buffer.floor + 1, buffer.frontier + 1)
    assert all(s in buffer.frames or s in skipped for s in held)
    assert buffer.top == max(buffer.frames, default=buffer.top)
    if buffer.terminal_seq is not None:
        assert all(s <= buffer.terminal_seq for s in buffer.frames)
    assert len(buffer.frames) <= buffer.max_frames + 1


@given(deliveries())
@settings(max_examples=300)
def test_an_unbounded_buffer_delivers_every_seq_once_in_order(case: tuple[int, list[int]]) -> None:
    terminal, order = case
    buffer = TaskBuffer(max_frames=10_000)
    seen: list[bytes] = []
    cursor = 0
    for i, seq in enumerate(order):
        buffer.offer(seq, lambda s=seq: frame(s), terminal=seq == terminal, now=float(i))
        check_invariants(buffer)
        out, cursor = buffer.after(cursor)  # a reader polling after every delivery
        seen += out
    assert seen == [frame(s) for s in range(1, terminal + 1)]
    assert buffer.finished


@given(deliveries(), st.integers(min_value=1, max_value=8))
@settings(max_examples=300)
def test_a_bounded_buffer_never_hands_out_of_order_or_duplicate_frames(
    case: tuple[int, list[int]], limit: int
) -> None:
    terminal, order = case
    buffer = TaskBuffer(max_frames=limit)
    handed: list[int] = []
    skipped: set[int] = set()
    cursor = 0
    for i, seq in enumerate(order):
        offer, _ = buffer.offer(seq, lambda s=seq: frame(s), terminal=seq == terminal, now=0.0)
        check_invariants(buffer, frozenset(skipped))
        if i % 3 == 0 and buffer.gap_since is not None:
            # The hub's sweep gives up on a gap that will not fill.
            first, last = buffer.skip_gap(now=1.0) or (1, 0)
            skipped.update(range(first, last + 1))
            check_invariants(buffer, frozenset(skipped))
        out, cursor = buffer.after(cursor)
        handed += [int(f.removeprefix(b"frame-")) for f in out]
        assert offer in (Offer.ACCEPTED, Offer.DUPLICATE, Offer.FULL)
    assert handed == sorted(set(handed))  # increasing, each at most once
    assert all(s <= terminal for s in handed)
    assert not skipped & set(handed)  # a seq given up on is never handed out later


def test_a_late_joiner_skips_what_was_evicted() -> None:
    buffer = TaskBuffer(max_frames=3)
    for seq in range(1, 7):
        buffer.offer(seq, lambda s=seq: frame(s), terminal=False, now=0.0)
    out, cursor = buffer.after(0)
    assert out == [frame(4), frame(5), frame(6)]
    assert cursor == 6


def test_nothing_after_the_terminal_and_no_second_terminal() -> None:
    buffer = TaskBuffer(max_frames=100)
    buffer.offer(3, lambda: frame(3), terminal=False, now=0.0)
    assert buffer.offer(2, lambda: frame(2), terminal=True, now=0.0)[0] is Offer.ACCEPTED
    assert 3 not in buffer.frames  # a seq after the terminal is dropped
    assert buffer.offer(4, lambda: frame(4), terminal=True, now=0.0)[0] is Offer.DUPLICATE
    assert buffer.offer(1, lambda: frame(1), terminal=False, now=0.0) == (Offer.ACCEPTED, True)
    assert buffer.finished


def test_a_buffer_full_of_frames_held_for_a_gap_refuses_progress_but_not_the_terminal() -> None:
    buffer = TaskBuffer(max_frames=2)
    buffer.offer(2, lambda: frame(2), terminal=False, now=0.0)
    buffer.offer(3, lambda: frame(3), terminal=False, now=0.0)
    assert buffer.offer(4, lambda: frame(4), terminal=False, now=0.0)[0] is Offer.FULL
    assert buffer.offer(5, lambda: frame(5), terminal=True, now=0.0)[0] is Offer.ACCEPTED
    assert buffer.skip_gap(now=1.0) == (1, 1)
    out, _ = buffer.after(0)
    assert out == [frame(2), frame(3)]  # seq 4 never arrived in the buffer; the gap is held
