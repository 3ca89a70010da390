"""The schema checker on synthetic schemas: what it must call breaking, and what it must let by."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from bcrao_testkit.schema_compat import (
    Break,
    allowed,
    catalogue_breaks,
    major,
    openapi_breaks,
    schema_breaks,
)

EVENT: dict[str, Any] = {
    "title": "DraftGenerated",
    "type": "object",
    "required": ["task_id", "draft"],
    "properties": {
        "task_id": {"type": "string", "format": "uuid"},
        "schema_version": {"const": 1, "default": 1},
        "stage": {"$ref": "#/$defs/Stage"},
        "draft": {"$ref": "#/$defs/Draft"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "parent": {"anyOf": [{"$ref": "#/$defs/Draft"}, {"type": "null"}], "default": None},
    },
    "$defs": {
        "Stage": {"enum": ["queued", "generating"], "type": "string"},
        "Draft": {
            "type": "object",
            "required": ["title"],
            "properties": {
                "title": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "replies": {"type": "array", "items": {"$ref": "#/$defs/Draft"}},  # recursive
            },
        },
    },
}


def changed(edit: Any) -> dict[str, Any]:
    new = copy.deepcopy(EVENT)
    edit(new)
    return new


def test_the_same_schema_has_no_break() -> None:
    assert schema_breaks(EVENT, copy.deepcopy(EVENT)) == []


def test_a_removed_field_is_caught() -> None:
    new = changed(lambda s: s["properties"].pop("note"))
    assert schema_breaks(EVENT, new, "E") == [Break("E.note", "removed field")]


def test_a_field_removed_from_a_nested_model_is_caught() -> None:
    new = changed(lambda s: s["$defs"]["Draft"]["properties"].pop("tags"))
    assert Break("E.draft.tags", "removed field") in schema_breaks(EVENT, new, "E")


def test_a_changed_type_is_caught() -> None:
    new = changed(lambda s: s["$defs"]["Draft"]["properties"].update(title={"type": "integer"}))
    assert Break("E.draft.title", "changed type: string -> integer") in schema_breaks(
        EVENT, new, "E"
    )


def test_a_changed_item_type_and_nullability_are_caught() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["$defs"]["Draft"]["properties"]["tags"]["items"] = {"type": "integer"}
        s["properties"]["note"] = {"type": "string"}

    breaks = schema_breaks(EVENT, changed(edit), "E")
    assert Break("E.draft.tags[]", "changed type: string -> integer") in breaks
    assert Break("E.note", "changed type: null|string -> string") in breaks


def test_a_new_required_field_and_a_field_made_required_are_caught() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["verdict"] = {"type": "string"}
        s["required"] += ["verdict", "note"]

    breaks = schema_breaks(EVENT, changed(edit), "E")
    assert Break("E.verdict", "new required field") in breaks
    assert Break("E.note", "field became required") in breaks


def test_enum_values_removed_or_added_are_caught() -> None:
    new = changed(lambda s: s["$defs"]["Stage"].update(enum=["queued", "scoring"]))
    (found,) = schema_breaks(EVENT, new, "E")
    assert found.where == "E.stage"
    assert "removed 'generating'" in found.what
    assert "added 'scoring'" in found.what


def test_a_changed_constant_is_caught() -> None:
    new = changed(lambda s: s["properties"].update(schema_version={"const": 2, "default": 2}))
    assert [b.where for b in schema_breaks(EVENT, new, "E")] == ["E.schema_version"]


def test_additive_changes_pass() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["verdict"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
        s["$defs"]["Draft"]["properties"]["score"] = {"type": "number", "default": 0}
        s["$defs"]["Draft"]["description"] = "reworded"
        s["$defs"]["Renamed"] = s["$defs"].pop("Draft")  # a model renamed, same shape
        s["$defs"]["Renamed"]["properties"]["replies"]["items"] = {"$ref": "#/$defs/Renamed"}
        s["properties"]["draft"] = {"$ref": "#/$defs/Renamed"}
        s["properties"]["parent"]["anyOf"][0] = {"$ref": "#/$defs/Renamed"}

    assert schema_breaks(EVENT, changed(edit)) == []


def test_a_removed_event_version_is_caught_and_a_new_one_passes() -> None:
    old = {"DraftGenerated.v1": EVENT, "DraftStored.v1": EVENT}
    assert catalogue_breaks(old, {"DraftGenerated.v1": EVENT}) == [
        Break("DraftStored.v1", "removed schema")
    ]
    assert catalogue_breaks(old, {**old, "DraftGenerated.v2": EVENT}) == []


API: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/internal/users/{user_id}/plan": {
            "put": {
                "parameters": [
                    {
                        "name": "user_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/P"}}},
                },
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/P"}}
                        }
                    }
                },
            },
            "get": {"responses": {"200": {"description": "ok"}}},
        }
    },
    "components": {
        "schemas": {
            "P": {
                "type": "object",
                "required": ["plan"],
                "properties": {"plan": {"type": "string"}, "until": {"type": "string"}},
            }
        }
    },
}


def test_a_removed_endpoint_is_caught() -> None:
    new = copy.deepcopy(API)
    del new["paths"]["/internal/users/{user_id}/plan"]["get"]
    assert openapi_breaks(API, new) == [
        Break("GET /internal/users/{user_id}/plan", "removed endpoint")
    ]


def test_body_changes_and_new_required_parameters_are_caught() -> None:
    new = copy.deepcopy(API)
    new["components"]["schemas"]["P"]["properties"]["plan"] = {"type": "integer"}
    new["components"]["schemas"]["P"]["properties"].pop("until")
    new["paths"]["/internal/users/{user_id}/plan"]["put"]["parameters"].append(
        {"name": "reason", "in": "query", "required": True, "schema": {"type": "string"}}
    )
    label = "PUT /internal/users/{user_id}/plan"
    assert set(openapi_breaks(API, new)) == {
        Break(f"{label} body.plan", "changed type: string -> integer"),
        Break(f"{label} 200.plan", "changed type: string -> integer"),
        Break(f"{label} body.until", "removed field"),
        Break(f"{label} 200.until", "removed field"),
        Break(f"{label} query.reason", "new required parameter"),
    }


def test_an_added_endpoint_and_optional_field_pass() -> None:
    new = copy.deepcopy(API)
    new["paths"]["/internal/other"] = {"get": {"responses": {}}}
    new["components"]["schemas"]["P"]["properties"]["note"] = {"type": "string"}
    assert openapi_breaks(API, new) == []


@pytest.mark.parametrize(
    ("released", "current", "ok"),
    [
        ("0.2.0", "0.2.1", False),
        ("0.2.0", "0.3.0", True),
        ("0.2.5", "1.0.0", True),
        ("1.4.0", "1.9.0", False),
        ("1.4.0", "2.0.0", True),
    ],
)
def test_a_break_needs_a_new_major(released: str, current: str, ok: bool) -> None:
    breaks = [Break("E.x", "removed field")]
    assert allowed(breaks, released, current) is ok
    assert allowed([], released, current)


def test_major_below_one_is_the_first_non_zero_part() -> None:
    assert major("0.2.7") == (0, 2)
    assert major("3.1.4") == (3,)
    assert major("0.0.3") == (0, 0, 3)
