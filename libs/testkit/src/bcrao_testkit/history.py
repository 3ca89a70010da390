"""The history checker of the fault suite: what every accepted generation must look like afterwards.

Pure: it takes what the load driver recorded (requests, SSE streams, deleted drafts), what the
database holds (tasks, drafts, ledger) and what the fake LLM logged, and returns a `Report`.
No I/O here, so each rule is unit-tested on hand-built histories (tests/faults/test_history.py).

The rules (one counter each, all must be zero):
- lost: a task answered 202 that the database does not know;
- stuck: a task still queued or running after the settle time;
- conflicting: a completed task without its draft (and the user did not delete it), or a failed
  task with a draft;
- two_drafts: more than one draft row for one task;
- resurrected: a draft exists for a task whose draft the user deleted;
- ledger_mismatches: a task without exactly one ledger unit in the state its outcome implies
  (completed → used, failed → released), or a unit whose task is unknown;
- stream_violations: a client that stayed saw ids other than 1..n, no terminal message, more
  than one, one that is not last, one that disagrees with the database, or gave up on a non-200;
- repeated_generations: a task whose generation finished at the LLM twice with no disruption
  (crash, broker outage, rebalance) between the two starts;
- phantoms: a request told it was not queued (a 4xx/5xx answer) whose task was generated anyway.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

TERMINAL_TASK = frozenset({"completed", "failed"})
TERMINAL_MESSAGE = frozenset({"complete", "error"})
LEDGER_FOR = {"completed": "used", "failed": "released"}


@dataclass(frozen=True)
class Submission:
    """One generate POST: `status` None when the answer never arrived (outcome unknown)."""

    nonce: str
    user_id: str
    status: int | None
    task_id: str | None = None


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    user_id: str
    status: str
    nonce: str | None = None
    draft_id: str | None = None


@dataclass(frozen=True)
class DraftRow:
    draft_id: str
    task_id: str


@dataclass(frozen=True)
class LedgerRow:
    task_id: str
    state: str


@dataclass(frozen=True)
class DeletedDraft:
    draft_id: str
    task_id: str


@dataclass(frozen=True)
class Message:
    seq: int | None
    type: str
    draft_id: str | None = None


@dataclass(frozen=True)
class StreamLog:
    """What one client saw across its reconnects; `http_status` is the last answer's status."""

    task_id: str
    messages: tuple[Message, ...]
    stayed: bool = True
    http_status: int = 200


@dataclass(frozen=True)
class LlmCall:
    """One request the fake LLM received; `completed` when it streamed to its end."""

    nonce: str
    started: float
    completed: bool


@dataclass(frozen=True)
class History:
    submissions: tuple[Submission, ...]
    tasks: tuple[TaskRow, ...]
    drafts: tuple[DraftRow, ...]
    ledger: tuple[LedgerRow, ...]
    deleted: tuple[DeletedDraft, ...] = ()
    streams: tuple[StreamLog, ...] = ()
    llm_calls: tuple[LlmCall, ...] = ()
    # Moments (same clock as LlmCall.started) after which a second generation is legitimate.
    disruptions: tuple[float, ...] = ()


@dataclass
class Report:
    accepted: int = 0
    completed: int = 0
    failed: int = 0
    unknown_outcome: int = 0
    lost: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    conflicting: list[str] = field(default_factory=list)
    two_drafts: list[str] = field(default_factory=list)
    resurrected: list[str] = field(default_factory=list)
    ledger_mismatches: list[str] = field(default_factory=list)
    stream_violations: list[str] = field(default_factory=list)
    repeated_generations: list[str] = field(default_factory=list)
    phantoms: list[str] = field(default_factory=list)
    justified_repeats: int = 0

    PROBLEMS = (
        "lost",
        "stuck",
        "conflicting",
        "two_drafts",
        "resurrected",
        "ledger_mismatches",
        "stream_violations",
        "repeated_generations",
        "phantoms",
    )

    @property
    def doubled(self) -> int:
        return len(self.two_drafts) + len(self.resurrected) + len(self.repeated_generations)

    @property
    def ok(self) -> bool:
        return not any(getattr(self, name) for name in self.PROBLEMS)

    def counts(self) -> dict[str, int]:
        numbers = {
            "accepted": self.accepted,
            "completed": self.completed,
            "failed": self.failed,
            "unknown_outcome": self.unknown_outcome,
            "doubled": self.doubled,
            "justified_repeats": self.justified_repeats,
        }
        numbers.update({name: len(getattr(self, name)) for name in self.PROBLEMS})
        return numbers

    def explain(self, limit: int = 5) -> str:
        lines = [", ".join(f"{k}={v}" for k, v in self.counts().items())]
        for name in self.PROBLEMS:
            items = getattr(self, name)
            if items:
                shown = "; ".join(items[:limit]) + (" ..." if len(items) > limit else "")
                lines.append(f"{name} ({len(items)}): {shown}")
        return "\n".join(lines)


