"""The AsyncAPI document lists what the generator consumes and publishes, with payload schemas."""

from __future__ import annotations

import httpx
from bcrao_contracts.events import GenerateRequested
from bcrao_generator.app import create_app
from bcrao_generator.config import Settings
from bcrao_generator.llm import OfflineComposer


async def test_asyncapi_document_names_each_topic_and_its_event() -> None:
    app = create_app(Settings(topic_prefix="docs."), llm=OfflineComposer())
    transport = httpx.ASGITransport(app=app)  # no lifespan: nothing connects to a broker
    async with httpx.AsyncClient(transport=transport, base_url="http://generator") as http:
        doc = (await http.get("/asyncapi.json")).json()
    assert doc["asyncapi"].startswith("3.")
    payloads = {
        channel["address"]: doc["components"]["messages"][
            next(iter(channel["messages"].values()))["$ref"].rsplit("/", 1)[1]
        ]["payload"]["$ref"].rsplit("/", 1)[1]
        for channel in doc["channels"].values()
    }
    dead_letters = payloads.pop("docs.drafts.generate-requested.dlq")
    assert dead_letters.endswith("DeadLetter:Message:Payload")  # raw bytes, any original payload
    assert payloads == {
        "docs.drafts.generate-requested": "GenerateRequested",
        "docs.drafts.progress": "ProgressUpdated",
        "docs.drafts.generated": "DraftGenerated",
        "docs.drafts.failed": "GenerationFailed",
    }
    schema = doc["components"]["schemas"]["GenerateRequested"]
    assert set(GenerateRequested.model_fields) <= set(schema["properties"])
    actions = {op["action"] for op in doc["operations"].values()}
    assert actions == {"receive", "send"}
