"""A statement rendered as CSV re-reads to the same numbers; as PDF it is a Persian A4
document in an embedded Persian font that keeps every line, paginated."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import warnings

import pytest
from pypdf import PdfReader

from mallnet.digits import integer_fa
from mallnet.money import toman_fa
from settlement.render import (
    KIND_FA,
    LINE_COLUMNS,
    parse_csv_lines,
    statement_csv,
    statement_file,
    statement_pdf,
)
from settlement.statements import (
    BREAKAGE,
    CAMPAIGN_SHARE,
    CORRECTION,
    REDEEMED_HERE,
    SPENT_ELSEWHERE,
    Payment,
    Statement,
    StatementLine,
)

UTC = dt.UTC
AT = dt.datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 14:30 on 1405/09/10 in Tehran
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
FORMULA_RECEIPT = '=HYPERLINK("http://evil.example","pay")'


def line(
    kind: str,
    n: int,
    gross: int,
    fee: int = 0,
    *,
    issuer: str = "shop-a",
    redeemer: str = "",
    receipt: str | None = None,
    at: dt.datetime | None = None,
) -> StatementLine:
    aggregate = kind in (CAMPAIGN_SHARE, BREAKAGE, CORRECTION)
    ref = f"correction:{n}" if kind == CORRECTION else f"campaign:yalda-{n}"
    return StatementLine(
        kind=kind,
        ref=ref if aggregate else f"redemption:{n}",
        at=at or AT + dt.timedelta(minutes=n),
        receipt="" if aggregate else (receipt or f"R-{1000 + n}"),
        hold_id="" if aggregate else f"01JH{n:06d}",
        lot_id=None if aggregate else 500 + n,
        value_kind="" if aggregate else "pooled_points",
        issuer=issuer,
        redeemer=redeemer,
        gross_rial=gross,
        fee_rial=fee,
        net_rial=gross - fee,
        memo="کارمزد دوره ۱۱ دو بار کسر شد" if kind == CORRECTION else "",
    )


def three_shop_lines() -> list[StatementLine]:
    """shop-a's view: value of shop-b and shop-c spent here (one refunded), ours spent at
    both, a campaign share and breakage."""
    return [
        line(REDEEMED_HERE, 1, 1_250_005, 25_000, issuer="shop-b", redeemer="shop-a"),
        line(REDEEMED_HERE, 2, 300_000, 6_000, issuer="shop-c", redeemer="shop-a"),
        # The refund of line 2: a reversing line with negative amounts, same receipt.
        line(
            REDEEMED_HERE, 3, -300_000, -6_000, issuer="shop-c", redeemer="shop-a", receipt="R-1002"
        ),
        line(SPENT_ELSEWHERE, 4, -800_000, redeemer="shop-b", receipt=FORMULA_RECEIPT),
        line(SPENT_ELSEWHERE, 5, -120_005, redeemer="shop-c"),
        line(CAMPAIGN_SHARE, 6, -50_000),
        line(BREAKAGE, 7, -7_500),
    ]


def make_statement(
    lines: list[StatementLine] | None = None,
    *,
    funding: str = "postpaid",
    covered_rial: int = 0,
    payments: list[Payment] | None = None,
) -> Statement:
    lines = three_shop_lines() if lines is None else lines
    here = [x for x in lines if x.kind == REDEEMED_HERE]
    receivable = sum(x.gross_rial for x in here)
    fees = sum(x.fee_rial for x in here)
    payable = -sum(x.gross_rial for x in lines if x.kind != REDEEMED_HERE)
    position = receivable - fees - payable
    return Statement(
        period_id=12,
        period_label="1405/09/10 00:00 – 1405/09/11 00:00",
        starts_at=dt.datetime(2026, 11, 30, 20, 30, tzinfo=UTC),
        ends_at=dt.datetime(2026, 12, 1, 20, 30, tzinfo=UTC),
        closed_at=dt.datetime(2026, 12, 1, 20, 35, tzinfo=UTC),
        shop="shop-a",
        shop_name_fa="گالری چرم ژیوار",
        shop_name_en="Zhivar Leather Gallery",
        funding=funding,
        gross_receivable_rial=receivable,
        fees_rial=fees,
        gross_payable_rial=payable,
        position_rial=position,
        covered_by_prepayment_rial=covered_rial,
        lines=lines,
        payments=[Payment("fund", "shop-a", position, "settlement")]
        if payments is None
        else payments,
        digest=DIGEST,
    )


def prepaid_statement() -> Statement:
    # Our payable was paid for when the value was issued; only the receivable moves.
    return make_statement(funding="prepaid", covered_rial=977_505)


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def csv_block(text: str, header: list[str]) -> list[list[str]]:
    """The rows after a block's header row, trimmed of padding, up to the next blank row."""
    rows = csv_rows(text)
    start = next(
        i for i, r in enumerate(rows) if r[: len(header)] == header and not any(r[len(header) :])
    )
    block = []
    for r in rows[start + 1 :]:
        if not any(r):
            break
        block.append(r[: len(header)])
    return block


