"""Settlement over GraphQL: the network's policy, periods and their close (mall finance,
``mall:settlement``), statements (mall finance for every shop; a node for its own shop),
prepaid balances and the audit."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.access import MALL
from hub.api.common import read, run, sessions
from hub.api.problems import (
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    NothingToClose,
    PeriodOpen,
)
from hub.db import models
from hub.services import prepaid, settlement, settlement_policy, value
from hub.services.settlement_policy import SettlementError
from mallnet.auth import Principal
from mallnet.authz import guard_fields, requires
from mallnet.gql import JSONDocument, Rial, snake_keys
from mallnet.gql_limits import page_offset, page_size
from mallnet.gql_statements import SettlementStatement, requested_window
from mallnet.scopes import Scope
from settlement.periods import jalali_label
from settlement.statements import StatementLine

T = TypeVar("T")
FINANCE = (Scope.MALL_SETTLEMENT, Scope.MALL_ADMIN, Scope.MALL_REPORTS)
# A node sees the calendar of periods and its own statement, never other shops' positions.
PERIOD_READERS = (*FINANCE, Scope.NODE_FEDERATE)


@strawberry.type(description="The network's settlement policy (a version of it).")
class SettlementPolicy:
    version: int = strawberry.field(description="0: the defaults, before one was set.")
    policy: JSONDocument = strawberry.field(
        description="funding (postpaid|prepaid), when_prepaid_exhausted (refuse|flag), "
        "breakage (issuer|fund), period (daily|weekly|monthly), fee_bp, agreements[], "
        "cost_sharing[]."
    )
    set_by: str | None
    created_at: dt.datetime | None


@strawberry.type(description="A participant's gross and net for a closed period.")
class SettlementPosition:
    party: str = strawberry.field(description="A shop, 'mall' or 'fund'.")
    receivable_rial: Rial = strawberry.field(description="Redeemed there, net of fees.")
    fees_rial: Rial
    payable_rial: Rial
    campaign_rial: Rial
    breakage_rial: Rial
    netted_rial: Rial
    covered_rial: Rial = strawberry.field(description="Payable already paid by prepayment.")
    position_rial: Rial


@strawberry.type(description="Money to move for a closed period.")
class PaymentInstruction:
    party: str
    direction: str = strawberry.field(description="to_fund (it pays) or from_fund (it is paid).")
    amount_rial: Rial
    kind: str


@strawberry.type(description="A settlement period [startsAt, endsAt), Tehran calendar.")
class SettlementPeriod:
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    label: str = strawberry.field(description="Jalali, Tehran time.")
    length: str
    status: str = strawberry.field(description="open or closed.")
    closed_at: dt.datetime | None
    captures: int = strawberry.field(description="Captures and refund lines it settled.")
    digest: str | None
    row: strawberry.Private[models.SettlementPeriod]

    @strawberry.field(extensions=requires(*FINANCE), description="Who cut the period short.")
    def cut_by(self) -> str | None:
        return self.row.cut_by

    @strawberry.field(extensions=requires(*FINANCE), description="Who closed it.")
    def closed_by(self) -> str | None:
        return self.row.closed_by

    @strawberry.field(extensions=requires(*FINANCE), description="Every participant's.")
    async def positions(self, info: strawberry.Info) -> list[SettlementPosition]:
        async with sessions(info)() as session:
            rows = await settlement.positions(session, self.id)
        return [
            SettlementPosition(
                party=r.party,
                receivable_rial=Rial(r.receivable_rial),
                fees_rial=Rial(r.fees_rial),
                payable_rial=Rial(r.payable_rial),
                campaign_rial=Rial(r.campaign_rial),
                breakage_rial=Rial(r.breakage_rial),
                netted_rial=Rial(r.netted_rial),
                covered_rial=Rial(r.covered_rial),
                position_rial=Rial(r.position_rial),
            )
            for r in rows
        ]

    @strawberry.field(extensions=requires(*FINANCE), description="Payment instructions.")
    async def instructions(self, info: strawberry.Info) -> list[PaymentInstruction]:
        async with sessions(info)() as session:
            rows = await settlement.instructions(session, self.id)
        return [
            PaymentInstruction(
                party=r.party, direction=r.direction, amount_rial=Rial(r.amount_rial), kind=r.kind
            )
            for r in rows
        ]

    @classmethod
    def of(cls, row: models.SettlementPeriod) -> SettlementPeriod:
        return cls(
            id=row.id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            label=jalali_label(row.starts_at, row.ends_at),
            length=row.length,
            status=row.status,
            closed_at=row.closed_at,
            captures=row.captures,
            digest=row.digest,
            row=row,
        )


@strawberry.type(description="A shop's prepaid balance with the fund (prepaid funding).")
class PrepaidAccount:
    shop: str
    balance_rial: Rial = strawberry.field(description="Below zero: issued on credit (flagged).")


@strawberry.type(description="A line of a journal entry.")
class JournalLine:
    account: str
    amount_rial: Rial = strawberry.field(description="+ the fund owes the account's holder.")


@strawberry.type(description="A balanced journal entry of a closed period.")
class JournalEntry:
    id: int
    ref: str = strawberry.field(description="issuer>redeemer, campaign:…, settle:…, correction:…")
    kind: str
    corrects_entry_id: int | None
    lines: list[JournalLine]


@strawberry.type(description="A correction, booked by the next close.")
class SettlementCorrection:
    id: int
    party: str
    amount_rial: Rial = strawberry.field(description="+ the fund owes the party more.")
    reason: str
    corrects_entry_id: int | None
    created_by: str
    created_at: dt.datetime
    replayed: bool


@strawberry.input(description="Correct a closed period in the next one.")
class CorrectionInput:
    party: str = strawberry.field(description="A shop's slug, or 'mall'.")
    amount_rial: Rial = strawberry.field(description="+ the fund owes more; - the party owes.")
    reason: str
    idempotency_key: str
    corrects_entry_id: int | None = None


@strawberry.type(
    description="What capture reconciliation found: a capture reversed because no purchase "
    "event named it in time, or a purchase event that does not match its capture."
)
class CaptureFlag:
    id: int
    kind: str = strawberry.field(
        description="reversed, late_purchase, unknown_hold, not_captured, already_matched, "
        "shopper_mismatch, receipt_mismatch or amount_mismatch."
    )
    shop: str
    hold_id: str | None
    event_id: str | None = strawberry.field(description="The purchase event, if one.")
    receipt_id: str | None
    reason: str
    reported_rial: Rial | None = strawberry.field(
        description="What the purchase event says was paid with network value."
    )
    captured_rial: Rial | None
    created_at: dt.datetime

    @classmethod
    def of(cls, row: models.CaptureFlag) -> CaptureFlag:
        return cls(
            id=row.id,
            kind=row.kind,
            shop=row.shop,
            hold_id=row.hold_id,
            event_id=row.event_id,
            receipt_id=row.receipt_id,
            reason=row.reason,
            reported_rial=None if row.reported_rial is None else Rial(row.reported_rial),
            captured_rial=None if row.captured_rial is None else Rial(row.captured_rial),
            created_at=row.created_at,
        )


@strawberry.type(
    description="Every capture has its purchase: captures of network value are settled only "
    "once the node's purchase event matches them; one unmatched past the window "
    "(MALLNET_CAPTURE_MATCH_WINDOW_S) goes back to the shopper."
)
class CaptureReconciliation:
    waiting: int = strawberry.field(
        description="Captures still waiting for their purchase event (not settled yet)."
    )
    flags: list[CaptureFlag] = strawberry.field(description="Newest first.")


@strawberry.type(description="What the audit found for a period (empty: all agree).")
class SettlementAudit:
    period_id: int
    differences: list[str]


guard_fields(SettlementPolicy, *MALL, Scope.NODE_FEDERATE)
guard_fields(SettlementPeriod, *PERIOD_READERS)
for finance_part in (
    SettlementPosition,
    PaymentInstruction,
    SettlementAudit,
    JournalLine,
    JournalEntry,
    SettlementCorrection,
):
    guard_fields(finance_part, *FINANCE)
guard_fields(PrepaidAccount, *FINANCE, Scope.NODE_FEDERATE)
guard_fields(CaptureFlag, *FINANCE, Scope.NODE_FEDERATE)
guard_fields(CaptureReconciliation, *FINANCE, Scope.NODE_FEDERATE)

PolicyResult = Annotated[
    SettlementPolicy | InvalidInput, strawberry.union("SettlementPolicyResult")
]
PeriodResult = Annotated[
    SettlementPeriod | NothingToClose, strawberry.union("SettlementPeriodResult")
]
StatementResult = Annotated[
    SettlementStatement | Forbidden | InvalidInput | NotFound | PeriodOpen,
    strawberry.union("SettlementStatementResult"),
]
PrepaidResult = Annotated[
    PrepaidAccount | InvalidInput | NotFound | IdempotencyConflict,
    strawberry.union("PrepaidAccountResult"),
]
CorrectionResult = Annotated[
    SettlementCorrection | InvalidInput | NotFound | IdempotencyConflict,
    strawberry.union("SettlementCorrectionResult"),
]


def _principal(info: strawberry.Info) -> Principal:
    user = info.context["request"].user
    assert isinstance(user, Principal)
    return user


def _policy_view(
    version: int, row: models.SettlementPolicyVersion | None, doc: object
) -> SettlementPolicy:
    return SettlementPolicy(
        version=version,
        policy=JSONDocument(doc),
        set_by=None if row is None else row.set_by,
        created_at=None if row is None else row.created_at,
    )


@strawberry.type
class SettlementQuery:
    @strawberry.field(
        extensions=requires(*MALL, Scope.NODE_FEDERATE),
        description="The settlement policy in force.",
    )
    async def settlement_policy(self, info: strawberry.Info) -> SettlementPolicy:
        async with sessions(info)() as session:
            version, policy = await settlement_policy.current(session)
            row = await session.get(models.SettlementPolicyVersion, version)
        document = policy.model_dump(mode="json")
        shop = _principal(info).shop
        if shop is not None:
            # A shop sees the terms that concern it, not what other pairs agreed.
            document["agreements"] = [
                a for a in document["agreements"] if shop in (a["issuer"], a["redeemer"])
            ]
            document["cost_sharing"] = [c for c in document["cost_sharing"] if shop in c["shops"]]
        return _policy_view(version, row, document)

    @strawberry.field(
        extensions=requires(*PERIOD_READERS),
        description="Settlement periods, newest first (the open one included).",
    )
    async def settlement_periods(
        self, info: strawberry.Info, first: int = 30, offset: int = 0
    ) -> list[SettlementPeriod]:
        size, skip = page_size(first, 500), page_offset(offset)
        async with sessions(info)() as session:
            rows = await settlement.periods(session, size, skip)
        return [SettlementPeriod.of(r) for r in rows]

    @strawberry.field(extensions=requires(*FINANCE), description="One period (null: none such).")
    async def settlement_period(self, info: strawberry.Info, id: int) -> SettlementPeriod | None:
        async with sessions(info)() as session:
            try:
                return SettlementPeriod.of(await settlement.get_period(session, id))
            except SettlementError:
                return None

    @strawberry.field(
        extensions=requires(*PERIOD_READERS, Scope.MALL_SETTLEMENT),
        description="A shop's statement for a closed period, its lines a page at a time. A "
        "node reads its own shop's (shop may be left out); mall finance reads any.",
    )
    async def settlement_statement(
        self, info: strawberry.Info, period_id: int, shop: str | None = None
    ) -> StatementResult:
        user = _principal(info)
        if user.shop is not None and shop not in (None, user.shop):
            return Forbidden.of("a shop reads its own statement", "shop")
        slug = user.shop or shop
        if slug is None:
            return InvalidInput.of("name the shop", "shop")
        window = requested_window(info)

        async def more(first: int, offset: int) -> list[StatementLine]:
            async with sessions(info)() as session:
                return (await settlement.statement(session, period_id, slug, first, offset)).lines

        async def work(session: AsyncSession) -> SettlementStatement:
            found = await settlement.statement(session, period_id, slug, *window)
            return SettlementStatement.of(found, window, more)

        return await read(info, work)

    @strawberry.field(
        extensions=requires(*FINANCE, Scope.NODE_FEDERATE),
        description="Prepaid balances (a node sees its own).",
    )
    async def prepaid_accounts(self, info: strawberry.Info) -> list[PrepaidAccount]:
        own = _principal(info).shop
        async with sessions(info)() as session:
            balances = await prepaid.balances(session)
        return [
            PrepaidAccount(shop=shop, balance_rial=Rial(b))
            for shop, b in sorted(balances.items())
            if own is None or shop == own
        ]

    @strawberry.field(
        extensions=requires(*FINANCE, Scope.NODE_FEDERATE),
        description="Captures waiting for their purchase event and what reconciliation "
        "flagged (a node sees its own shop's).",
    )
    async def capture_reconciliation(
        self, info: strawberry.Info, first: int = 50
    ) -> CaptureReconciliation:
        shop = _principal(info).shop
        async with sessions(info)() as session:
            waiting = await value.waiting_captures(session, shop=shop)
            flags = await value.capture_flags(session, shop=shop, limit=page_size(first, 500))
        return CaptureReconciliation(waiting=waiting, flags=[CaptureFlag.of(f) for f in flags])

    @strawberry.field(
        extensions=requires(*FINANCE),
        description="Recompute a closed period from its captures and its journal.",
    )
    async def settlement_audit(self, info: strawberry.Info, period_id: int) -> SettlementAudit:
        async with sessions(info)() as session:
            differences = await settlement.verify(session, period_id)
        return SettlementAudit(period_id=period_id, differences=differences)

    @strawberry.field(
        extensions=requires(*FINANCE),
        description="A closed period's journal: balanced entries, one per pair of shops, "
        "campaign split, correction and participant's settlement.",
    )
    async def settlement_journal(self, info: strawberry.Info, period_id: int) -> list[JournalEntry]:
        async with sessions(info)() as session:
            entries = await settlement.journal(session, period_id)
        return [
            JournalEntry(
                id=entry.id,
                ref=entry.ref,
                kind=entry.kind,
                corrects_entry_id=entry.corrects_entry_id,
                lines=[
                    JournalLine(account=x.account, amount_rial=Rial(x.amount_rial)) for x in lines
                ],
            )
            for entry, lines in entries
        ]


@strawberry.type
class SettlementMutation:
    @strawberry.mutation(
        extensions=requires(Scope.MALL_SETTLEMENT),
        description="Set the network's settlement policy (a new version; periods close under "
        "the version in force when they close).",
    )
    async def set_settlement_policy(
        self, info: strawberry.Info, policy: JSONDocument
    ) -> PolicyResult:
        actor = _principal(info).subject

        async def work(session: AsyncSession) -> SettlementPolicy:
            row = await settlement_policy.set_policy(session, snake_keys(policy), actor)
            return _policy_view(row.version, row, row.document)

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.MALL_SETTLEMENT),
        description="Close the open period now: it ends at once (later captures settle in the "
        "next period) and a worker closes it; poll settlementPeriods for its status.",
    )
    async def close_settlement_period(self, info: strawberry.Info) -> PeriodResult:
        actor = _principal(info).subject
        result = await run(info, lambda s: settlement.cut(s, actor))
        if not isinstance(result, models.SettlementPeriod):
            return result  # the problem
        # After the cut has committed: the task finds the period ended. Were the broker
        # away, the beat sweep closes every ended period anyway.
        await info.context["state"].enqueue("hub.close_settlement", result.id, actor)
        return SettlementPeriod.of(result)

    @strawberry.mutation(
        extensions=requires(Scope.MALL_SETTLEMENT),
        description="Correct a closed period (never edited): the next close books it as a "
        "new entry naming the one it corrects. Idempotent on idempotencyKey.",
    )
    async def post_settlement_correction(
        self, info: strawberry.Info, input: CorrectionInput
    ) -> CorrectionResult:
        data = settlement.CorrectionInput(
            party=input.party,
            amount_rial=input.amount_rial,
            reason=input.reason,
            idempotency_key=input.idempotency_key,
            corrects_entry_id=input.corrects_entry_id,
        )
        actor = _principal(info).subject

        async def work(session: AsyncSession) -> SettlementCorrection:
            row, replayed = await settlement.post_correction(session, data, actor)
            return SettlementCorrection(
                id=row.id,
                party=row.party,
                amount_rial=Rial(row.amount_rial),
                reason=row.reason,
                corrects_entry_id=row.corrects_entry_id,
                created_by=row.created_by,
                created_at=row.created_at,
                replayed=replayed,
            )

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.MALL_SETTLEMENT),
        description="Record money a shop paid into the fund (idempotent on the reference).",
    )
    async def record_prepayment(
        self, info: strawberry.Info, shop: str, amount_rial: Rial, reference: str
    ) -> PrepaidResult:
        actor = _principal(info).subject

        async def work(session: AsyncSession) -> PrepaidAccount:
            await prepaid.deposit(session, shop, amount_rial, reference, actor)
            return PrepaidAccount(
                shop=shop, balance_rial=Rial((await prepaid.balances(session))[shop])
            )

        return await run(info, work)
