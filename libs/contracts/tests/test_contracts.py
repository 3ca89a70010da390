"""Contracts: example payloads read in both directions, schema snapshots, evolution rules."""

from __future__ import annotations

import json
import os
from pathlib import Path
from uuid import uuid4

import pytest
from bcrao_contracts import api, sse
from bcrao_contracts.enums import HTTP_ONLY_CODES, ErrorCode, Stage
from bcrao_contracts.events import (
    EVENTS_BY_TYPE,
    DraftStored,
    GenerationFailed,
    ProgressUpdated,
    UnsupportedEvent,
    parse_as,
    parse_event,
)
from bcrao_contracts.models import normalize_subreddit
from pydantic import BaseModel, ValidationError

HERE = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((HERE / "examples/v1").glob("*.json"))
SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    **EVENTS_BY_TYPE,
    "StatusMessage": sse.StatusMessage,
    "ChunkMessage": sse.ChunkMessage,
    "RestartMessage": sse.RestartMessage,
    "CompleteMessage": sse.CompleteMessage,
    "ErrorMessage": sse.ErrorMessage,
    "CampaignCreate": api.CampaignCreate,
    "ProfileIn": api.ProfileIn,
    "GenerateRequest": api.GenerateRequest,
    "GenerateAccepted": api.GenerateAccepted,
    "DraftPatch": api.DraftPatch,
    "Usage": api.Usage,
}


def test_every_event_type_has_an_example() -> None:
    assert {p.stem for p in EXAMPLES} == set(EVENTS_BY_TYPE)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text())
    event = parse_event(raw)
    assert event.event_type == path.stem
    assert event.model_dump(mode="json") == raw


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_consumers_tolerate_fields_of_newer_producers(path: Path) -> None:
    raw = json.loads(path.read_text())
    raw["added_in_a_later_minor"] = {"anything": 1}
    assert parse_event(raw).event_type == path.stem
    with pytest.raises(ValidationError):
        EVENTS_BY_TYPE[path.stem].model_validate(raw)  # producers stay strict


@pytest.mark.parametrize("name", sorted(SCHEMA_MODELS))
def test_schema_snapshot(name: str) -> None:
    schema = json.dumps(SCHEMA_MODELS[name].model_json_schema(), indent=2, sort_keys=True) + "\n"
    snapshot = HERE / "schemas" / f"{name}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(schema)
    assert snapshot.exists(), f"no snapshot for {name}: run with UPDATE_SNAPSHOTS=1"
    assert schema == snapshot.read_text(), f"{name} changed: review it, then UPDATE_SNAPSHOTS=1"


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(UnsupportedEvent, match="unknown event_type"):
        parse_event({"event_type": "DraftExploded"})


def test_an_unknown_schema_version_is_refused_not_half_read() -> None:
    raw = json.loads((HERE / "examples/v1/GenerationFailed.json").read_text())
    with pytest.raises(UnsupportedEvent, match="schema_version 3 of GenerationFailed"):
        parse_event({**raw, "schema_version": 3})


def test_versions_one_and_two_are_read_side_by_side() -> None:
    v1 = parse_event((HERE / "examples/v1/ProgressUpdated.json").read_bytes())
    v2 = parse_event((HERE / "examples/v2/ProgressUpdated.json").read_bytes())
    assert isinstance(v1, ProgressUpdated)
    assert isinstance(v2, ProgressUpdated)
    assert (v1.kind, v1.restart) == ("status", False)
    assert (v2.kind, v2.restart, v2.seq) == ("status", True, 7)
    assert v2.message == "the model's stream broke off; starting over with gpt-4o"
    chunk = json.loads((HERE / "examples/v2/ProgressUpdated.json").read_text())
    chunk.update(kind="chunk", text="hello", stage=None)
    assert parse_as(chunk, ProgressUpdated).content == "hello"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_last_stage_of_an_older_generator_still_reads(version: str) -> None:
    """Generators up to 0.2.0 called the FINISHING stage `saving`; such events may be in flight
    when the consumers upgrade, so both spellings read, and only the new one is written."""
    raw = json.loads((HERE / f"examples/{version}/ProgressUpdated.json").read_text())
    raw.update(kind="status", stage="saving")
    event = parse_as(raw, ProgressUpdated)
    assert event.stage is Stage.FINISHING
    assert json.loads(event.to_json())["stage"] == "finishing"
    assert sse.StatusMessage(stage="saving", message="x").stage is Stage.FINISHING
    with pytest.raises(ValidationError):
        parse_as({**raw, "stage": "stored"}, ProgressUpdated)


