"""A shop's club policy: every rule the shop manager sets, validated as one document.

Policies are versioned (each edit is a new version; purchases record the version they
were computed with), so "why did I get 120 points?" always has an answer.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from mallnet.values import NO_CONTROL_HELP, Points, Rial, without_control_characters
from shop_node.domain.errors import FieldProblem, InvalidInput

BP = Annotated[int, Field(ge=0, le=10_000, strict=True)]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
# Validation context for a policy read back from the database: see ``_name``.
STORED = {"stored": True}


def _name(value: str, info: ValidationInfo) -> str:
    """A name has no control characters: they would reach the hub in the member's tier
    (which refuses them) and the screens that show it. A policy stored before this rule
    still loads, each control character read as a space, so its events pass."""
    cleaned = without_control_characters(value)
    if cleaned == value:
        return value
    if info.context == STORED:
        return cleaned
    raise ValueError(f"a name has {NO_CONTROL_HELP}")


Name = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_name)]
Days = Annotated[int, Field(ge=1, le=3650, strict=True)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProductGroup(_Model):
    code: Code
    name_fa: Name
    name_en: Name
    # Gross profit margin of the group; offers are checked against it before going live.
    margin_bp: BP = 3000


class EarningRule(_Model):
    """Credit as a share of the paid amount, and ``points`` for every ``per_rial`` paid."""

    credit_bp: BP = 0
    points: Points = 0
    per_rial: Annotated[int, Field(ge=1, le=10**12, strict=True)] = 10_000


class Tier(_Model):
    code: Code
    name_fa: Name
    name_en: Name
    threshold: Points  # earned points, or Rial spent in 12 months (the same bound)
    # Applied to points and credit earned by purchases: 10_000 = x1, 15_000 = x1.5.
    multiplier_bp: Annotated[int, Field(ge=0, le=100_000, strict=True)] = 10_000


class FrequencyRule(_Model):
    """Punch card: a reward on every ``every_visits``-th purchase."""

    every_visits: Annotated[int, Field(ge=2, le=1000, strict=True)]
    reward_points: Points = 0
    reward_credit_rial: Rial = 0


class BirthdayGift(_Model):
    """What a member gets on her birthday, once a year, and for how long it stays."""

    points: Points = 0
    credit_rial: Rial = 0
    valid_days: Days = 30


class Messaging(_Model):
    """How the club talks to its members: the name its messages carry, which kinds of
    service message it sends (every kind unless turned off), and its birthday gift."""

    sender_name_fa: Name | None = None
    sender_name_en: Name | None = None
    off: list[Code] = Field(default_factory=list, max_length=20)
    birthday_gift: BirthdayGift | None = None


class ClubPolicy(_Model):
    open_club: bool = True
    welcome_points: Points = 0
    welcome_credit_rial: Rial = 0
    product_groups: Annotated[list[ProductGroup], Field(min_length=1, max_length=200)]
    earning: EarningRule = EarningRule()
    earning_by_group: dict[str, EarningRule] = Field(default_factory=dict)
    max_points_per_purchase: Points | None = None
    max_credit_per_purchase_rial: Rial | None = None
    # How much of one purchase may be paid with credit (10_000 = all of it).
    max_credit_spend_bp: BP = 10_000
    tier_basis: Literal["earned_points", "spend_12m"] = "earned_points"
    tiers: Annotated[list[Tier], Field(min_length=1, max_length=20)]
    frequency: FrequencyRule | None = None
    points_valid_days: Days | None = None
    credit_valid_days: Days | None = None
    messaging: Messaging = Messaging()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # Each problem names the field a form shows it at (the second of two equal codes,
        # the tier out of order), not the policy as a whole.
        located: list[tuple[tuple[str | int, ...], str]] = []
        seen: set[str] = set()
        for i, group in enumerate(self.product_groups):
            if group.code in seen:
                located.append(
                    (("product_groups", i, "code"), "product group codes must be unique")
                )
            seen.add(group.code)
        for code in sorted(set(self.earning_by_group) - seen):
            located.append((("earning_by_group", code), "names an unknown product group"))
        seen = set()
        for i, tier in enumerate(self.tiers):
            if tier.code in seen:
                located.append((("tiers", i, "code"), "tier codes must be unique"))
            seen.add(tier.code)
        if self.tiers[0].threshold != 0:
            located.append(
                (
                    ("tiers", 0, "threshold"),
                    "the first tier is the base tier: its threshold must be 0",
                )
            )
        for i in range(1, len(self.tiers)):
            if self.tiers[i].threshold <= self.tiers[i - 1].threshold:
                located.append(
                    (("tiers", i, "threshold"), "tier thresholds must strictly increase")
                )
        if located:
            raise ValidationError.from_exception_data(
                "ClubPolicy",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("policy_rule", message), loc=loc, input=None
                    )
                    for loc, message in located
                ],
            )
        return self

    @property
    def group_codes(self) -> frozenset[str]:
        return frozenset(g.code for g in self.product_groups)

    def rule_for(self, group: str) -> EarningRule:
        return self.earning_by_group.get(group, self.earning)

    def tier_for(self, metric: int) -> Tier:
        """The highest tier whose threshold ``metric`` reaches."""
        reached = self.tiers[0]
        for tier in self.tiers:
            if metric >= tier.threshold:
                reached = tier
        return reached

    def next_tier(self, current: Tier) -> Tier | None:
        index = [t.code for t in self.tiers].index(current.code)
        return self.tiers[index + 1] if index + 1 < len(self.tiers) else None


def parse_policy(document: object) -> ClubPolicy:
    """Validate a policy document. Field problems are reported together, each with its
    path; checks across fields (unknown groups, tier order) run once the fields are valid."""
    try:
        return ClubPolicy.model_validate(document)
    except ValidationError as exc:
        raise InvalidInput(
            [
                FieldProblem(
                    "policy"
                    + "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in e["loc"]),
                    e["msg"],
                )
                for e in exc.errors()
            ]
        ) from None


DEFAULT_POLICY = ClubPolicy(
    open_club=True,
    welcome_points=50,
    product_groups=[ProductGroup(code="general", name_fa="عمومی", name_en="General")],
    earning=EarningRule(credit_bp=500, points=1, per_rial=10_000),
    tiers=[
        Tier(code="bronze", name_fa="برنزی", name_en="Bronze", threshold=0),
        Tier(
            code="silver", name_fa="نقره‌ای", name_en="Silver", threshold=500, multiplier_bp=12_500
        ),
        Tier(code="gold", name_fa="طلایی", name_en="Gold", threshold=2_000, multiplier_bp=15_000),
    ],
    frequency=FrequencyRule(every_visits=10, reward_points=100),
    points_valid_days=365,
    credit_valid_days=90,
)