def check(history: History) -> Report:
    report = Report()
    tasks = {t.task_id: t for t in history.tasks}
    accepted = {s.task_id for s in history.submissions if s.status == 202 and s.task_id}
    report.accepted = len(accepted)
    report.unknown_outcome = sum(1 for s in history.submissions if s.status is None)
    drafts_by_task: dict[str, list[DraftRow]] = defaultdict(list)
    for draft in history.drafts:
        drafts_by_task[draft.task_id].append(draft)
    deleted_tasks = {d.task_id for d in history.deleted}
    deleted_ids = {d.draft_id for d in history.deleted}

    for task_id in sorted(accepted):
        if task_id not in tasks:
            report.lost.append(task_id)
    for task in history.tasks:
        _check_task(task, drafts_by_task.get(task.task_id, []), deleted_tasks, report)
    _check_ledger(history, tasks, report)
    for stream in history.streams:
        _check_stream(stream, tasks, deleted_ids, report)
    _check_llm(history, report)
    _check_phantoms(history, tasks, report)
    return report


def _check_task(
    task: TaskRow, drafts: list[DraftRow], deleted_tasks: set[str], report: Report
) -> None:
    tid = task.task_id
    if task.status not in TERMINAL_TASK:
        report.stuck.append(f"{tid} {task.status}")
        return
    if task.status == "completed":
        report.completed += 1
    else:
        report.failed += 1
    if len(drafts) > 1:
        report.two_drafts.append(f"{tid}: {len(drafts)} drafts")
    if tid in deleted_tasks:
        if drafts:
            report.resurrected.append(f"{tid}: draft {drafts[0].draft_id} after deletion")
        return
    if task.status == "completed" and not drafts:
        report.conflicting.append(f"{tid}: completed without a draft")
    if task.status == "failed" and drafts:
        report.conflicting.append(f"{tid}: failed but has draft {drafts[0].draft_id}")


def _check_ledger(history: History, tasks: dict[str, TaskRow], report: Report) -> None:
    units: dict[str, list[str]] = defaultdict(list)
    for unit in history.ledger:
        units[unit.task_id].append(unit.state)
    for task_id, states in units.items():
        if task_id not in tasks:
            report.ledger_mismatches.append(f"{task_id}: unit {states} without a task")
    for task in history.tasks:
        states = units.get(task.task_id, [])
        want = LEDGER_FOR.get(task.status, "reserved")
        if states != [want]:
            report.ledger_mismatches.append(f"{task.task_id}: {task.status} with units {states}")


def _check_stream(
    stream: StreamLog, tasks: dict[str, TaskRow], deleted_ids: set[str], report: Report
) -> None:
    if not stream.stayed:
        return
    tid = stream.task_id
    problems: list[str] = []
    if stream.http_status != 200:
        problems.append(f"gave up on HTTP {stream.http_status}")
    seqs = [m.seq for m in stream.messages]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append(f"ids not 1..n: {_short(seqs)}")
    terminals = [m for m in stream.messages if m.type in TERMINAL_MESSAGE]
    if not terminals:
        problems.append("no terminal message")
    elif len(terminals) > 1:
        problems.append(f"{len(terminals)} terminal messages")
    elif stream.messages[-1] is not terminals[0]:
        problems.append("terminal message is not the last")
    if len(terminals) == 1:
        end = terminals[0]
        task = tasks.get(tid)
        if task is None:
            problems.append(f"said {end.type} for a task the database does not know")
        elif end.type == "complete":
            if task.status != "completed":
                problems.append(f"said complete, task is {task.status}")
            elif end.draft_id != task.draft_id and end.draft_id not in deleted_ids:
                problems.append(
                    f"said complete with draft {end.draft_id}, task has {task.draft_id}"
                )
        elif task.status != "failed":
            problems.append(f"said error, task is {task.status}")
    if problems:
        report.stream_violations.append(f"{tid}: " + "; ".join(problems))


def _short(seqs: list[int | None]) -> str:
    return str(seqs) if len(seqs) <= 12 else f"{seqs[:6]}...{seqs[-4:]} ({len(seqs)})"


def _check_llm(history: History, report: Report) -> None:
    finished: dict[str, list[float]] = defaultdict(list)
    for call in history.llm_calls:
        if call.completed:
            finished[call.nonce].append(call.started)
    for nonce, starts in finished.items():
        starts.sort()
        for first, second in itertools.pairwise(starts):
            if any(first <= d <= second for d in history.disruptions):
                report.justified_repeats += 1
            else:
                report.repeated_generations.append(f"{nonce}: generated again without a crash")


def _check_phantoms(history: History, tasks: dict[str, TaskRow], report: Report) -> None:
    refused = {s.nonce for s in history.submissions if s.status is not None and s.status != 202}
    generated = Counter(c.nonce for c in history.llm_calls if c.completed)
    by_nonce = {t.nonce: t for t in tasks.values() if t.nonce}
    for nonce in sorted(refused):
        task = by_nonce.get(nonce)
        if generated[nonce] or (task is not None and task.status == "completed"):
            report.phantoms.append(f"{nonce}: refused, then generated")


def recovery_seconds(completions: list[float], fault_end: float) -> float | None:
    """Time from the end of a fault to the first generation completed after it."""
    after = [t for t in completions if t >= fault_end]
    return min(after) - fault_end if after else None
