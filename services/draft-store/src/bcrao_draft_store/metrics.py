"""Process-local counters, rendered in the Prometheus text format on /metrics."""

from __future__ import annotations

from dataclasses import dataclass, fields

HELP = {
    "drafts_stored": "Drafts stored from DraftGenerated events (first delivery).",
    "redeliveries_skipped": "DraftGenerated deliveries whose draft was already stored.",
    "generation_failures": "Tasks marked failed by GenerationFailed events.",
    "dead_letters": "Messages sent to a dead-letter topic.",
    "handler_retries": "Transient database errors retried inside a message handler.",
    "tasks_opened": "Generation tasks opened (quota unit reserved).",
    "plan_limit_refusals": "Task openings refused with PLAN_LIMIT_REACHED.",
}


@dataclass
class Metrics:
    drafts_stored: int = 0
    redeliveries_skipped: int = 0
    generation_failures: int = 0
    dead_letters: int = 0
    handler_retries: int = 0
    tasks_opened: int = 0
    plan_limit_refusals: int = 0

    def render(self) -> str:
        lines: list[str] = []
        for field in fields(self):
            name = f"draft_store_{field.name}_total"
            lines += [
                f"# HELP {name} {HELP[field.name]}",
                f"# TYPE {name} counter",
                f"{name} {getattr(self, field.name)}",
            ]
        return "\n".join(lines) + "\n"
