"""The campaigns `make eval` runs: the demo campaign and eight products from unrelated fields.

Invented, each with its own subreddit, profile (sensitivity from relaxed to very high, so every
gating rule is exercised), blacklist (several blacklist their own product name, high severity,
as a marketer does) and a user context, plus regeneration feedback that asks to drop a word and
to cover a topic. Four communities state posting rules the drafts must keep (no links, links
only to other sites, a banned link site, title bounds, banned title words, a required flair).
"""

from __future__ import annotations

from dataclasses import dataclass

from bcrao_contracts import demo
from bcrao_contracts.requirements import CommunityRequirements


@dataclass(frozen=True)
class EvalCampaign:
    key: str
    field: str
    name: str
    product_context: str
    keywords: tuple[str, ...]
    subreddit: str
    context: str
    isc: float | None  # None: no profile
    avg_sentence: float = 15.0
    grade: float = 7.0
    product_url: str | None = None
    blacklist: tuple[str, ...] = ()  # literals, high severity
    feedback: str = ""
    asked: str = ""  # what the feedback asks to cover (its content words must appear)
    dropped: tuple[str, ...] = ()  # what the feedback asks to drop (must be gone)
    example_posts: tuple[str, ...] = ()
    # The community's posting rules, on its profile (only campaigns with a profile hold some).
    requirements: CommunityRequirements | None = None


