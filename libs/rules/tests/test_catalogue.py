"""The rules document agrees with the functions that enforce the rules."""

from __future__ import annotations

import itertools
import json

import pytest
from bcrao_contracts.enums import AccountStatus, Archetype, DraftStatus
from bcrao_contracts.models import isc_tier
from bcrao_rules.catalogue import rules_document
from bcrao_rules.gating import check_gating
from bcrao_rules.scoring import band

DOC = rules_document()


def test_it_is_plain_json_with_the_agreed_keys() -> None:
    assert json.loads(json.dumps(DOC)) == DOC
    assert set(DOC) == {
        "isc", "archetypes", "account_statuses", "draft_transitions", "plans", "limits",
        "score_bands", "usage_warning_fraction",
    }  # fmt: skip
    assert DOC["usage_warning_fraction"] == 0.8
    assert DOC["plans"]["growth"]["drafts_per_month"] is None
    assert DOC["plans"]["trial"] == {"drafts_per_month": 10, "spend_usd_per_month": 5.0}
    assert DOC["limits"]["title_max"] == 300
    assert DOC["limits"]["body_max"] == 40_000


def test_tiers_match_the_tier_labels() -> None:
    tiers = DOC["isc"]["tiers"]
    assert tiers[-1]["below"] is None
    for tier, following in itertools.pairwise(tiers):
        assert isc_tier(tier["below"] - 0.01) == tier["label"]
        assert isc_tier(tier["below"]) == following["label"]


def test_the_block_threshold_is_the_one_gating_applies() -> None:
    limit = DOC["isc"]["archetype_block_above"]
    for name in DOC["isc"]["blocked_archetypes"]:
        status = AccountStatus.ESTABLISHED
        assert check_gating(Archetype(name), status, limit).allowed
        assert not check_gating(Archetype(name), status, limit + 0.01).allowed
    assert check_gating(Archetype.FEEDBACK, AccountStatus.ESTABLISHED, 10.0).allowed


@pytest.mark.parametrize("status", list(AccountStatus))
def test_account_rules_match_gating(status: AccountStatus) -> None:
    rules = DOC["account_statuses"][status.value]
    for archetype in Archetype:
        allowed = check_gating(archetype, status, DOC["isc"]["default"]).allowed
        assert (archetype.value in rules["allowed_archetypes"]) is allowed
    assert DOC["account_statuses"]["New"] == {
        "allowed_archetypes": ["Feedback"], "links": False, "product_mention": False,
    }  # fmt: skip


def test_every_status_has_its_transitions_and_final_ones_have_none() -> None:
    assert set(DOC["draft_transitions"]) == {s.value for s in DraftStatus}
    assert DOC["draft_transitions"]["posted"] == []
    assert "posted" in DOC["draft_transitions"]["approved"]


def test_score_bands_match_the_band_function() -> None:
    for entry in DOC["score_bands"]:
        assert band(entry["min"]) == entry["label"]
