"""An offer as a shop manager defines it: a JSON document with a published JSON Schema
(``offer_schema()``, written to ``docs/offer.schema.json``), validated here with every
problem located at its part (``offer.audience.of[1].gt``).

Two kinds (seed 001): a *permanent* offer applies at every purchase while its conditions
hold; a *one-time* offer is granted at launch to the members its audience selects, each
grant usable once within ``valid_days``.

Conditions compose with ``all`` / ``any`` / ``not``. ``audience`` speaks of the member's
own history at this shop (visits, spend, tier, tags, product groups, recency...);
``when`` speaks of the purchase itself (the basket, the day and hour). A one-time offer's
audience is decided at launch, when there is no basket: a basket or time condition there
is refused at its place.

Rewards: extra credit (percentage points of the amount paid, on top of the club's own),
a discount, bonus points, fixed credit; the percentages may be limited to some product
groups. Amounts are integers (Rial, points); shares are basis points (10_000 = 100%).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from mallnet.values import NO_CONTROL_HELP, Rial, without_control_characters
from shop_node.domain.policy import BP, Code, Days

MAX_DISCOUNT_BP = 9_000
MAX_BONUS_POINTS = 1_000_000
HourMinute = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
MAX_DEPTH = 6  # nesting of all/any/not


def _text(value: str) -> str:
    if without_control_characters(value) != value:
        raise ValueError(f"a name has {NO_CONTROL_HELP}")
    return value


Name = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_text)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Compare(_Model):
    """A number compared: every bound given must hold (``gt`` 10 and ``lte`` 20: 11–20)."""

    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Self:
        if (self.gt, self.gte, self.lt, self.lte) == (None, None, None, None):
            raise PydanticCustomError("no_bound", "give at least one of gt, gte, lt, lte")
        return self

    def admits(self, value: int) -> bool:
        return (
            (self.gt is None or value > self.gt)
            and (self.gte is None or value >= self.gte)
            and (self.lt is None or value < self.lt)
            and (self.lte is None or value <= self.lte)
        )


# --- about the member's history at this shop -------------------------------------------


class Visits(_Compare):
    """How many purchases the member has made here (refunded in full: not counted)."""

    kind: Literal["visits"]


class TotalSpend(_Compare):
    """What the member has paid here in all, in Rial."""

    kind: Literal["total_spend_rial"]


class AverageBasket(_Compare):
    """The average purchase over the member's last ``last_visits`` visits (all, if not
    given), in Rial; a member with no visit does not match."""

    kind: Literal["average_basket_rial"]
    last_visits: Annotated[int, Field(ge=1, le=1000, strict=True)] | None = None


class DaysSinceLastVisit(_Compare):
    """Whole days since the member's last purchase here; no purchase: never matches."""

    kind: Literal["days_since_last_visit"]


class VisitGap(_Compare):
    """The average gap between the member's visits here, in whole days (two visits at least)."""

    kind: Literal["visit_gap_days"]


class TierIs(_Model):
    kind: Literal["tier"]
    codes: Annotated[list[Code], Field(min_length=1, max_length=20)]


class MembershipIs(_Model):
    kind: Literal["membership_type"]
    types: Annotated[
        list[Literal["individual", "company", "employee"]], Field(min_length=1, max_length=3)
    ]


class Tagged(_Model):
    """The member carries at least one of the tags."""

    kind: Literal["tag"]
    any_of: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]], Field(min_length=1, max_length=50)
    ]


class BoughtGroup(_Model):
    """The member bought from the product group here (within the last ``within_days``)."""

    kind: Literal["bought_group"]
    group: Code
    within_days: Days | None = None


class NeverBoughtGroup(_Model):
    kind: Literal["never_bought_group"]
    group: Code


