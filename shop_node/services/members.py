"""Enrolling, finding, editing and listing members; a member's explained history."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Table, bindparam, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.jalali import InvalidDate, calendar_of, parse_date
from mallnet.phone import InvalidPhone, normalize_mobile
from shop_node.db.models import Account, LedgerTransaction, Member, Posting, Purchase
from shop_node.domain.errors import FieldProblem, InvalidInput, MemberExists, MemberNotFound
from shop_node.domain.policy import ClubPolicy
from shop_node.services import outbox
from shop_node.services.ledger import ACCOUNTS, Ledger, Leg, MemberAccounts
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime

MembershipType = Literal["individual", "company", "employee"]
MAX_TAGS = 20
MEMBER_BY_PHONE = select(Member).where(Member.phone == bindparam("phone"))
MEMBER_BY_CARD = select(Member).where(Member.card_code == bindparam("card_code"))
MEMBERS_BY_ID = select(Member).where(Member.id.in_(bindparam("member_ids", expanding=True)))
MEMBERS: Table = Member.__table__  # type: ignore[assignment]
MEMBER_COLUMNS = [c.key for c in MEMBERS.c]


def _member_at_till(where: ColumnElement[bool]) -> Select[Any]:
    """The member, their two accounts locked, and whether the receipt is already recorded:
    three questions of every POS purchase in one round trip."""
    seen = select(Purchase.id).where(Purchase.receipt_id == bindparam("receipt_id"))
    return (
        select(
            MEMBERS,
            ACCOUNTS.c.id.label("account_id"),
            ACCOUNTS.c.asset.label("account_asset"),
            ACCOUNTS.c.balance.label("account_balance"),
            seen.scalar_subquery().label("seen_purchase_id"),
        )
        .join(ACCOUNTS, ACCOUNTS.c.member_id == MEMBERS.c.id)
        .where(where)
        .order_by(ACCOUNTS.c.id)
        .with_for_update(of=ACCOUNTS)
    )


INSERT_MEMBER = insert(MEMBERS).returning(MEMBERS.c.id)
AT_TILL_BY_PHONE = _member_at_till(MEMBERS.c.phone == bindparam("phone"))
AT_TILL_BY_CARD = _member_at_till(MEMBERS.c.card_code == bindparam("card_code"))


@dataclass(frozen=True)
class AtTill:
    member: Member | None
    accounts: MemberAccounts | None
    seen_purchase_id: int | None


async def member_at_till(
    session: AsyncSession, *, phone: str | None, card_code: str | None, receipt_id: str
) -> AtTill:
    """Find and lock the member a purchase is for; say if its receipt was recorded."""
    if phone is not None:
        query, params = AT_TILL_BY_PHONE, {"phone": phone or ""}
    else:
        query, params = AT_TILL_BY_CARD, {"card_code": card_code or ""}
    rows = (await session.execute(query, {**params, "receipt_id": receipt_id})).all()
    if not rows:
        return AtTill(None, None, None)
    first = rows[0]._mapping
    member = Member(**{key: first[key] for key in MEMBER_COLUMNS})
    by_asset = {r.account_asset: (r.account_id, r.account_balance or 0) for r in rows}
    accounts = MemberAccounts(
        by_asset["points"][0], by_asset["rial"][0], by_asset["points"][1], by_asset["rial"][1]
    )
    return AtTill(member, accounts, first["seen_purchase_id"])


@dataclass(frozen=True)
class MemberInput:
    phone: str
    name: str | None = None
    birthday: str | None = None
    membership_type: MembershipType = "individual"
    company_card_code: str | None = None
    consent_sms: bool = True
    consent_promotional: bool = False
    consent_partner_sharing: bool = False
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MemberUpdate:
    """Only the fields given (not None) change."""

    name: str | None = None
    birthday: str | None = None
    consent_sms: bool | None = None
    consent_promotional: bool | None = None
    consent_partner_sharing: bool | None = None
    tags: list[str] | None = None


@dataclass(frozen=True)
class MemberRef:
    """How a POS or staff names a member: exactly one of phone, card code, id."""

    phone: str | None = None
    card_code: str | None = None
    member_id: int | None = None


def phone_or_problem(raw: str, field_name: str, problems: list[FieldProblem]) -> str | None:
    try:
        return normalize_mobile(raw)
    except InvalidPhone as exc:
        problems.append(FieldProblem(field_name, str(exc)))
        return None


def _check_name(name: str | None, problems: list[FieldProblem]) -> str | None:
    if name is None:
        return None
    name = " ".join(name.split())
    if len(name) > 120:
        problems.append(FieldProblem("name", "at most 120 characters"))
    return name or None


def _check_birthday(raw: str | None, problems: list[FieldProblem]) -> dt.date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return parse_date(raw)
    except InvalidDate as exc:
        problems.append(FieldProblem("birthday", str(exc)))
        return None


def _check_tags(tags: list[str], problems: list[FieldProblem]) -> list[str]:
    cleaned = sorted({t.strip() for t in tags if t.strip()})
    if len(cleaned) > MAX_TAGS:
        problems.append(FieldProblem("tags", f"at most {MAX_TAGS} tags"))
    if any(len(t) > 40 for t in cleaned):
        problems.append(FieldProblem("tags", "each tag at most 40 characters"))
    return cleaned


def new_card_code() -> str:
    """Ten digits, the last a Luhn check digit, so a mistyped card is caught at the POS."""
    body = f"{secrets.randbelow(9 * 10**8) + 10**8}"
    return body + str(luhn_digit(body))


def luhn_digit(body: str) -> int:
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def valid_card_code(code: str) -> bool:
    return len(code) == 10 and code.isdigit() and luhn_digit(code[:-1]) == int(code[-1])


async def find_member(session: AsyncSession, ref: MemberRef) -> Member | None:
    given = [v for v in (ref.phone, ref.card_code, ref.member_id) if v is not None]
    if len(given) != 1:
        raise InvalidInput.one("member", "give exactly one of phone, cardCode or id")
    if ref.phone is not None:
        problems: list[FieldProblem] = []
        phone = phone_or_problem(ref.phone, "phone", problems)
        if phone is None:
            raise InvalidInput(problems)
        return await session.scalar(MEMBER_BY_PHONE, {"phone": phone})
    if ref.card_code is not None:
        code = ref.card_code.strip()
        if not valid_card_code(code):
            raise InvalidInput.one("cardCode", "not a valid card code (10 digits)")
        return await session.scalar(MEMBER_BY_CARD, {"card_code": code})
    return await session.get(Member, ref.member_id)


async def members_by_id(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, Member]:
    """Many members in one statement (e.g. the companies of a page of employees)."""
    rows = await session.scalars(MEMBERS_BY_ID, {"member_ids": list(member_ids)})
    return {member.id: member for member in rows}


async def get_member(session: AsyncSession, ref: MemberRef) -> Member:
    member = await find_member(session, ref)
    if member is None:
        raise MemberNotFound("no member with that phone, card code or id in this shop's club")
    return member


async def create_member(
    session: AsyncSession,
    ledger: Ledger,
    *,
    phone: str,
    via: str,
    actor: str,
    policy: ClubPolicy,
    now: dt.datetime,
    name: str | None = None,
    birthday: dt.date | None = None,
    birthday_calendar: str | None = None,
    membership_type: MembershipType = "individual",
    company_id: int | None = None,
    consents: tuple[bool, bool, bool] = (True, False, False),
    tags: list[str] | None = None,
) -> tuple[Member, MemberAccounts]:
    """Insert a member, open their accounts, and give the welcome reward of an open club."""
    values = {
        "card_code": new_card_code(),
        "phone": phone,
        "name": name,
        "birthday": birthday,
        "birthday_calendar": birthday_calendar,
        "birthday_set_at": None if birthday is None else now,
        "membership_type": membership_type,
        "company_id": company_id,
        "consent_sms": consents[0],
        "consent_promotional": consents[1],
        "consent_partner_sharing": consents[2],
        "tags": tags or [],
        "joined_at": now,
        "joined_via": via,
    }
    # A Core insert: enrolment happens inside a POS purchase, where every ORM step shows.
    conn = await session.connection()
    member = Member(id=(await conn.execute(INSERT_MEMBER, values)).scalar_one(), **values)
    accounts = await ledger.open_member_accounts(member.id)
    if policy.open_club and (policy.welcome_points or policy.welcome_credit_rial):
        recorded = await ledger.record(
            key=f"welcome:{member.id}",
            reason="welcome",
            reference=f"member:{member.card_code}",
            member_id=member.id,
            actor=actor,
            legs=[
                *grant_legs(ledger, accounts, "points", policy.welcome_points, policy, now),
                *grant_legs(ledger, accounts, "rial", policy.welcome_credit_rial, policy, now),
            ],
            memo="welcome reward (open club)",
        )
        accounts = recorded.after(accounts)
    return member, accounts


def grant_legs(
    ledger: Ledger,
    accounts: MemberAccounts,
    asset: Literal["points", "rial"],
    amount: int,
    policy: ClubPolicy,
    now: dt.datetime,
    source: str = "issued",
) -> list[Leg]:
    """Legs that give ``amount`` to the member as a new lot with the policy's validity."""
    if amount <= 0:
        return []
    days = policy.points_valid_days if asset == "points" else policy.credit_valid_days
    expires = None if days is None else now + dt.timedelta(days=days)
    return [
        Leg(ledger.sys(source, asset), asset, -amount),
        Leg(accounts.account(asset), asset, amount, new_lot=True, expires_at=expires),
    ]


