"""A closed period's statement as the files a shop keeps: CSV for spreadsheets and audit
scripts, an A4 PDF in Persian for people.

The CSV carries every amount in exact Rial; the PDF shows toman (what shopkeepers read) and
keeps the exact Rial beside each total.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from importlib import resources
from pathlib import Path

from fpdf import FPDF

from mallnet.digits import integer_fa, to_persian_digits
from mallnet.money import toman_fa
from settlement.periods import jalali_moment
from settlement.statements import (
    BREAKAGE,
    CAMPAIGN_SHARE,
    CORRECTION,
    REDEEMED_HERE,
    SPENT_ELSEWHERE,
    Statement,
)

LINE_COLUMNS = (
    *("kind", "ref", "at_utc", "at_jalali", "receipt", "hold_id", "lot_id", "value_kind"),
    *("issuer", "redeemer", "gross_rial", "fee_rial", "net_rial", "memo"),
)
TOTAL_COLUMNS = ("total", "amount_rial")
PAYMENT_COLUMNS = ("payer", "payee", "amount_rial", "kind")

KIND_FA = {
    REDEEMED_HERE: "خرید با اعتبار شبکه در این فروشگاه",
    SPENT_ELSEWHERE: "اعتبار صادرشده ما در فروشگاه دیگر",
    CAMPAIGN_SHARE: "سهم هزینه کمپین مشترک",
    BREAKAGE: "اعتبار منقضی (سهم صندوق)",
    CORRECTION: "اصلاحیه دوره‌های قبل",
}
FUNDING_FA = {"postpaid": "پس‌پرداخت", "prepaid": "پیش‌پرداخت"}
PAYMENT_KIND_FA = {
    "settlement": "تسویه",
    "prepaid_topup": "شارژ پیش‌پرداخت",
    "sponsorship": "حمایت مالی",
}
PARTY_FA = {"fund": "صندوق شبکه", "mall": "مدیریت مجتمع"}

# IBM Plex Sans Arabic: drawn for Persian as well as Arabic, Latin included (receipts, shop
# slugs, the digest), static Regular and Bold files (no variable-font instancing per PDF),
# and each letter is one glyph, so text copied or extracted from the PDF stays whole.
FONT_PACKAGE = "fontpkg_ibm_plex_sans_arabic"
FAMILY = "plex-arabic"

# Spreadsheets run a cell starting with one of these as a formula; receipts and refs come
# from other shops' systems, so such text is quoted (and unquoted on the way back).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
# Letters that join or reorder; Persian digits and the thousands separator (U+066C) don't.
_NEEDS_SHAPING = re.compile(
    "[\u0600-\u066a\u066d-\u06ef\u06fa-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]"
)
_LRI, _PDI = "\u2066", "\u2069"  # keep a signed number's minus on its left inside RTL text

MARGIN_MM = 10.0
ROW_MM = 5.0
FOOTER_MM = 12.0
# Right to left, as the reader meets them.
TABLE: tuple[tuple[str, float], ...] = (
    *(("تاریخ", 27.0), ("نوع", 58.0), ("رسید", 35.0)),
    *(("صادرکننده", 24.0), ("پذیرنده", 24.0), ("خالص (تومان)", 22.0)),
)


def statement_file(statement: Statement, kind: str) -> tuple[bytes, str, str]:
    """(body, media type, file name) of a statement download; ``kind`` is csv or pdf."""
    if not statement.complete:
        # A file stands for the whole statement: one page of its lines would lie.
        raise ValueError(
            f"a statement file needs every line: {len(statement.lines)} of "
            f"{statement.line_count} held"
        )
    name = f"statement-{statement.period_id}-{statement.shop}.{kind}"
    if kind == "csv":
        # The BOM is how Excel knows the file is UTF-8 (Persian shop names, receipts).
        return statement_csv(statement).encode("utf-8-sig"), "text/csv; charset=utf-8", name
    if kind == "pdf":
        return statement_pdf(statement), "application/pdf", name
    raise ValueError(f"statements come as csv or pdf, not {kind!r}")


# --- CSV ------------------------------------------------------------------------------------


def statement_csv(statement: Statement) -> str:
    """One rectangular sheet: the lines, then a totals block and a payments block, each
    after a blank row and under its own header row. Integers are plain (no separators)."""
    out = io.StringIO()
    writer = csv.writer(out)
    width = len(LINE_COLUMNS)

    def row(*cells: str | int) -> None:
        writer.writerow([*cells, *[""] * (width - len(cells))])

    row(*LINE_COLUMNS)
    for line in statement.lines:
        at = _utc(line.at)
        row(
            *(line.kind, _quote(line.ref), at.isoformat(), _jalali(at), _quote(line.receipt)),
            *(_quote(line.hold_id), "" if line.lot_id is None else line.lot_id),
            *(line.value_kind, _quote(line.issuer), _quote(line.redeemer)),
            *(line.gross_rial, line.fee_rial, line.net_rial, _quote(line.memo)),
        )
    row()
    row(*TOTAL_COLUMNS)
    for name, amount in _totals(statement):
        row(name, amount)
    row()
    row(*PAYMENT_COLUMNS)
    for p in statement.payments:
        row(_quote(p.payer), _quote(p.payee), p.amount_rial, p.kind)
    return out.getvalue()


def parse_csv_lines(text: str) -> list[dict[str, str]]:
    """The line rows of :func:`statement_csv` output, as text, up to the first blank row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    if tuple(next(reader, ())) != LINE_COLUMNS:
        raise ValueError(f"not a statement CSV: the first row must be {','.join(LINE_COLUMNS)}")
    lines = []
    for cells in reader:
        if not any(cells):
            break
        lines.append({k: _unquote(v) for k, v in zip(LINE_COLUMNS, cells, strict=True)})
    return lines


