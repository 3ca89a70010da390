"""The history checker on hand-built histories: each rule catches its violation and only that."""

from __future__ import annotations

import dataclasses

from bcrao_testkit.history import (
    DeletedDraft,
    DraftRow,
    History,
    LedgerRow,
    LlmCall,
    Message,
    StreamLog,
    Submission,
    TaskRow,
    check,
    recovery_seconds,
)


def stream(task: str, *types: str, draft: str | None = None) -> StreamLog:
    messages = tuple(
        Message(i, t, draft if t == "complete" else None) for i, t in enumerate(types, 1)
    )
    return StreamLog(task, messages)


def healthy() -> History:
    """Two tasks: t1 completed with draft d1 (later deleted by its user), t2 failed."""
    return History(
        submissions=(
            Submission("n1", "u", 202, "t1"),
            Submission("n2", "u", 202, "t2"),
            Submission("n3", "u", 503),
        ),
        tasks=(
            TaskRow("t1", "u", "completed", "n1", None),
            TaskRow("t2", "u", "failed", "n2"),
            TaskRow("t3", "u", "failed", "n3"),
        ),
        drafts=(),
        ledger=(LedgerRow("t1", "used"), LedgerRow("t2", "released"), LedgerRow("t3", "released")),
        deleted=(DeletedDraft("d1", "t1"),),
        streams=(
            stream("t1", "status", "chunk", "complete", draft="d1"),
            stream("t2", "status", "error"),
        ),
        llm_calls=(LlmCall("n1", 1.0, True), LlmCall("n2", 1.0, False)),
    )


def test_a_clean_history_passes_and_is_counted() -> None:
    report = check(healthy())
    assert report.ok, report.explain()
    counts = report.counts()
    assert (counts["accepted"], counts["completed"], counts["failed"]) == (2, 1, 2)
    assert counts["doubled"] == 0


def test_an_accepted_task_missing_from_the_database_is_lost() -> None:
    h = healthy()
    h = dataclasses.replace(h, submissions=(*h.submissions, Submission("n9", "u", 202, "t9")))
    report = check(h)
    assert report.lost == ["t9"]
    assert report.counts()["lost"] == 1
    assert not report.ok


def test_queued_or_running_after_settle_is_stuck() -> None:
    h = healthy()
    tasks = (*h.tasks, TaskRow("t4", "u", "running", "n4"))
    report = check(
        dataclasses.replace(h, tasks=tasks, ledger=(*h.ledger, LedgerRow("t4", "reserved")))
    )
    assert report.stuck == ["t4 running"]
    assert not report.ledger_mismatches


def test_a_deleted_draft_that_came_back_is_resurrected_and_doubled() -> None:
    h = dataclasses.replace(healthy(), drafts=(DraftRow("d7", "t1"),))
    report = check(h)
    assert len(report.resurrected) == 1
    assert report.doubled == 1


def test_completed_without_a_draft_the_user_kept_conflicts() -> None:
    report = check(dataclasses.replace(healthy(), deleted=()))
    assert report.conflicting == ["t1: completed without a draft"]


def test_failed_with_a_draft_conflicts_and_two_drafts_are_doubled() -> None:
    h = healthy()
    report = check(dataclasses.replace(h, drafts=(DraftRow("a", "t2"), DraftRow("b", "t2"))))
    assert report.two_drafts == ["t2: 2 drafts"]
    assert report.conflicting
    assert report.conflicting[0].startswith("t2: failed")


def test_ledger_must_match_each_outcome_exactly_once() -> None:
    h = healthy()
    wrong = (LedgerRow("t1", "reserved"), LedgerRow("t2", "released"), LedgerRow("t2", "released"))
    report = check(dataclasses.replace(h, ledger=(*wrong, LedgerRow("zz", "used"))))
    assert len(report.ledger_mismatches) == 4  # t1 state, t2 twice, t3 missing, zz orphan


def test_stream_gaps_double_terminals_and_disagreement_are_violations() -> None:
    h = healthy()
    gap = StreamLog("t1", (Message(1, "status"), Message(3, "complete", "d1")))
    twice = stream("t2", "error", "error")
    lie = stream("t2", "status", "complete", draft="d1")
    none = stream("t1", "status", "chunk")
    refused = StreamLog("t1", (), http_status=503)
    left = StreamLog("t1", (Message(1, "status"),), stayed=False)
    for bad in (gap, twice, lie, none, refused):
        report = check(dataclasses.replace(h, streams=(bad,)))
        assert len(report.stream_violations) == 1, bad
    assert check(dataclasses.replace(h, streams=(left,))).ok


def test_complete_naming_a_draft_that_never_existed_is_a_violation() -> None:
    h = dataclasses.replace(healthy(), deleted=(), drafts=(DraftRow("d1", "t1"),))
    tasks = (TaskRow("t1", "u", "completed", "n1", "d1"), *h.tasks[1:])
    ok = check(dataclasses.replace(h, tasks=tasks))
    assert ok.ok, ok.explain()
    bad = check(
        dataclasses.replace(h, tasks=tasks, streams=(stream("t1", "complete", draft="dX"),))
    )
    assert len(bad.stream_violations) == 1


def test_a_second_finished_generation_needs_a_disruption_between_the_starts() -> None:
    h = healthy()
    calls = (LlmCall("n1", 1.0, True), LlmCall("n1", 5.0, True), LlmCall("n1", 6.0, False))
    assert len(check(dataclasses.replace(h, llm_calls=calls)).repeated_generations) == 1
    excused = check(dataclasses.replace(h, llm_calls=calls, disruptions=(3.0,)))
    assert excused.ok
    assert excused.justified_repeats == 1
    late = check(dataclasses.replace(h, llm_calls=calls, disruptions=(5.5,)))
    assert len(late.repeated_generations) == 1
    retries = (LlmCall("n2", 1.0, False), LlmCall("n2", 2.0, False), LlmCall("n2", 3.0, True))
    assert check(dataclasses.replace(h, llm_calls=retries)).ok


def test_a_refused_request_that_was_generated_is_a_phantom() -> None:
    h = healthy()
    report = check(dataclasses.replace(h, llm_calls=(*h.llm_calls, LlmCall("n3", 2.0, True))))
    assert report.phantoms == ["n3: refused, then generated"]
    unknown = dataclasses.replace(
        h,
        submissions=(*h.submissions[:2], Submission("n3", "u", None)),
        llm_calls=(*h.llm_calls, LlmCall("n3", 2.0, True)),
    )
    assert check(unknown).ok


def test_recovery_is_measured_from_the_fault_end() -> None:
    assert recovery_seconds([1.0, 12.5, 20.0], 10.0) == 2.5
    assert recovery_seconds([1.0], 10.0) is None
