"""A network's settlement policy: how value that crosses shops is paid for.

- ``funding``: *postpaid* — an issuer is billed at close for its value spent elsewhere;
  *prepaid* — an issuer pays into the fund before it issues network value, and what it
  issues is covered by that prepayment (``when_prepaid_exhausted``: refuse the issuance,
  or issue it and flag the shortfall, which becomes a top-up to pay at close).
- ``fee_bp``: the fund keeps this share of what a redeeming shop receives (face value when
  0); ``agreements`` set other rates for an issuer, a redeeming shop, or a pair.
- ``breakage``: value that expires unspent returns to its *issuer* (prepaid: back to its
  prepaid balance; postpaid: it never paid) or goes to the *fund* (postpaid: the issuer
  is billed for it at close; prepaid: the fund keeps that part of the prepayment).
- ``cost_sharing``: value issued by a joint campaign (issuer ``campaign:<id>``) is paid by
  its participating shops — equally, by their sales in the period, or by the mall.
- ``period``: daily, weekly (Saturday to Friday) or monthly (Jalali months), in Tehran time.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")]
Bp = Annotated[int, Field(ge=0, le=10_000, strict=True)]
CampaignIssuer = Annotated[str, Field(pattern=r"^campaign:[A-Za-z0-9_.-]{1,60}$")]

Funding = Literal["postpaid", "prepaid"]
PeriodLength = Literal["daily", "weekly", "monthly"]
SplitRule = Literal["equal", "sales_share", "mall"]


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Agreement(_Doc):
    """A settlement rate: for value issued by ``issuer`` (any when absent) spent at
    ``redeemer`` (any when absent)."""

    issuer: Slug | None = None
    redeemer: Slug | None = None
    fee_bp: Bp

    @model_validator(mode="after")
    def _names_someone(self) -> Agreement:
        if self.issuer is None and self.redeemer is None:
            raise ValueError("an agreement names an issuer, a redeeming shop, or both")
        return self


class CostSharing(_Doc):
    issuer: CampaignIssuer
    rule: SplitRule
    shops: Annotated[list[Slug], Field(max_length=500)] = []

    @model_validator(mode="after")
    def _has_payers(self) -> CostSharing:
        if self.rule != "mall" and not self.shops:
            raise ValueError("equal and sales_share splits need the participating shops")
        if len(set(self.shops)) != len(self.shops):
            raise ValueError("a shop is named twice")
        return self


class SettlementPolicy(_Doc):
    funding: Funding = "postpaid"
    when_prepaid_exhausted: Literal["refuse", "flag"] = "refuse"
    breakage: Literal["issuer", "fund"] = "issuer"
    period: PeriodLength = "daily"
    fee_bp: Bp = 0
    agreements: Annotated[list[Agreement], Field(max_length=1000)] = []
    cost_sharing: Annotated[list[CostSharing], Field(max_length=1000)] = []

    @model_validator(mode="after")
    def _unique(self) -> SettlementPolicy:
        pairs = [(a.issuer, a.redeemer) for a in self.agreements]
        if len(set(pairs)) != len(pairs):
            raise ValueError("two agreements for the same issuer and redeeming shop")
        issuers = [c.issuer for c in self.cost_sharing]
        if len(set(issuers)) != len(issuers):
            raise ValueError("two cost-sharing rules for the same campaign")
        return self

    def fee_for(self, issuer: str, redeemer: str) -> int:
        """The most specific agreement wins: the pair, then the redeeming shop, then the
        issuer, then the network's rate."""
        best: tuple[int, int] | None = None
        for a in self.agreements:
            if a.issuer not in (None, issuer) or a.redeemer not in (None, redeemer):
                continue
            rank = (2 if a.redeemer else 0) + (1 if a.issuer else 0)
            if best is None or rank > best[0]:
                best = (rank, a.fee_bp)
        return self.fee_bp if best is None else best[1]

    def sharing(self) -> dict[str, CostSharing]:
        return {c.issuer: c for c in self.cost_sharing}


class InvalidPolicy(ValueError):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


def parse_policy(document: object) -> SettlementPolicy:
    try:
        return SettlementPolicy.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "policy"
        raise InvalidPolicy(where, first["msg"]) from None
