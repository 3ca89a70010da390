"""OffsetTracker: the committed offset never passes an unfinished message."""

from __future__ import annotations

import pytest
from bcrao_generator.offsets import OffsetTracker
from hypothesis import given
from hypothesis import strategies as st


def test_commit_point_is_the_lowest_unfinished_offset() -> None:
    t: OffsetTracker[str] = OffsetTracker()
    for offset in (5, 6, 7):
        t.started("a", offset)
    t.finished("a", 6)
    t.finished("a", 7)
    assert t.commit_point("a") == 5
    t.finished("a", 5)
    assert t.commit_point("a") == 8
    assert t.in_flight() == 0


def test_committable_reports_only_moved_points_and_forget_drops_a_partition() -> None:
    t: OffsetTracker[str] = OffsetTracker()
    t.started("a", 0)
    t.started("b", 10)
    t.finished("a", 0)
    assert t.committable() == {"a": 1, "b": 10}
    t.mark_committed({"a": 1, "b": 10})
    assert t.committable() == {}
    t.forget("b")
    t.finished("b", 10)  # completion after revocation: ignored
    assert t.partitions() == ["a"]
    t.started("b", 3)  # reassigned later, from an older committed offset
    assert t.commit_point("b") == 3


def test_offsets_out_of_order_are_refused() -> None:
    t: OffsetTracker[str] = OffsetTracker()
    t.started("a", 4)
    with pytest.raises(ValueError, match="started after"):
        t.started("a", 4)


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Increasing offsets with gaps, and the order (a subset) in which they finish."""
    gaps = draw(st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=40))
    offsets = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    done = draw(st.permutations(offsets))
    return offsets, done[: draw(st.integers(min_value=0, max_value=len(done)))]


@given(runs())
def test_commit_point_never_passes_an_unfinished_offset(run: tuple[list[int], list[int]]) -> None:
    offsets, finished = run
    t: OffsetTracker[int] = OffsetTracker()
    for offset in offsets:
        t.started(0, offset)
    finished_so_far: set[int] = set()
    for offset in finished:
        t.finished(0, offset)
        finished_so_far.add(offset)
        point = t.commit_point(0)
        assert point is not None
        unfinished = [o for o in offsets if o not in finished_so_far]
        if unfinished:
            # Everything below the point is finished, and the point itself is not.
            assert point == min(unfinished)
        else:
            assert point == offsets[-1] + 1
        assert t.in_flight() == len(unfinished)


@given(runs())
def test_done_is_exactly_what_finished(run: tuple[list[int], list[int]]) -> None:
    """What a revoked partition hands over as finished: every offset below the commit point
    and the finished ones above it, never an offset still running."""
    offsets, finished = run
    t: OffsetTracker[str] = OffsetTracker()
    for offset in offsets:
        t.started("a", offset)
    for offset in finished:
        t.finished("a", offset)
    point, above = t.done("a")
    assert point == t.commit_point("a")
    done = {o for o in offsets if point is not None and o < point} | above
    assert done == set(finished)
    assert t.done("b") == (None, set())
