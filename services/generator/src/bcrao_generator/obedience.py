"""Which rules a generated draft must keep, and which it breaks, in the generator's terms.

The checks themselves belong to `bcrao_rules.verdicts` (one owner per rule: gating's zero links,
no product, the product only in the last paragraph, no pitch, and the community's requirements).
This module only builds their inputs for a generation request: the gating outcome stored in the
generation parameters, the profile the draft was generated with, and the product's names plus
the short description the offline composer would write for it ("a garden-planning app"), so a
draft that describes the product where it must not appear fails like one that names it. The LLM
path's repair round lists what fails; `make eval` counts it (target: none).
"""

from __future__ import annotations

from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.models import GenerationParams
from bcrao_contracts.requirements import RuleVerdict
from bcrao_rules import verdicts

from .offline import product_facts


def product_markers(request: GenerateRequested) -> list[str]:
    """How a text describes the product besides its name: its description without the article."""
    _name, desc = product_facts(request.campaign.product_context)
    return [desc.split(" ", 1)[1]] if desc and " " in desc else []


def generation_rules(request: GenerateRequested, params: GenerationParams) -> verdicts.RuleInputs:
    url = request.campaign.product_url
    return verdicts.rule_inputs(
        params,
        product_context=request.campaign.product_context,
        product_url=str(url) if url else None,
        profile=request.profile,
        also_named=product_markers(request),
    )


def failed_rules(
    request: GenerateRequested, params: GenerationParams, title: str, body: str, flair: str | None
) -> list[RuleVerdict]:
    rules = generation_rules(request, params)
    return [v for v in verdicts.check_rules(title, body, flair, rules) if not v.passed]


def rule_problems(failed: list[RuleVerdict]) -> list[str]:
    """Failed verdicts as lines a model can act on: the rule and its reason."""
    return [f"{v.label}: {v.reason}" for v in failed]
