"""All SQL of draft-store. Functions take a session and never commit: the caller's boundary does.

Split by aggregate to keep files small: campaigns (with profiles and blacklist), drafts, quota
(accounts, opening tasks and the usage ledger), lifecycle (claims and deadlines), batches (the
consumers' multi-row statements) and tombstones (the deleted campaigns' outbox).
"""

from .campaigns import (
    applicable_blacklist,
    create_blacklist_entry,
    create_campaign,
    delete_blacklist_entry,
    delete_campaign,
    get_blacklist_entry,
    get_campaign,
    get_profile,
    list_blacklist,
    list_campaigns,
    list_profiles,
    update_blacklist_entry,
    update_campaign,
    upsert_profile,
)
from .drafts import (
    delete_draft,
    get_draft,
    get_draft_by_task,
    insert_draft_if_absent,
    list_drafts,
    parent_exists,
)
from .lifecycle import OverdueTask, claim_task, fail_overdue_tasks
from .quota import (
    MonthUsage,
    complete_task,
    fail_task,
    get_plan,
    get_task,
    in_flight_tasks,
    insert_task,
    mark_unit,
    month_usage,
    read_for_open,
    set_plan,
    task_by_key,
)

__all__ = [
    "MonthUsage",
    "OverdueTask",
    "applicable_blacklist",
    "claim_task",
    "complete_task",
    "create_blacklist_entry",
    "create_campaign",
    "delete_blacklist_entry",
    "delete_campaign",
    "delete_draft",
    "fail_overdue_tasks",
    "fail_task",
    "get_blacklist_entry",
    "get_campaign",
    "get_draft",
    "get_draft_by_task",
    "get_plan",
    "get_profile",
    "get_task",
    "in_flight_tasks",
    "insert_draft_if_absent",
    "insert_task",
    "list_blacklist",
    "list_campaigns",
    "list_drafts",
    "list_profiles",
    "mark_unit",
    "month_usage",
    "parent_exists",
    "read_for_open",
    "set_plan",
    "task_by_key",
    "update_blacklist_entry",
    "update_campaign",
    "upsert_profile",
]
