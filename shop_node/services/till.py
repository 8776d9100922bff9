"""What the till asks besides recording: what a basket would earn before it is recorded,
and a member's purchases to refund from.

The preview prices the basket with the very functions ``record_purchase`` uses (the
member's standing, the tier it reaches, ``compute_earning``), in a read-only session: it
writes nothing, and what it shows is what the purchase then records, unless something
changes in between (another purchase of the member's, a new policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop_node.db.models import Purchase, PurchaseLine, Refund
from shop_node.domain.earning import Earning, Line, max_credit_spend
from shop_node.domain.errors import FieldProblem, InsufficientBalance, InvalidInput, MemberNotFound
from shop_node.domain.policy import Tier
from shop_node.services.ledger import Ledger, member_accounts
from shop_node.services.members import MemberRef, find_member
from shop_node.services.offer_till import Applied, offers_at_till
from shop_node.services.policy import current_policy
from shop_node.services.purchases import (
    MAX_LINES,
    PurchaseInput,
    _allowed_credit_spend,
    _check_amount,
    _check_groups,
    _price,
    _within_charged,
    standing,
)
from shop_node.services.runtime import NodeRuntime

MAX_PAGE = 100


@dataclass(frozen=True)
class BasketInput:
    total_rial: int
    lines: Sequence[Line]
    credit_to_spend_rial: int = 0
    network_rial: int = 0


@dataclass(frozen=True)
class Preview:
    """What recording the basket now would earn, and what credit may pay for it."""

    tier: Tier
    visit_number: int
    earning: Earning
    available_credit_rial: int
    spendable_rial: int
    policy_version: int
    # What the shop's live offers give this basket, and what is charged after discounts.
    offered: Applied
    charged_rial: int


def _validate(data: BasketInput) -> None:
    problems: list[FieldProblem] = []
    _check_amount(data.total_rial, "totalRial", problems)
    _check_amount(data.credit_to_spend_rial, "creditToSpendRial", problems, zero=True)
    _check_amount(data.network_rial, "networkRial", problems, zero=True)
    if not data.lines:
        problems.append(FieldProblem("lines", "at least one line"))
    if len(data.lines) > MAX_LINES:
        problems.append(FieldProblem("lines", f"at most {MAX_LINES} lines"))
    for index, line in enumerate(data.lines):
        _check_amount(line.amount_rial, f"lines[{index}].amountRial", problems)
    if not problems:
        if sum(line.amount_rial for line in data.lines) != data.total_rial:
            problems.append(FieldProblem("lines", "line amounts must add up to totalRial"))
        elif data.credit_to_spend_rial + data.network_rial > data.total_rial:
            problems.append(
                FieldProblem("creditToSpendRial", "credit and network value exceed totalRial")
            )
    if problems:
        raise InvalidInput(problems)


async def preview_purchase(runtime: NodeRuntime, ref: MemberRef, data: BasketInput) -> Preview:
    """What ``record_purchase`` would record as earned for this member's basket: the same
    standing, tier and earning arithmetic, in a read that writes nothing."""
    _validate(data)

    async def work(session: AsyncSession) -> Preview:
        member = await find_member(session, ref)
        if member is None:
            raise MemberNotFound("no member with that phone or card code in this shop's club")
        version, policy = await current_policy(session, runtime)
        _check_groups(policy, data.lines)
        ledger = Ledger(session, runtime.system_accounts, runtime.clock())
        accounts = await member_accounts(session, member.id)
        available = sum(lot.remaining for lot in await ledger.open_lots(accounts.rial_id))
        # record_purchase's own input, so its own checks and pricing apply unchanged.
        purchase = PurchaseInput(
            receipt_id="preview",
            total_rial=data.total_rial,
            lines=data.lines,
            card_code=member.card_code,
            credit_to_spend_rial=data.credit_to_spend_rial,
        )
        offered = await offers_at_till(
            session,
            runtime,
            policy,
            member,
            [(line.group, line.amount_rial) for line in data.lines],
            ledger.now,
            data.credit_to_spend_rial + data.network_rial,
        )
        charged = [Line(group, amount) for group, amount in offered.lines]
        charged_rial = sum(line.amount_rial for line in charged)
        _within_charged(purchase, charged, data.network_rial)
        if data.credit_to_spend_rial:
            _allowed_credit_spend(policy, purchase, charged)
            if available < data.credit_to_spend_rial:
                raise InsufficientBalance("credit", available, data.credit_to_spend_rial)
        before = await standing(session, policy, member.id, ledger.now)
        priced = _price(policy, before, purchase, data.network_rial, charged, offered)
        return Preview(
            tier=priced.tier,
            visit_number=priced.visit,
            earning=priced.earning,
            available_credit_rial=available,
            spendable_rial=max_credit_spend(policy, charged_rial, available),
            policy_version=version,
            offered=offered,
            charged_rial=charged_rial,
        )

    return await runtime.read(work)


@dataclass(frozen=True)
class Listed:
    """A purchase as the till lists it, with its lines."""

    purchase: Purchase
    lines: list[PurchaseLine]


async def member_purchases(
    session: AsyncSession, member_id: int, *, first: int, before: int | None
) -> list[Listed]:
    """The member's purchases at this shop, newest first, ``first`` at most, those with an
    id below ``before`` when given: two queries for the page."""
    query = (
        select(Purchase)
        .where(Purchase.member_id == member_id)
        .order_by(Purchase.id.desc())
        .limit(max(1, min(first, MAX_PAGE)))
    )
    if before is not None:
        query = query.where(Purchase.id < before)
    rows = list((await session.scalars(query)).all())
    if not rows:
        return []
    ids = [row.id for row in rows]
    lines: dict[int, list[PurchaseLine]] = {i: [] for i in ids}
    for line in await session.scalars(
        select(PurchaseLine)
        .where(PurchaseLine.purchase_id.in_(ids))
        .order_by(PurchaseLine.purchase_id, PurchaseLine.line_no)
    ):
        lines[line.purchase_id].append(line)
    return [Listed(row, lines[row.id]) for row in rows]


async def refunded_by_purchase(session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    """Rial refunded so far of each purchase (0 for one never refunded)."""
    sums = await session.execute(
        select(Refund.purchase_id, func.coalesce(func.sum(Refund.amount_rial), 0))
        .where(Refund.purchase_id.in_(list(ids)))
        .group_by(Refund.purchase_id)
    )
    found = {int(purchase_id): int(total) for purchase_id, total in sums.all()}
    return {i: found.get(i, 0) for i in ids}
