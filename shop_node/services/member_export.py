"""A filtered member list as a file: CSV (UTF-8 with a byte-order mark, so spreadsheet
programs read Persian names right) or XLSX (openpyxl, written row by row). Amounts stay
integers in Rial and points; dates come both Gregorian and Jalali (Tehran days)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]

from mallnet.jalali import tehran_date, to_jalali_str
from mallnet.phone import local_format
from shop_node.services.ledger import balances_of
from shop_node.services.member_search import Found, MemberFilter, export_members
from shop_node.services.runtime import NodeRuntime
from shop_node.services.tiers import tier_standings

KINDS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEADER = [
    "card_code",
    "name",
    "phone",
    "membership_type",
    "tier",
    "points",
    "credit_rial",
    "tags",
    "joined_on",
    "joined_on_jalali",
    "last_visit_on",
    "last_visit_on_jalali",
    "consent_sms",
    "consent_promotional",
    "consent_partner_sharing",
]


async def _rows(runtime: NodeRuntime, batch: Sequence[Found]) -> list[list[Any]]:
    ids = [found.member.id for found in batch]

    async def figures(session: Any) -> tuple[Any, Any]:
        return await balances_of(session, ids), await tier_standings(session, runtime, ids)

    balances, tiers = await runtime.read(figures)
    rows = []
    for found in batch:
        m = found.member
        joined = tehran_date(m.joined_at)
        last = None if found.last_visit_at is None else tehran_date(found.last_visit_at)
        accounts = balances.get(m.id)
        rows.append(
            [
                m.card_code,
                m.name or "",
                local_format(m.phone),
                m.membership_type,
                tiers[m.id].current.code,
                accounts.points if accounts else 0,
                accounts.rial if accounts else 0,
                ", ".join(m.tags),
                joined.isoformat(),
                to_jalali_str(joined),
                "" if last is None else last.isoformat(),
                "" if last is None else to_jalali_str(last),
                m.consent_sms,
                m.consent_promotional,
                m.consent_partner_sharing,
            ]
        )
    return rows


def _csv_cell(value: Any) -> Any:
    """Booleans as yes/no; text that a spreadsheet would run as a formula is quoted."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


async def render(runtime: NodeRuntime, wanted: MemberFilter, kind: str) -> tuple[bytes, str]:
    """The whole filtered list in the format ``kind`` (csv or xlsx), and its media type."""
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADER)
        async for batch in export_members(runtime, wanted):
            writer.writerows([[_csv_cell(v) for v in row] for row in await _rows(runtime, batch)])
        return ("\ufeff" + out.getvalue()).encode(), KINDS["csv"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("members")
    sheet.append(HEADER)
    async for batch in export_members(runtime, wanted):
        for row in await _rows(runtime, batch):
            # openpyxl writes a string starting with "=" as a formula: names are data.
            sheet.append([_csv_cell(v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), KINDS["xlsx"]