class BirthdayWithin(_Model):
    """The member's birthday falls between ``days_before`` days ago and ``days_after`` days
    ahead (a member with no birthday recorded does not match)."""

    kind: Literal["birthday_within"]
    days_before: Annotated[int, Field(ge=0, le=60, strict=True)] = 0
    days_after: Annotated[int, Field(ge=0, le=60, strict=True)] = 0


class Joined(_Model):
    """The member joined on or after ``on_or_after`` and before ``before`` (Tehran days)."""

    kind: Literal["joined"]
    on_or_after: dt.date | None = None
    before: dt.date | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Self:
        if self.on_or_after is None and self.before is None:
            raise PydanticCustomError("no_bound", "give on_or_after, before or both")
        return self


# --- about the purchase itself ------------------------------------------------------------


class Weekday(_Model):
    """The purchase's Tehran weekday: 0 Saturday … 6 Friday (the Iranian week)."""

    kind: Literal["weekday"]
    days: Annotated[
        list[Annotated[int, Field(ge=0, le=6, strict=True)]], Field(min_length=1, max_length=7)
    ]


class Hours(_Model):
    """The purchase's Tehran time of day, from ``start`` up to ``end`` (across midnight when
    ``end`` is earlier)."""

    kind: Literal["hours"]
    start: HourMinute
    end: HourMinute


class BasketAmount(_Compare):
    """The purchase's total before any offer, in Rial."""

    kind: Literal["basket_rial"]


class BasketHasGroup(_Model):
    """The purchase has a line of one of the product groups."""

    kind: Literal["basket_has_group"]
    groups: Annotated[list[Code], Field(min_length=1, max_length=50)]


MEMBER_KINDS = frozenset(
    {
        "visits",
        "total_spend_rial",
        "average_basket_rial",
        "days_since_last_visit",
        "visit_gap_days",
        "tier",
        "membership_type",
        "tag",
        "bought_group",
        "never_bought_group",
        "birthday_within",
        "joined",
    }
)
PURCHASE_KINDS = frozenset({"weekday", "hours", "basket_rial", "basket_has_group"})


class All(_Model):
    kind: Literal["all"]
    of: Annotated[list[Condition], Field(min_length=1, max_length=50)]


class AnyOf(_Model):
    kind: Literal["any"]
    of: Annotated[list[Condition], Field(min_length=1, max_length=50)]


class Not(_Model):
    kind: Literal["not"]
    condition: Condition


Condition = Annotated[
    All
    | AnyOf
    | Not
    | Visits
    | TotalSpend
    | AverageBasket
    | DaysSinceLastVisit
    | VisitGap
    | TierIs
    | MembershipIs
    | Tagged
    | BoughtGroup
    | NeverBoughtGroup
    | BirthdayWithin
    | Joined
    | Weekday
    | Hours
    | BasketAmount
    | BasketHasGroup,
    Field(discriminator="kind"),
]
All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


class Reward(_Model):
    """What the offer gives at a purchase it applies to. Shares are of the amount paid (of
    the lines of ``groups`` when given)."""

    extra_credit_bp: BP = 0
    # At most 90%: a purchase always charges something (its total is positive), and a
    # refund has a whole to take its share of.
    discount_bp: Annotated[int, Field(ge=0, le=MAX_DISCOUNT_BP, strict=True)] = 0
    # Within what one purchase may report to the hub (points_earned ≤ 10^9, with the club's).
    bonus_points: Annotated[int, Field(ge=0, le=MAX_BONUS_POINTS, strict=True)] = 0
    fixed_credit_rial: Rial = 0
    groups: Annotated[list[Code], Field(min_length=1, max_length=50)] | None = None

    @model_validator(mode="after")
    def _gives_something(self) -> Self:
        if not (
            self.extra_credit_bp or self.discount_bp or self.bonus_points or self.fixed_credit_rial
        ):
            raise PydanticCustomError(
                "empty_reward",
                "give extra_credit_bp, discount_bp, bonus_points or fixed_credit_rial",
            )
        return self