def pdf_text(data: bytes) -> list[str]:
    return [
        unicodedata.normalize("NFKC", p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages
    ]


# --- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", [make_statement(), prepaid_statement()])
def test_csv_is_one_rectangle_under_one_header_row(statement: Statement) -> None:
    rows = csv_rows(statement_csv(statement))

    assert rows[0] == list(LINE_COLUMNS)
    assert {len(r) for r in rows} == {len(LINE_COLUMNS)}
    assert not any(rows[len(statement.lines) + 1])  # a blank row ends the lines


@pytest.mark.parametrize("statement", [make_statement(), prepaid_statement()])
def test_csv_lines_read_back_exactly_and_sum_to_the_position(statement: Statement) -> None:
    parsed = parse_csv_lines(statement_csv(statement))

    assert len(parsed) == len(statement.lines) == 7
    for row, original in zip(parsed, statement.lines, strict=True):
        assert row["kind"] == original.kind
        assert row["ref"] == original.ref
        assert dt.datetime.fromisoformat(row["at_utc"]) == original.at
        assert row["receipt"] == original.receipt
        assert row["hold_id"] == original.hold_id
        assert row["lot_id"] == ("" if original.lot_id is None else str(original.lot_id))
        assert (row["issuer"], row["redeemer"]) == (original.issuer, original.redeemer)
        assert int(row["gross_rial"]) == original.gross_rial
        assert int(row["fee_rial"]) == original.fee_rial
        assert int(row["net_rial"]) == original.net_rial
    assert sum(int(r["net_rial"]) for r in parsed) == statement.lines_total_rial == 247_500
    assert statement.lines_total_rial == statement.position_rial


def test_csv_refund_line_keeps_its_negative_amounts() -> None:
    refund = parse_csv_lines(statement_csv(make_statement()))[2]

    assert (refund["gross_rial"], refund["fee_rial"], refund["net_rial"]) == (
        "-300000",
        "-6000",
        "-294000",
    )
    assert refund["receipt"] == "R-1002"


def test_csv_times_are_utc_iso_and_jalali_in_tehran() -> None:
    naive = line(
        REDEEMED_HERE,
        9,
        10_000,
        redeemer="shop-a",
        at=dt.datetime(2027, 3, 20, 20, 31, tzinfo=UTC).replace(tzinfo=None),
    )
    first, second = parse_csv_lines(statement_csv(make_statement([line(BREAKAGE, 0, -1), naive])))

    assert first["at_utc"] == "2026-12-01T11:00:00+00:00"
    assert first["at_jalali"] == "1405/09/10 14:30"
    # Naive times (SQLite) are read as UTC; 20:31 UTC is past midnight in Tehran: Nowruz.
    assert second["at_utc"] == "2027-03-20T20:31:00+00:00"
    assert second["at_jalali"] == "1406/01/01 00:01"


@pytest.mark.parametrize(
    ("statement", "covered"), [(make_statement(), "0"), (prepaid_statement(), "977505")]
)
def test_csv_totals_and_payments_blocks_hold_exact_integers(
    statement: Statement, covered: str
) -> None:
    text = statement_csv(statement)

    assert dict(csv_block(text, ["total", "amount_rial"])) == {
        "gross_receivable_rial": "1250005",
        "fees_rial": "25000",
        "gross_payable_rial": "977505",
        "covered_by_prepayment_rial": covered,
        "position_rial": "247500",
    }
    assert csv_block(text, ["payer", "payee", "amount_rial", "kind"]) == [
        ["fund", "shop-a", "247500", "settlement"]
    ]


def test_csv_quotes_text_a_spreadsheet_would_run_as_a_formula() -> None:
    text = statement_csv(make_statement())

    receipts = [r[LINE_COLUMNS.index("receipt")] for r in csv_rows(text)[1:8]]
    assert "'" + FORMULA_RECEIPT in receipts
    assert not any(r.startswith(("=", "+", "-", "@")) for r in receipts)
    assert parse_csv_lines(text)[3]["receipt"] == FORMULA_RECEIPT


def test_parse_csv_lines_rejects_other_csv() -> None:
    with pytest.raises(ValueError, match="not a statement CSV"):
        parse_csv_lines("a,b\n1,2\n")


def test_csv_download_carries_a_bom_for_excel_and_reads_back() -> None:
    statement = make_statement()
    body, media_type, name = statement_file(statement, "csv")

    assert body.startswith(b"\xef\xbb\xbf")
    assert media_type == "text/csv; charset=utf-8"
    assert name == "statement-12-shop-a.csv"
    assert parse_csv_lines(body.decode("utf-8-sig")) == parse_csv_lines(statement_csv(statement))


def test_statement_file_refuses_other_kinds() -> None:
    with pytest.raises(ValueError, match="csv or pdf"):
        statement_file(make_statement(), "xlsx")


# --- Amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rial", "toman"),
    [
        (1_234_500, "۱۲۳٬۴۵۰"),
        (1_250_005, "۱۲۵٬۰۰۰"),
        (-12_345, "−۱٬۲۳۴"),  # toward zero: a refund mirrors its capture
        (9, "۰"),
        (0, "۰"),
    ],
)
def test_toman_is_rial_over_ten_in_persian_digits(rial: int, toman: str) -> None:
    assert toman_fa(rial) == toman


