"""docs/asyncapi/*.yaml: valid AsyncAPI (checked by the reference parser, offline), current with
the services' declarations, and carrying each event's contract schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from bcrao_contracts import events
from bcrao_contracts import topics as contract
from bcrao_stacktest.scripts import load_script

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs/asyncapi"
VALIDATOR = ROOT / "tests/asyncapi/validate.cjs"
PARSER_DIR = ROOT / ".state/asyncapi-parser"  # git-ignored; installed on first use
PARSER = "@asyncapi/parser@3.6.6"
# What each service consumes (receive) and publishes (send), by topic and event.
EXPECTED = {
    "generator": {
        "receive": {contract.GENERATE_REQUESTED: "GenerateRequested"},
        "send": {
            contract.PROGRESS: "ProgressUpdated",
            contract.GENERATED: "DraftGenerated",
            contract.FAILED: "GenerationFailed",
        },
    },
    "draft-store": {
        "receive": {contract.GENERATED: "DraftGenerated", contract.FAILED: "GenerationFailed"},
        "send": {contract.STORED: "DraftStored"},
    },
}


def _unavailable(why: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="module")
def parser_dir() -> Path:
    if shutil.which("node") is None:
        _unavailable("node is not installed: cannot run @asyncapi/parser")
    if not (PARSER_DIR / "node_modules/@asyncapi/parser").exists():
        if shutil.which("npm") is None:
            _unavailable(f"npm is not installed: cannot install {PARSER}")
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(PARSER_DIR),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                PARSER,
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return PARSER_DIR


def validate(parser_dir: Path, *files: Path) -> tuple[int, list[dict[str, Any]]]:
    done = subprocess.run(
        ["node", str(VALIDATOR), str(parser_dir), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout, done.stderr
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def load(service: str) -> dict[str, Any]:
    return yaml.safe_load((DOCS / f"{service}.yaml").read_text())


def test_the_documents_are_valid_asyncapi(parser_dir: Path) -> None:
    code, results = validate(parser_dir, *(DOCS / f"{s}.yaml" for s in EXPECTED))
    assert code == 0, results
    for result in results:
        assert result["errors"] == [], result["file"]
        assert result["channels"], result["file"]


def test_the_validator_rejects_a_broken_document(parser_dir: Path, tmp_path: Path) -> None:
    broken = load("draft-store")
    del broken["info"]
    broken["operations"][next(iter(broken["operations"]))]["action"] = "emit"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    code, [result] = validate(parser_dir, path)
    assert code == 1
    assert result["errors"]


def payload_schema(doc: dict[str, Any], message_ref: str) -> str:
    """The name of the components schema a message's payload is (following $refs)."""
    node = doc["components"]["messages"][message_ref.rsplit("/", 1)[1]]["payload"]
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = doc["components"]["schemas"][name]
    return name


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_each_operation_carries_its_event_schema(service: str) -> None:
    doc = load(service)
    found: dict[str, dict[str, Any]] = {"receive": {}, "send": {}}
    for operation in doc["operations"].values():
        channel = doc["channels"][operation["channel"]["$ref"].rsplit("/", 1)[1]]
        found[operation["action"]][channel["address"]] = channel
    for action, wanted in EXPECTED[service].items():
        for topic, event in wanted.items():
            assert topic in found[action], f"{service} does not {action} {topic}"
            channel = found[action][topic]
            assert channel["description"], f"{topic} has no description"
            [message] = channel["messages"].values()
            assert payload_schema(doc, message["$ref"]) == event, topic
    schemas = doc["components"]["schemas"]
    for event in {e for wanted in EXPECTED[service].values() for e in wanted.values()}:
        model = getattr(events, event)
        assert set(schemas[event]["properties"]) == set(model.model_json_schema()["properties"])


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_the_documents_are_current(service: str) -> None:
    generate = load_script("gen_asyncapi")
    assert (DOCS / f"{service}.yaml").read_text() == generate.render(service), (
        f"docs/asyncapi/{service}.yaml is stale: run `make docs`"
    )
