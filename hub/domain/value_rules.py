"""Network value rules, pure: what a purchase issues, which lots a hold takes, how a
capture or a refund splits over them. No database here; ``hub.services.value`` applies these.

Units: pooled points are whole points, credit is whole Rial. A lot of pooled points is
worth ``rial_per_point`` Rial a point (the value when it was issued). Issuance rounds down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mallnet.values import Rial

POOLED: Final = "pooled_points"
GENERAL: Final = "general_credit"
TARGETED: Final = "targeted_credit"

Kind = Literal["pooled_points", "general_credit", "targeted_credit"]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")]
Days = Annotated[int, Field(ge=1, le=3650, strict=True)]
Bp = Annotated[int, Field(ge=0, le=10_000, strict=True)]


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreditRule(_Rules):
    """E.g. 10% of any purchase of at least 1,000,000 Rial as credit at shops X and Y,
    valid 30 days. No shops and no category: general credit, valid in every shop."""

    min_purchase_rial: Rial = 0
    credit_bp: Annotated[int, Field(ge=1, le=10_000, strict=True)]
    max_credit_rial: Rial | None = None
    groups: Annotated[list[str], Field(max_length=50)] = []
    accepted_shops: Annotated[list[Slug], Field(max_length=200)] = []
    accepted_category: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    valid_days: Days = 30

    @model_validator(mode="after")
    def _one_target(self) -> CreditRule:
        if self.accepted_shops and self.accepted_category:
            raise ValueError("name accepted shops or an accepted category, not both")
        return self

    @property
    def kind(self) -> Kind:
        return TARGETED if self.accepted_shops or self.accepted_category else GENERAL


class IssuanceRules(_Rules):
    """A shop's issuance policy: the share of the points its club awards on a purchase
    that is issued as pooled points (on top of the local points), and its credit rules."""

    pooled_share_bp: Bp = 0
    pooled_valid_days: Days = 365
    credit_rules: Annotated[list[CreditRule], Field(max_length=20)] = []


@dataclass(frozen=True)
class PurchaseFacts:
    total_rial: int
    paid_with_value_rial: int  # local credit and network value: no value is issued on them
    points_earned: int
    lines: Sequence[tuple[str, int]]  # (product group, amount)


@dataclass(frozen=True)
class Grant:
    kind: Kind
    amount: int  # points for pooled points, Rial for credit
    accepted_shops: tuple[str, ...]
    accepted_category: str | None
    valid_days: int
    rule: str  # which rule issued it, for the reason


def issuance(rules: IssuanceRules, facts: PurchaseFacts) -> list[Grant]:
    grants: list[Grant] = []
    pooled = facts.points_earned * rules.pooled_share_bp // 10_000
    if pooled > 0:
        grants.append(Grant(POOLED, pooled, (), None, rules.pooled_valid_days, "pooled share"))
    paid = max(0, facts.total_rial - facts.paid_with_value_rial)
    for index, rule in enumerate(rules.credit_rules):
        if facts.total_rial <= 0 or facts.total_rial < rule.min_purchase_rial:
            continue
        eligible = sum(a for g, a in facts.lines if not rule.groups or g in rule.groups)
        # Only the part paid with money earns: pro rata over the eligible lines.
        base = eligible * paid // facts.total_rial
        credit = base * rule.credit_bp // 10_000
        if rule.max_credit_rial is not None:
            credit = min(credit, rule.max_credit_rial)
        if credit > 0:
            grants.append(
                Grant(
                    rule.kind,
                    credit,
                    tuple(sorted(set(rule.accepted_shops))),
                    rule.accepted_category,
                    rule.valid_days,
                    f"credit rule {index + 1}",
                )
            )
    return grants


def unit_of(kind: str) -> str:
    """Pooled points count whole points; credit counts Rial."""
    return "point" if kind == POOLED else "rial"


@dataclass(frozen=True)
class LotView:
    id: int
    kind: str
    available: int
    rial_per_point: int
    expires_at: dt.datetime
    accepted_shops: Sequence[str] = ()
    accepted_category: str | None = None


def accepted_at(lot: LotView, shop: str, category: str | None) -> bool:
    if lot.kind in (POOLED, GENERAL):
        return True
    if shop in lot.accepted_shops:
        return True
    return lot.accepted_category is not None and lot.accepted_category == category


def spending_order(lots: Sequence[LotView]) -> list[LotView]:
    """Soonest-expiring first (then oldest): value about to lapse is used first."""
    return sorted(lots, key=lambda lot: (lot.expires_at, lot.id))


def _fill(items: Sequence[tuple[int, int]], amount_rial: int) -> tuple[list[int], int]:
    """Whole units from ``items`` ((units, Rial per unit), in order of preference) worth
    as much of ``amount_rial`` as possible without exceeding it: units per item, and the
    Rial covered. Taken in order first; when whole points leave part uncovered, points
    first and then credit (credit is divisible to the Rial) is tried too and kept if it
    covers more — 500 Rial of credit and 2 points of 1,000 do pay 2,000 Rial."""

    def greedy(order: Sequence[int]) -> tuple[list[int], int]:
        takes = [0] * len(items)
        left = amount_rial
        for i in order:
            units, rate = items[i]
            takes[i] = min(units, left // rate)
            left -= takes[i] * rate
        return takes, amount_rial - left

    natural = greedy(range(len(items)))
    if natural[1] == amount_rial:
        return natural
    points_first = greedy(sorted(range(len(items)), key=lambda i: items[i][1] == 1))
    return points_first if points_first[1] > natural[1] else natural


def reserve(lots: Sequence[LotView], amount_rial: int) -> tuple[list[tuple[int, int]], int]:
    """Take up to ``amount_rial`` from ``lots`` (in order of preference: the caller sorts
    them soonest-expiring first): (lot id, units) and the Rial covered."""
    takes, covered = _fill([(lot.available, lot.rial_per_point) for lot in lots], amount_rial)
    return [(lot.id, take) for lot, take in zip(lots, takes, strict=True) if take > 0], covered


def split_capture(portions: Sequence[tuple[int, int]], amount_rial: int) -> tuple[list[int], int]:
    """A capture of ``amount_rial`` over a hold's portions ((units, rial per unit), in
    the hold's order): units captured per portion and the Rial captured (never more than
    asked; whole points only)."""
    return _fill(portions, amount_rial)


def refund_targets(portions: Sequence[tuple[int, int]], refunded_rial: int) -> list[int]:
    """Units per portion ((captured units, rial per unit)) to have been returned once
    ``refunded_rial`` of the capture is refunded in all: credit first (it divides to the
    Rial), then points, laid end to end by value and rounded down — a refund never returns
    more than its share, and a full refund returns exactly what was captured."""
    out = [0] * len(portions)
    offset = 0
    for i in sorted(range(len(portions)), key=lambda i: portions[i][1] != 1):
        units, rate = portions[i]
        worth = units * rate
        covered = max(0, min(refunded_rial - offset, worth))
        out[i] = covered // rate
        offset += worth
    return out
