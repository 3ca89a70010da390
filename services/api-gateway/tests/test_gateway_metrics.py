"""/metrics: prometheus_client's format, closed unless local or given its bearer token."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

REQUEST = {"subreddit": "SaaS", "archetype": "Feedback"}


def families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


async def test_metrics_are_closed_for_a_non_local_gateway_without_a_token(
    make_client: Any,
) -> None:
    _, client = await make_client(host="0.0.0.0")
    response = await client.get("/metrics")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_REQUIRED"
    assert "http_requests" not in response.text


async def test_metrics_need_the_bearer_token_when_one_is_set(make_client: Any) -> None:
    token = "metrics-token-" + "m" * 20
    _, client = await make_client(host="0.0.0.0", metrics_token=token)
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401
    ok = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert "http_requests" in families(ok.text)


async def test_generate_outcomes_are_labelled_by_code_and_routes_by_template(
    make_client: Any, alice: dict[str, str], campaign_body: dict[str, Any], fake_store: Any
) -> None:
    _, client = await make_client(generate_rate_per_minute=1)
    cid = (await client.post("/v1/campaigns", json=campaign_body, headers=alice)).json()["id"]
    url = f"/v1/campaigns/{cid}/drafts/generate"
    assert (await client.post(url, json=REQUEST, headers=alice)).status_code == 202
    assert (await client.post(url, json=REQUEST, headers=alice)).status_code == 429
    found = families((await client.get("/metrics")).text)

    refused = {s.labels["code"]: s.value for s in found["gateway_generate_refused"].samples}
    assert refused == {"RATE_LIMITED": 1.0}
    requests = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in found["http_requests"].samples
        if s.name == "http_requests_total"
    }
    template = "/v1/campaigns/{campaign_id}/drafts/generate"
    assert requests[(template, "202")] == 1.0
    assert requests[(template, "429")] == 1.0
    assert not any(cid in route for route, _ in requests)  # templates, not raw paths
    assert "http_request_duration_seconds" in found