async def enrol_member(runtime: NodeRuntime, data: MemberInput, actor: str) -> Member:
    """Staff enrol a member (or a company, or a company's employee)."""
    problems: list[FieldProblem] = []
    phone = phone_or_problem(data.phone, "phone", problems)
    name = _check_name(data.name, problems)
    birthday = _check_birthday(data.birthday, problems)
    tags = _check_tags(data.tags, problems)
    if data.membership_type not in ("individual", "company", "employee"):
        problems.append(FieldProblem("membershipType", "individual, company or employee"))
    if (data.membership_type == "employee") != (data.company_card_code is not None):
        problems.append(
            FieldProblem("companyCardCode", "required for employees, and only for them")
        )
    if problems:
        raise InvalidInput(problems)
    assert phone is not None

    async def work(session: AsyncSession) -> Member:
        existing = await session.scalar(select(Member).where(Member.phone == phone))
        if existing is not None:
            raise MemberExists("a member with this phone already exists", existing.id)
        company_id = None
        if data.company_card_code is not None:
            company = await find_member(session, MemberRef(card_code=data.company_card_code))
            if company is None or company.membership_type != "company":
                raise InvalidInput.one("companyCardCode", "no company member with that card code")
            company_id = company.id
        _version, policy = await current_policy(session, runtime)
        ledger = Ledger(session, runtime.system_accounts, runtime.clock())
        member, accounts = await create_member(
            session,
            ledger,
            phone=phone,
            via="staff",
            actor=actor,
            policy=policy,
            now=ledger.now,
            name=name,
            birthday=birthday,
            birthday_calendar=None if birthday is None else calendar_of(data.birthday or ""),
            membership_type=data.membership_type,
            company_id=company_id,
            consents=(data.consent_sms, data.consent_promotional, data.consent_partner_sharing),
            tags=tags,
        )
        balance = await outbox.balance_now(session, runtime, member, accounts.points, accounts.rial)
        await outbox.emit(
            session, ledger.now, [outbox.enrolled(runtime.network_key, member), balance]
        )
        return member

    return await runtime.transaction(work)


