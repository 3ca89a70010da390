"""The generation topic: a minimum length for a given context, a default for an empty one."""

from __future__ import annotations

from bcrao_rules.context import CONTEXT_MIN, context_problem, default_context


def test_a_context_shorter_than_the_minimum_is_refused_with_the_numbers() -> None:
    problem = context_problem("a")
    assert problem is not None
    assert f"at least {CONTEXT_MIN} characters" in problem
    assert "you wrote 1" in problem


def test_an_empty_or_long_enough_context_is_fine() -> None:
    assert context_problem("") is None
    assert context_problem("   ") is None
    assert context_problem("x" * CONTEXT_MIN) is None
    assert context_problem(" " + "x" * (CONTEXT_MIN - 1) + " ") is not None  # spaces do not count


def test_the_default_topic_names_the_first_keywords_and_the_subreddit() -> None:
    topic = default_context(["invoice reminders", "late payments", "cash flow", "taxes"], "SaaS")
    assert "invoice reminders, late payments and cash flow" in topic
    assert "taxes" not in topic
    assert "r/SaaS" in topic
    assert context_problem(topic) is None
    assert "a and" not in default_context(["a"], "SaaS")  # one keyword is named alone