def test_parse_as_refuses_another_event_type() -> None:
    raw = (HERE / "examples/v1/GenerationFailed.json").read_bytes()
    with pytest.raises(UnsupportedEvent, match="GenerationFailed where DraftStored"):
        parse_as(raw, DraftStored)
    assert parse_as(raw, GenerationFailed).event_type == "GenerationFailed"


@pytest.mark.parametrize("payload", [b"[1, 2]", b"not json", b'"text"'])
def test_a_payload_that_is_not_an_object_is_a_value_error(payload: bytes) -> None:
    with pytest.raises(ValueError, match=r"JSON object|Expecting value"):
        parse_event(payload)


def test_correlation_id_defaults_to_task_id() -> None:
    task = uuid4()
    event = ProgressUpdated(task_id=task, producer="t", seq=1, kind="chunk", content="x")
    assert event.correlation_id == task
    assert event.key == str(task).encode()


def test_progress_shapes_are_checked() -> None:
    with pytest.raises(ValidationError):
        ProgressUpdated(task_id=uuid4(), producer="t", seq=1, kind="status")
    with pytest.raises(ValidationError):
        ProgressUpdated(task_id=uuid4(), producer="t", seq=0, kind="chunk", content="x")


def test_events_are_frozen() -> None:
    event = ProgressUpdated(task_id=uuid4(), producer="t", seq=1, kind="chunk", content="x")
    with pytest.raises(ValidationError):
        event.seq = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("given", "stored"),
    [("r/SaaS", "SaaS"), ("/r/selfhosted/", "selfhosted"), ("freelance", "freelance")],
)
def test_subreddit_prefix_is_stripped(given: str, stored: str) -> None:
    assert normalize_subreddit(given) == stored


@pytest.mark.parametrize("bad", ["", "r/", "a", "has space", "x" * 30, "r/../etc"])
def test_bad_subreddit_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a subreddit name"):
        normalize_subreddit(bad)


def test_sse_frames_are_unnamed_with_id() -> None:
    frame = sse.encode(7, sse.ChunkMessage(content="line one\nline two"))
    text = frame.decode()
    assert text.startswith("id: 7\ndata: {")
    assert text.endswith("\n\n")
    assert "event:" not in text
    assert text.count("\n") == 3  # the newline inside content is escaped in JSON


def test_failed_and_stored_carry_the_terminal_seq() -> None:
    assert GenerationFailed.model_fields["seq"].is_required() is False
    assert DraftStored.model_fields["seq"].is_required() is True


def test_a_failure_event_never_carries_an_http_only_code() -> None:
    raw = json.loads((HERE / "examples/v1/GenerationFailed.json").read_text())
    assert parse_as(raw, GenerationFailed).code == raw["code"]
    for code in HTTP_ONLY_CODES:
        with pytest.raises(ValidationError, match="never an event's"):
            parse_as({**raw, "code": code.value}, GenerationFailed)
    # The published schema says the same, so a consumer a release behind reads every event.
    allowed = GenerationFailed.model_json_schema()["properties"]["code"]["enum"]
    assert set(allowed) == {c.value for c in ErrorCode} - {c.value for c in HTTP_ONLY_CODES}