async def update_member(
    runtime: NodeRuntime, ref: MemberRef, changes: MemberUpdate, actor: str
) -> Member:
    problems: list[FieldProblem] = []
    name = _check_name(changes.name, problems)
    birthday = _check_birthday(changes.birthday, problems)
    tags = None if changes.tags is None else _check_tags(changes.tags, problems)
    if problems:
        raise InvalidInput(problems)

    async def work(session: AsyncSession) -> Member:
        member = await get_member(session, ref)
        # Locked and re-read: two consent edits at once must not report a stale state.
        await session.refresh(member, with_for_update=True)
        if changes.name is not None:
            member.name = name
        if changes.birthday is not None:
            if member.birthday != birthday:
                member.birthday_set_at = runtime.clock()
            member.birthday = birthday
            member.birthday_calendar = None if birthday is None else calendar_of(changes.birthday)
        before = (member.consent_promotional, member.consent_partner_sharing)
        for consent in ("consent_sms", "consent_promotional", "consent_partner_sharing"):
            value = getattr(changes, consent)
            if value is not None:
                setattr(member, consent, value)
        if (member.consent_promotional, member.consent_partner_sharing) != before:
            await outbox.emit(
                session, runtime.clock(), [outbox.consent_changed(runtime.network_key, member)]
            )
        if tags is not None:
            member.tags = tags
        await session.flush()
        return member

    return await runtime.transaction(work)