class Caps(_Model):
    """Limits: uses per member (a one-time grant is one use), uses of the whole offer, and a
    budget of what it gives in Rial (discounts and credit; bonus points are not money)."""

    per_member: Annotated[int, Field(ge=1, le=10_000, strict=True)] | None = None
    total_uses: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] | None = None
    budget_rial: Rial | None = None


class Offer(_Model):
    kind: Literal["permanent", "one_time"]
    name_fa: Name
    name_en: Name
    audience: Condition | None = None
    when: Condition | None = None
    reward: Reward
    # One-time: each grant is usable within this many days of the launch.
    valid_days: Days | None = None
    caps: Caps = Caps()
    # One-time: the share of the matching members kept as a control group (never granted).
    control_bp: Annotated[int, Field(ge=0, le=5_000, strict=True)] = 1_000
    # Order among permanent offers at the till (lower first; then by id).
    priority: Annotated[int, Field(ge=0, le=1000, strict=True)] = 100

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        located: list[tuple[tuple[str | int, ...], str, str]] = []
        if self.kind == "one_time":
            if self.valid_days is None:
                located.append((("valid_days",), "required", "a one-time offer needs valid_days"))
            if self.audience is None:
                located.append(
                    (("audience",), "required", "a one-time offer needs an audience to grant")
                )
            else:
                for loc in _kinds_at(self.audience, ("audience",), PURCHASE_KINDS):
                    located.append(
                        (
                            loc,
                            "purchase_condition_in_audience",
                            "a one-time offer's audience is chosen at launch, when there is "
                            "no purchase: put purchase conditions under when",
                        )
                    )
        elif self.valid_days is not None:
            located.append(
                (("valid_days",), "not_for_permanent", "valid_days is for one-time offers")
            )
        for name, condition in (("audience", self.audience), ("when", self.when)):
            if condition is not None and _depth(condition) > MAX_DEPTH:
                located.append(((name,), "too_deep", f"all/any/not nest at most {MAX_DEPTH} deep"))
        if located:
            raise ValidationError.from_exception_data(
                "Offer",
                [
                    InitErrorDetails(type=PydanticCustomError(code, message), loc=loc, input=None)
                    for loc, code, message in located
                ],
            )
        return self

    def groups_named(self) -> frozenset[str]:
        """Every product group the offer names (each must be one of the shop's)."""
        found: set[str] = set(self.reward.groups or ())
        for condition in (self.audience, self.when):
            if condition is not None:
                found |= _groups(condition)
        return frozenset(found)


def _children(condition: Condition) -> list[Condition]:
    if isinstance(condition, All | AnyOf):
        return list(condition.of)
    if isinstance(condition, Not):
        return [condition.condition]
    return []


def _depth(condition: Condition) -> int:
    return 1 + max((_depth(c) for c in _children(condition)), default=0)


def _kinds_at(
    condition: Condition, loc: tuple[str | int, ...], kinds: frozenset[str]
) -> list[tuple[str | int, ...]]:
    """Where in ``condition`` a condition of one of ``kinds`` sits."""
    if condition.kind in kinds:
        return [loc]
    if isinstance(condition, Not):
        return _kinds_at(condition.condition, (*loc, "condition"), kinds)
    found = []
    for i, child in enumerate(_children(condition)):
        found += _kinds_at(child, (*loc, "of", i), kinds)
    return found


def _groups(condition: Condition) -> set[str]:
    own: set[str] = set()
    if isinstance(condition, BoughtGroup | NeverBoughtGroup):
        own.add(condition.group)
    elif isinstance(condition, BasketHasGroup):
        own.update(condition.groups)
    for child in _children(condition):
        own |= _groups(child)
    return own


def offer_schema() -> dict[str, object]:
    """The offer document's JSON Schema (draft 2020-12), as published in docs/."""
    schema = Offer.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mallnet.example/schemas/offer.schema.json"
    schema["title"] = "mallnet offer"
    return schema