def test_rial_amount_is_exact() -> None:
    assert integer_fa(-1_234_567) == "−۱٬۲۳۴٬۵۶۷"


# --- PDF ------------------------------------------------------------------------------------


def render_strictly(statement: Statement) -> bytes:
    # fpdf2 warns about every glyph the font lacks: a warning here means a letter is missing.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return statement_pdf(statement)


def test_pdf_is_a4_in_an_embedded_persian_font() -> None:
    data = render_strictly(make_statement())

    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    names = sorted(str(f["/BaseFont"]).split("+", 1)[1] for f in fonts)
    assert names == ["IBMPlexSansArabic", "IBMPlexSansArabicBold"]
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert len(descriptor["/FontFile2"].get_object().get_data()) > 10_000  # embedded


def test_pdf_text_is_persian_with_receipts_and_digest() -> None:
    # Mall finance also gives back a fee taken twice in an earlier period.
    statement = make_statement([*three_shop_lines(), line(CORRECTION, 8, 12_000)])
    text = "\n".join(pdf_text(render_strictly(statement)))

    assert "صورتحساب تسویه" in text
    assert "گالری چرم ژیوار" in text
    assert set("پچژگکی") <= set(text)  # the letters Arabic fonts often lack
    assert not re.search("[\ufb50-\ufdff\ufe70-\ufeff]", text)  # letters, not glyph forms
    # Extraction puts a mirrored bracket at the far end of its run: compare without them.
    unbracketed = re.sub("[()]", "", text)
    for label in KIND_FA.values():
        assert re.sub("[()]", "", label) in unbracketed
    for receipt in ("R-1001", "R-1002", "R-1005"):
        assert receipt in text
    assert DIGEST in text
    assert "پس‌پرداخت" in text
    assert "طلب ما از صندوق" in text  # position 259,500 Rial: the fund owes us
    assert "correction:8" in text


def test_pdf_prepaid_statement_shows_the_cover_and_no_payment() -> None:
    statement = make_statement(funding="prepaid", covered_rial=977_505, payments=[])
    text = "\n".join(pdf_text(render_strictly(statement)))

    assert "پیش‌پرداخت" in text
    assert "پوشش‌داده‌شده با پیش‌پرداخت" in text
    assert "در این دوره پولی جابه‌جا نمی‌شود." in text


def test_pdf_cuts_a_receipt_that_would_spill_into_the_next_column() -> None:
    long_receipt = "POS-7-" + "9" * 60
    statement = make_statement([line(REDEEMED_HERE, 1, 10_000, receipt=long_receipt)])
    text = "\n".join(pdf_text(render_strictly(statement)))

    assert long_receipt not in text
    assert re.search(r"POS-7-9{10,}\.\.\.", text)  # "…" after NFKC


def test_pdf_of_2000_lines_paginates_keeping_every_line_and_the_header() -> None:
    kinds = (REDEEMED_HERE, SPENT_ELSEWHERE)
    lines = [
        line(kinds[n % 2], n, 10_000 + n if n % 2 == 0 else -10_000 - n, redeemer="shop-b")
        for n in range(2_000)
    ]
    pages = pdf_text(render_strictly(make_statement(lines)))

    assert len(pages) > 1
    receipts = re.findall(r"R-\d+", "\n".join(pages))
    assert sorted(receipts) == sorted(x.receipt for x in lines)  # each line once, none lost
    for page in pages:
        if re.search(r"R-\d+", page):
            assert "صادرکننده" in page
            assert "پذیرنده" in page
    assert "پایان صورتحساب" in pages[-1]
    assert all("پایان صورتحساب" not in page for page in pages[:-1])
    assert DIGEST in pages[-1]


def test_pdf_same_statement_same_bytes() -> None:
    assert statement_pdf(make_statement()) == statement_pdf(make_statement())


def test_a_corrections_reason_is_in_the_csv() -> None:
    statement = make_statement([line(CORRECTION, 8, -12_000)])
    [row] = parse_csv_lines(statement_csv(statement))
    assert (row["kind"], row["ref"], row["net_rial"]) == ("correction", "correction:8", "-12000")
    assert row["memo"] == "کارمزد دوره ۱۱ دو بار کسر شد"