@dataclass(frozen=True)
class Page:
    members: list[Member]
    end_cursor: int | None
    has_next_page: bool
    total_count: int


async def list_members(
    runtime: NodeRuntime, *, search: str | None, first: int, after: int | None
) -> Page:
    if not 1 <= first <= 200:
        raise InvalidInput.one("first", "between 1 and 200")
    if search is not None and len(search) > 120:
        raise InvalidInput.one("search", "at most 120 characters")

    def filtered(query: Select[Any]) -> Select[Any]:
        if not search or not search.strip():
            return query
        term = search.strip()
        conditions = [Member.name.ilike(f"%{term}%"), Member.card_code == term]
        try:
            conditions.append(Member.phone == normalize_mobile(term))
        except InvalidPhone:
            digits = "".join(c for c in term if c.isdigit())
            if len(digits) >= 4:
                conditions.append(Member.phone.like(f"%{digits}%"))
        return query.where(or_(*conditions))

    async def work(session: AsyncSession) -> Page:
        query = filtered(select(Member)).order_by(Member.id.desc())
        if after is not None:
            query = query.where(Member.id < after)
        rows = list((await session.scalars(query.limit(first + 1))).all())
        total = await session.scalar(
            filtered(select(Member)).with_only_columns(func.count(Member.id))
        )
        page = rows[:first]
        return Page(page, page[-1].id if page else None, len(rows) > first, total or 0)

    return await runtime.read(work)


@dataclass(frozen=True)
class HistoryEntry:
    transaction_id: int
    created_at: dt.datetime
    reason: str
    reference: str
    memo: str | None
    actor: str
    points_delta: int
    credit_delta_rial: int


async def member_history(
    session: AsyncSession, member_id: int, *, first: int = 50, before: int | None = None
) -> list[HistoryEntry]:
    """Every change of the member's points and credit, newest first, with its reason."""
    member_accounts = select(Account.id).where(Account.member_id == member_id)
    points = func.sum(Posting.amount).filter(Posting.asset == "points")
    rial = func.sum(Posting.amount).filter(Posting.asset == "rial")
    query = (
        select(
            LedgerTransaction.id,
            LedgerTransaction.created_at,
            LedgerTransaction.reason,
            LedgerTransaction.reference,
            LedgerTransaction.memo,
            LedgerTransaction.actor,
            func.coalesce(points, 0),
            func.coalesce(rial, 0),
        )
        # An outer join: a purchase that moved no value (nothing earned) is a visit the
        # history still shows.
        .outerjoin(
            Posting,
            (Posting.transaction_id == LedgerTransaction.id)
            & Posting.account_id.in_(member_accounts.scalar_subquery()),
        )
        .where(LedgerTransaction.member_id == member_id)
        .group_by(LedgerTransaction.id)
        .order_by(LedgerTransaction.id.desc())
        .limit(first)
    )
    if before is not None:
        query = query.where(LedgerTransaction.id < before)
    return [
        HistoryEntry(t, c, r, ref, memo, actor, int(p), int(cr))
        for t, c, r, ref, memo, actor, p, cr in (await session.execute(query)).all()
    ]


async def opt_out_by_phone(runtime: NodeRuntime, phone: str) -> str:
    """She replied «لغو» to the shop's line: no more promotional messages, at once, and the
    hub hears of it (its view of her consents, the app)."""

    async def work(session: AsyncSession) -> str:
        member = await session.scalar(select(Member).where(Member.phone == phone))
        if member is None:
            return "not a member here"
        await session.refresh(member, with_for_update=True)
        if not member.consent_promotional:
            return "already opted out"
        member.consent_promotional = False
        await outbox.emit(
            session, runtime.clock(), [outbox.consent_changed(runtime.network_key, member)]
        )
        return f"member {member.card_code} opted out of promotional messages"

    return await runtime.transaction(work)