def _totals(s: Statement) -> list[tuple[str, int]]:
    return [
        ("gross_receivable_rial", s.gross_receivable_rial),
        ("fees_rial", s.fees_rial),
        ("gross_payable_rial", s.gross_payable_rial),
        ("covered_by_prepayment_rial", s.covered_by_prepayment_rial),
        *([("corrections_rial", s.corrections_rial)] if s.corrections_rial else []),
        ("position_rial", s.position_rial),
    ]


def _quote(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _unquote(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def _utc(at: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; the statement's times are UTC by contract.
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _jalali(at: dt.datetime) -> str:
    return jalali_moment(_utc(at))  # a naive time would otherwise be read as local time


# --- PDF ------------------------------------------------------------------------------------


def statement_pdf(statement: Statement) -> bytes:
    """An A4 statement laid out right to left; the lines table repeats its header on every
    page. The same statement gives the same bytes. About 0.7 ms a line on a 2-core machine,
    three quarters of it shaping the Persian kind label, the one shaped cell of a row."""
    with _font_files() as (regular, bold):
        pdf = _StatementPdf(statement, regular, bold)
        pdf.add_page()
        _heading(pdf, statement)
        _totals_box(pdf, statement)
        _lines_table(pdf, statement)
        _payments(pdf, statement)
        _digest(pdf, statement)
        pdf.finished = True  # the last footer says the statement ends there
        return bytes(pdf.output())


@contextmanager
def _font_files() -> Iterator[tuple[Path, Path]]:
    root = resources.files(FONT_PACKAGE)
    meta = json.loads((root / "metadata.json").read_text(encoding="utf-8"))
    by_weight = {f["weight"]: f["path"] for f in meta["files"] if f["style"] == "normal"}
    with ExitStack() as stack:
        regular = stack.enter_context(resources.as_file(root / by_weight[400]))
        bold = stack.enter_context(resources.as_file(root / by_weight[700]))
        yield regular, bold


class _StatementPdf(FPDF):
    def __init__(self, statement: Statement, regular: Path, bold: Path) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.statement = statement
        self.finished = False
        self._shaping: bool | None = None
        # Dates, shops and kind labels repeat down a long table; measuring text costs a
        # shaping or bidi pass each time, so each string is measured once per font.
        self._widths: dict[tuple[str, str, float, bool], float] = {}
        self.add_font(FAMILY, "", regular)
        self.add_font(FAMILY, "B", bold)
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        # Rows are placed by hand so the table header can be repeated on each new page.
        self.set_auto_page_break(False)
        self.set_lang("fa")
        self.set_title(f"صورتحساب تسویه {statement.shop} دوره {statement.period_id}")
        self.set_creator("mallnet")
        self.set_creation_date(_utc(statement.closed_at))  # same statement, same bytes
        self.set_font(FAMILY, size=9)

    @property
    def right(self) -> float:
        return self.w - MARGIN_MM

    def fa(
        self, right: float, w: float, h: float, text: str, align: str = "R", fill: bool = False
    ) -> float:
        """A shaped right-to-left cell ending at ``right`` on the current line; returns
        where the next cell (to its left) ends."""
        self._shape(True)
        self.set_x(right - w)
        self.cell(w, h, text, align=align, fill=fill)
        return right - w

    def plain(self, right: float, top: float, width: float, text: str) -> None:
        """Right-aligned text in the column ending at ``right``. Digits and Latin go through
        text(), which skips the shaping and bidi passes of cell(): a 5,000-line table
        cannot afford those six times a row."""
        shaped = bool(_NEEDS_SHAPING.search(text))
        text = self.fit(text, width - 2 * self.c_margin, shaped)
        if shaped:
            self.set_y(top)
            self.fa(right, width, ROW_MM, text)
        else:
            self._shape(False)
            x = right - self.c_margin - self.width_of(text, shaped=False)
            self.text(x, top + 3.5, text)

    def fit(self, text: str, room: float, shaped: bool) -> str:
        """Cut text that would spill into the next column (rare: long receipt numbers)."""
        if self.width_of(text, shaped) <= room:
            return text
        while text and self.width_of(text + "…", shaped) > room:
            text = text[:-1]
        return text + "…"

    def width_of(self, text: str, shaped: bool) -> float:
        key = (text, self.font_style, self.font_size_pt, shaped)
        width = self._widths.get(key)
        if width is None:
            self._shape(shaped)
            width = self._widths[key] = self.get_string_width(text)
        return width

    def room(self, height: float) -> bool:
        return self.get_y() + height <= self.h - FOOTER_MM

    def footer(self) -> None:
        s = self.statement
        page = to_persian_digits(str(self.page_no()))
        end = f" از {page} — پایان صورتحساب" if self.finished else ""
        self.set_font(FAMILY, size=7)
        self.set_text_color(110)
        self.set_y(self.h - FOOTER_MM + 4)
        # "·" would read as a Persian zero.
        text = f"صفحه {page}{end}، دوره {to_persian_digits(str(s.period_id))}، {s.shop_name_fa}"
        self.fa(self.right, self.epw, 4, text, align="C")
        self.set_text_color(0)

    def _shape(self, on: bool) -> None:
        if on != self._shaping:
            if on:
                self.set_text_shaping(
                    use_shaping_engine=True, direction="rtl", script="arab", language="fas"
                )
            else:
                self.set_text_shaping(use_shaping_engine=False)
            self._shaping = on


def _heading(pdf: _StatementPdf, s: Statement) -> None:
    pdf.set_font(FAMILY, "B", 16)
    pdf.fa(pdf.right, pdf.epw, 10, f"صورتحساب تسویه — {s.shop_name_fa}")
    pdf.ln(10)
    pdf.set_font(FAMILY, size=10)
    funding = FUNDING_FA.get(s.funding, s.funding)
    for text in (
        f"دوره {to_persian_digits(str(s.period_id))}: {to_persian_digits(s.period_label)}",
        f"مدل تأمین: {funding}، بسته‌شده در {to_persian_digits(_jalali(s.closed_at))}",
    ):
        pdf.fa(pdf.right, pdf.epw, 6, text)
        pdf.ln(6)
    pdf.set_font(FAMILY, size=8)
    pdf.plain(pdf.right, pdf.get_y(), pdf.epw, f"{s.shop_name_en} ({s.shop})")
    pdf.ln(ROW_MM + 3)


def _totals_box(pdf: _StatementPdf, s: Statement) -> None:
    if s.position_rial > 0:
        position_label = "مانده خالص: طلب ما از صندوق"
    elif s.position_rial < 0:
        position_label = "مانده خالص: بدهی ما به صندوق"
    else:
        position_label = "مانده خالص: بی‌حساب"
    rows = [
        ("دریافتنی ناخالص (اعتبار شبکه خرج‌شده در این فروشگاه)", s.gross_receivable_rial),
        ("کارمزد صندوق (کسر از دریافتنی)", s.fees_rial),
        ("پرداختنی (اعتبار ما در فروشگاه‌های دیگر، کمپین، منقضی)", s.gross_payable_rial),
    ]
    if s.funding == "prepaid" or s.covered_by_prepayment_rial:
        rows.append(("پوشش‌داده‌شده با پیش‌پرداخت", s.covered_by_prepayment_rial))
    if s.corrections_rial:
        rows.append(("اصلاحیه دوره‌های قبل (خالص)", s.corrections_rial))
    # The direction is in the words, so the amount needs no sign.
    rows.append((position_label, abs(s.position_rial)))
    top = pdf.get_y()
    height = 7.0 * len(rows) + 2
    pdf.set_fill_color(245, 245, 240)
    pdf.rect(MARGIN_MM, top, pdf.epw, height, style="DF")
    pdf.set_y(top + 1)
    for i, (label, rial) in enumerate(rows):
        pdf.set_font(FAMILY, "B" if i == len(rows) - 1 else "", 10)
        right = pdf.fa(pdf.right - 2, pdf.epw - 86, 7, label)
        right = pdf.fa(right, 48, 7, f"{_LRI}{toman_fa(rial)}{_PDI} تومان", align="L")
        pdf.set_font(FAMILY, size=7)
        pdf.fa(right, 36, 7, f"({_LRI}{integer_fa(rial)}{_PDI} ریال)", align="L")
        pdf.ln(7)
    pdf.set_y(top + height + 5)


def _lines_table(pdf: _StatementPdf, s: Statement) -> None:
    pdf.set_font(FAMILY, "B", 11)
    count = to_persian_digits(str(len(s.lines)))
    pdf.fa(pdf.right, pdf.epw, 7, f"ریز اقلام ({count} قلم؛ مبلغ دقیق ریالی در فایل CSV)")
    pdf.ln(7)
    _table_header(pdf)
    for n, line in enumerate(s.lines):
        if not pdf.room(ROW_MM):
            pdf.add_page()
            _table_header(pdf)
        top = pdf.get_y()
        if n % 2:
            pdf.rect(MARGIN_MM, top, pdf.epw, ROW_MM, style="F")
        jalali_date, jalali_time = _jalali(line.at).split(" ")
        cells = (
            # Drawn unshaped, so in visual order: the time left of the date, read after it.
            to_persian_digits(f"{jalali_time}  {jalali_date}"),
            KIND_FA.get(line.kind, line.kind),
            line.receipt or (line.ref if line.kind == CORRECTION else "—"),
            line.issuer,
            line.redeemer or "—",
            toman_fa(line.net_rial),
        )
        right = pdf.right
        for text, (_, width) in zip(cells, TABLE, strict=True):
            pdf.plain(right, top, width, text)
            right -= width
        pdf.set_y(top + ROW_MM)
    pdf.ln(4)


def _table_header(pdf: _StatementPdf) -> None:
    pdf.set_font(FAMILY, "B", 8)
    pdf.set_fill_color(225, 229, 236)
    right = pdf.right
    for title, width in TABLE:
        right = pdf.fa(right, width, ROW_MM + 1, title, fill=True)
    pdf.ln(ROW_MM + 1)
    pdf.set_font(FAMILY, size=8)
    pdf.set_fill_color(244, 246, 250)  # the zebra rows below


def _payments(pdf: _StatementPdf, s: Statement) -> None:
    if not pdf.room(4 * ROW_MM):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 11)
    pdf.fa(pdf.right, pdf.epw, 7, "پرداخت‌ها")
    pdf.ln(7)
    pdf.set_font(FAMILY, size=9)
    if not s.payments:
        pdf.fa(pdf.right, pdf.epw, 6, "در این دوره پولی جابه‌جا نمی‌شود.")
        pdf.ln(6)
    for p in s.payments:
        if not pdf.room(6):
            pdf.add_page()
        kind = PAYMENT_KIND_FA.get(p.kind, p.kind)
        text = (
            f"{kind}: از {_party(p.payer, s)} به {_party(p.payee, s)} — "
            f"{_LRI}{toman_fa(p.amount_rial)}{_PDI} تومان"
            f" ({_LRI}{integer_fa(p.amount_rial)}{_PDI} ریال)"
        )
        pdf.fa(pdf.right, pdf.epw, 6, text)
        pdf.ln(6)
    pdf.ln(4)


def _digest(pdf: _StatementPdf, s: Statement) -> None:
    if not pdf.room(2 * ROW_MM):
        pdf.add_page()
    pdf.set_font(FAMILY, size=8)
    pdf.fa(pdf.right, pdf.epw, ROW_MM, "چکیده حسابرسی دوره (SHA-256):")
    pdf.ln(ROW_MM)
    pdf.plain(pdf.right, pdf.get_y(), pdf.epw, s.digest or "—")


def _party(slug: str, s: Statement) -> str:
    if slug == s.shop:
        return s.shop_name_fa
    return PARTY_FA.get(slug, slug)