def test_nul_and_lone_surrogates_are_refused_anywhere_in_a_body() -> None:
    good = {
        "name": "x",
        "product_context": "0123456789",
        "keywords": ["a", "b", "c", "d", "e"],
        "target_subreddits": ["SaaS"],
    }
    assert api.CampaignCreate.model_validate(good).name == "x"
    for bad in ({**good, "name": "a\x00b"}, {**good, "keywords": ["a", "b", "c", "d", "e\x00"]}):
        with pytest.raises(ValidationError, match="NUL"):
            api.CampaignCreate.model_validate(bad)
    lone = {**good, "keywords": ["a", "b", "c", "d", "half a pair \ud800"]}
    with pytest.raises(ValidationError, match="lone surrogate"):
        api.CampaignCreate.model_validate(lone)
    assert api.CampaignCreate.model_validate({**good, "name": "emoji 😀"}).name == "emoji 😀"
    with pytest.raises(ValidationError, match="NUL"):
        api.ProfileIn.model_validate(
            {
                "isc_score": 5,
                "avg_sentence_length": 10,
                "formality_level": 8,
                "style_guide": {"words_to_use": ["ok\x00"]},
            }
        )


def test_parsed_json_refuses_nul_in_nested_models_and_keeps_an_escaped_backslash_u0000() -> None:
    """`parse` skips the per-string walk when the JSON has no NUL escape; the escape (in a nested
    model's value or a key) is still refused, and the text "\\u0000" is not a NUL."""
    good = {
        "name": "x",
        "product_context": "0123456789",
        "keywords": ["a", "b", "c", "d", "e"],
        "target_subreddits": ["SaaS"],
    }
    for bad in (
        {**good, "keywords": ["a", "b", "c", "d", "e\x00"]},
        {**good, "target_subreddits": ["Sa\x00aS"]},
        {**good, "n\x00me": "z"},
    ):
        with pytest.raises(ValidationError, match="NUL"):
            api.CampaignCreate.parse(json.dumps(bad).encode())
    literal = api.CampaignCreate.parse(json.dumps({**good, "name": "\\u0000"}))
    assert literal.name == "\\u0000"
    with pytest.raises(ValidationError, match="NUL"):
        api.ProfileIn.parse(
            json.dumps(
                {
                    "isc_score": 5,
                    "avg_sentence_length": 10,
                    "formality_level": 8,
                    "style_guide": {"words_to_use": ["ok\x00"]},
                }
            )
        )


@pytest.mark.parametrize("shape", ["bytes", "str", "dict"])
def test_an_event_with_nul_deep_inside_is_refused_whatever_shape_it_arrives_in(shape: str) -> None:
    """parse_event checks the text once per document (not once per nested model): a NUL in the
    draft's body, two models down, is still found, and a clean event still reads."""
    example = json.loads((HERE / "examples/v1/DraftGenerated.json").read_text())
    bad = json.loads(json.dumps(example))
    bad["draft"]["body"] = "fine until here\x00"
    forms = {"bytes": lambda d: json.dumps(d).encode(), "str": json.dumps, "dict": lambda d: d}
    with pytest.raises(ValidationError, match="NUL"):
        parse_event(forms[shape](bad))
    assert parse_event(forms[shape](example)).event_type == "DraftGenerated"


def test_draft_status_filters_repeat_or_list_with_commas_and_keep_first_seen_order() -> None:
    from bcrao_contracts.enums import DraftStatus, UnknownDraftStatus, parse_draft_statuses

    assert parse_draft_statuses(None) == []
    assert parse_draft_statuses(["posted, generated", "", "posted", " ,edited"]) == [
        DraftStatus.POSTED,
        DraftStatus.GENERATED,
        DraftStatus.EDITED,
    ]
    with pytest.raises(UnknownDraftStatus) as raised:
        parse_draft_statuses(["generated,zeta", "alpha"])
    assert raised.value.unknown == ["alpha", "zeta"]
    assert set(raised.value.allowed) == {s.value for s in DraftStatus}