CAMPAIGNS: tuple[EvalCampaign, ...] = (
    EvalCampaign(
        key="invoicely",
        field="B2B tool (the demo)",
        name=demo.CAMPAIGN.name,
        product_context=demo.CAMPAIGN.product_context,
        keywords=tuple(demo.CAMPAIGN.keywords),
        subreddit="SaaS",
        context="Chasing late payments from freelance clients eats a day of every month",
        isc=6.4,
        avg_sentence=17.3,
        grade=7.9,
        product_url=str(demo.CAMPAIGN.product_url),
        # Links allowed, to the product's own site only: the composer may link it.
        requirements=CommunityRequirements(
            allowed_link_domains=["invoicely.example.com"], title_min_length=25
        ),
        blacklist=("I built", "my app", "free trial", "check out my"),
        feedback="Shorter please, and less salesy: no product name at all",
        asked="",
    ),
    EvalCampaign(
        key="plotwise",
        field="consumer app",
        name="Plotwise beta",
        product_context=(
            "Plotwise is a garden-planning app for home vegetable gardeners: bed layouts, "
            "sowing calendars and frost alerts. Free for one garden, $4/month for more."
        ),
        keywords=(
            "garden planner",
            "raised beds",
            "companion planting",
            "vegetable garden",
            "sowing calendar",
        ),
        subreddit="vegetablegardening",
        context=(
            "My raised beds were a mess last year, the tomatoes shaded everything else and "
            "I lost most of the carrots."
        ),
        isc=8.5,
        avg_sentence=13.0,
        grade=6.0,
        product_url="https://plotwise.example.com",
        blacklist=("Plotwise",),
        feedback=(
            "Do not name the product. Ask about how people lay out raised beds instead, "
            "and drop the word widget"
        ),
        asked="how people lay out raised beds",
        dropped=("widget",),
        example_posts=(
            "First year with raised beds and the widget my neighbour built for the hose is the "
            "best thing in the garden. Winter was rough but the garlic made it.",
        ),
    ),
    EvalCampaign(
        key="shiftly",
        field="B2B tool",
        name="Shiftly",
        product_context=(
            "Shiftly is a shift-scheduling tool for small restaurants: rotas, swaps and "
            "time-off requests in one place."
        ),
        keywords=("shift scheduling", "staff rota", "shift swaps", "restaurant staff", "time off"),
        subreddit="restaurantowners",
        context="Our rota lives in a group chat and someone misses a shift every week.",
        isc=5.5,
        avg_sentence=16.0,
        grade=7.5,
        product_url="https://shiftly.example.com",
        requirements=CommunityRequirements(
            links_allowed=False, title_max_length=70, banned_title_words=["rota"]
        ),
        feedback="Too long. Drop the word rota and talk about covering last-minute sick calls",
        asked="covering last-minute sick calls",
        dropped=("rota",),
    ),
    EvalCampaign(
        key="trailpack",
        field="physical product",
        name="Trailpack 30",
        product_context=(
            "Trailpack 30 is a 30-litre hiking backpack with a removable frame and a "
            "rain cover built into the lid."
        ),
        keywords=("hiking backpack", "day hikes", "pack weight", "rain cover", "hip belt"),
        subreddit="hiking",
        context="My old pack rubbed my shoulders raw on anything over ten miles.",
        isc=4.0,
        avg_sentence=14.0,
        grade=6.5,
        product_url="https://trailpack.example.com",
        requirements=CommunityRequirements(
            banned_link_domains=["example.com"],
            title_min_length=40,
            required_flairs=["Gear", "Trip Report", "Question"],
        ),
        blacklist=("buy now", "discount"),
        feedback="Less of a pitch, and ask about how people carry water on long day hikes",
        asked="how people carry water on long day hikes",
    ),
    EvalCampaign(
        key="pawsitive",
        field="local service",
        name="Pawsitive Walks",
        product_context=(
            "Pawsitive Walks is a dog-walking service in Leeds: solo walks, puppy visits "
            "and weekend boarding."
        ),
        keywords=("dog walking", "puppy visits", "dog walkers", "weekend boarding", "Leeds"),
        subreddit="Leeds",
        context="",
        isc=7.2,
        avg_sentence=12.0,
        grade=5.5,
        blacklist=("Pawsitive",),
        feedback="Keep it personal and cover finding a walker you can trust",
        asked="finding a walker you can trust",
    ),
    EvalCampaign(
        key="hexfall",
        field="game",
        name="Hexfall",
        product_context=(
            "Hexfall is a turn-based strategy game on a hex grid, made by two people, coming "
            "to Steam next spring."
        ),
        keywords=("turn-based strategy", "hex grid", "indie game", "playtesting", "game balance"),
        subreddit="indiegames",
        context="Playtesters keep saying the second map is too hard, and I can't tell why.",
        isc=3.0,
        avg_sentence=15.0,
        grade=7.0,
        product_url="https://hexfall.example.com",
        requirements=CommunityRequirements(
            allowed_link_domains=["itch.io", "store.steampowered.com"],
            title_max_length=60,
            banned_title_words=["turn-based strategy", "feedback"],
        ),
        feedback="Drop the word playtesting and ask about how people balance difficulty curves",
        asked="how people balance difficulty curves",
        dropped=("playtesting",),
    ),
    EvalCampaign(
        key="foodshare",
        field="non-profit",
        name="Northside Food Share",
        product_context=(
            "Northside Food Share is a volunteer-run food bank that collects surplus from "
            "local shops and delivers it to families."
        ),
        keywords=("food bank", "volunteers", "food waste", "surplus food", "community fridge"),
        subreddit="nonprofit",
        context="We keep losing volunteers after their second or third shift.",
        isc=6.8,
        avg_sentence=16.0,
        grade=8.0,
        feedback="Ask about how other groups keep volunteers coming back, and shorter",
        asked="how other groups keep volunteers coming back",
    ),
    EvalCampaign(
        key="soilsense",
        field="hardware",
        name="SoilSense",
        product_context=(
            "SoilSense is a solar-powered soil moisture sensor that sends readings to your "
            "phone over LoRa."
        ),
        keywords=("soil moisture sensor", "LoRa", "solar power", "home automation", "irrigation"),
        subreddit="homeautomation",
        context="The sensors I tried ate batteries in a month and lost signal past the shed.",
        isc=None,
        blacklist=("SoilSense",),
        feedback="Drop the word LoRa and cover battery life in winter",
        asked="battery life in winter",
        dropped=("lora",),
    ),
    EvalCampaign(
        key="lingolane",
        field="education",
        name="LingoLane",
        product_context=(
            "LingoLane is an online Spanish course for adult beginners with weekly live "
            "conversation classes."
        ),
        keywords=(
            "learning Spanish",
            "adult learners",
            "conversation practice",
            "language exchange",
            "grammar drills",
        ),
        subreddit="languagelearning",
        context="I can read Spanish fine but freeze when someone actually talks to me.",
        isc=7.8,
        avg_sentence=15.5,
        grade=7.0,
        product_url="https://lingolane.example.com",
        blacklist=("LingoLane", "sign up"),
        feedback="Drop the word grammar and ask about how people got over the fear of speaking",
        asked="how people got over the fear of speaking",
        dropped=("grammar",),
    ),
)
