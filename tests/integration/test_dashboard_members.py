"""The dashboard's members through the node's API, on SQLite and PostgreSQL: a Persian-aware
search (ي/ی and ك/ک alike, phones in any digits, card codes), filters, server paging, tags,
the manual adjustment's mandatory reason, and the filtered list as CSV and XLSX for
managers only."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook

from shop_node.api.dashboard import cookie_name

from ..node_client import NodeClient
from .test_node_club import counts, purchase, record
from .test_till_api import query

SEARCH = """
query Search($filter: MemberFilterInput, $first: Int! = 50, $after: String) {
  memberSearch(filter: $filter, first: $first, after: $after) {
    __typename
    ... on MemberSearchPage {
      totalCount hasNextPage endCursor
      items { lastVisitAt member { id name cardCode phoneLocal tags tier { current { code } } } }
    }
    ... on InvalidInput { code problems { field message } }
  }
}
"""

TAG = """
mutation Tag($id: ID!, $tag: String!, $add: Boolean!) {
  add: addMemberTag(memberId: $id, tag: $tag) @include(if: $add) { ...R }
  remove: removeMemberTag(memberId: $id, tag: $tag) @skip(if: $add) { ...R }
}
fragment R on MemberTagResult {
  __typename
  ... on Member { tags }
  ... on InvalidInput { problems { field } }
  ... on NotFound { code }
}
"""

ADJUST = """
mutation Adjust($input: AdjustBalanceInput!) {
  adjustBalance(input: $input) {
    __typename
    ... on AdjustmentRecorded { balances { points creditRial } }
    ... on InvalidInput { problems { field message } }
  }
}
"""

# Two spellings of one name: Persian keyboard (ی ک) and Arabic keyboard (ي ك).
ALI = ("09121111111", "علی کریمی")
ALI_ARABIC_KEYS = "علي كريمي"
SARA = ("09122222222", "Sara Ahmadi")
REZA = ("09123333333", "رضا")
DAY = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)


def at(node: NodeClient, moment: dt.datetime) -> None:
    node.runtime.clock = lambda: moment


def enrol(node: NodeClient, phone: str, name: str, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = node.op("EnrolMember", input={"phone": phone, "name": name, **extra})[
        "enrolMember"
    ]
    assert result["__typename"] == "Member", result
    return result


def search(node: NodeClient, token: str | None = None, **variables: Any) -> Any:
    body = query(node, SEARCH, token, **variables)
    assert "errors" not in body, body
    return body["data"]["memberSearch"]


def names(page: Any) -> list[str]:
    return [item["member"]["name"] for item in page["items"]]


def three_members(node: NodeClient) -> dict[str, Any]:
    """Ali joined on 1 December and bought twice (silver), Sara on 3 December bought once,
    Reza on 5 December (a company) never bought."""
    at(node, DAY)
    record(node, purchase("R-1", [("books", 500_000)], phone=ALI[0]))
    ali = search(node, filter={"search": ALI[0]})["items"][0]["member"]
    node.op("UpdateMember", input={"member": {"id": ali["id"]}, "name": ALI[1]})
    at(node, DAY + dt.timedelta(days=2))
    record(node, purchase("R-2", [("books", 1_000_000)], cardCode=ali["cardCode"]))
    sara = enrol(node, SARA[0], SARA[1])
    record(node, purchase("R-3", [("stationery", 100_000)], phone=SARA[0]))
    at(node, DAY + dt.timedelta(days=4))
    reza = enrol(node, REZA[0], REZA[1], membershipType="COMPANY")
    return {"ali": ali, "sara": sara, "reza": reza}


def test_search_is_persian_aware_and_pages_on_the_server(node: NodeClient) -> None:
    people = three_members(node)
    # Arabic-keyboard letters find the Persian-spelled name, and the other way round.
    assert names(search(node, filter={"search": ALI_ARABIC_KEYS})) == [ALI[1]]
    assert names(search(node, filter={"search": "كريم"})) == [ALI[1]]
    # Phones in Persian digits, local or international, in part; names in any case.
    assert names(search(node, filter={"search": "۰۹۱۲۲۲۲"})) == [SARA[1]]
    assert names(search(node, filter={"search": "+98912333"})) == [REZA[1]]
    assert names(search(node, filter={"search": "sara"})) == [SARA[1]]
    # A card code, whole or its start.
    card = people["sara"]["cardCode"]
    assert names(search(node, filter={"search": card})) == [SARA[1]]
    assert search(node, filter={"search": "no such person"})["totalCount"] == 0
    # Pages of one, newest first, each knowing the total.
    first = search(node, first=1)
    assert (names(first), first["totalCount"], first["hasNextPage"]) == ([REZA[1]], 3, True)
    second = search(node, first=1, after=first["endCursor"])
    third = search(node, first=1, after=second["endCursor"])
    assert names(second) + names(third) == [SARA[1], ALI[1]]
    assert third["hasNextPage"] is False
    # An auditor (shop:read) may search; an unbounded page is refused.
    auditor = node.token_for(["shop:read"])
    assert search(node, auditor, filter={"search": "رضا"})["totalCount"] == 1
    refused = query(node, SEARCH, first=500)
    assert refused["errors"][0]["extensions"]["code"] == "PAGE_TOO_LARGE"


def test_filters_select_by_tier_type_dates_and_tag(node: NodeClient) -> None:
    people = three_members(node)
    tagged = query(node, TAG, id=people["sara"]["id"], tag="VIP", add=True)
    assert tagged["data"]["add"]["tags"] == ["VIP"]

    def only(**filter_: Any) -> list[str]:
        return sorted(names(search(node, filter=filter_)))

    assert only(tier="silver") == [ALI[1]]
    assert only(tier="bronze") == sorted([SARA[1], REZA[1]])
    assert only(membershipType="COMPANY") == [REZA[1]]
    assert only(joinedFrom="2026-12-03") == sorted([SARA[1], REZA[1]])
    assert only(joinedTo="2026-12-01") == [ALI[1]]
    assert only(lastVisitFrom="2026-12-02", lastVisitTo="2026-12-03") == sorted([ALI[1], SARA[1]])
    assert only(lastVisitTo="2026-12-01") == []
    assert only(tag="VIP") == [SARA[1]]
    assert only(tag="VIP", tier="silver") == []
    page = search(node, filter={"search": SARA[0]})
    assert page["items"][0]["lastVisitAt"].startswith("2026-12-03")
    # A filter that cannot be met as asked is a typed problem at its field.
    bad = search(
        node, filter={"tier": "platinum", "joinedFrom": "2026-12-05", "joinedTo": "2026-12-01"}
    )
    assert bad["__typename"] == "InvalidInput"
    assert {p["field"] for p in bad["problems"]} == {"tier", "joinedTo"}


def test_tags_are_added_and_removed_by_managers_only(node: NodeClient) -> None:
    people = three_members(node)
    ali = people["ali"]["id"]
    assert query(node, TAG, id=ali, tag="  خوش‌حساب ", add=True)["data"]["add"]["tags"] == [
        "خوش‌حساب"
    ]
    again = query(node, TAG, id=ali, tag="VIP", add=True)["data"]["add"]
    assert again["tags"] == sorted(["VIP", "خوش‌حساب"])
    assert query(node, TAG, id=ali, tag="VIP", add=True)["data"]["add"]["tags"] == again["tags"]
    removed = query(node, TAG, id=ali, tag="VIP", add=False)["data"]["remove"]
    assert removed["tags"] == ["خوش‌حساب"]
    empty = query(node, TAG, id=ali, tag="   ", add=True)["data"]["add"]
    assert empty == {"__typename": "InvalidInput", "problems": [{"field": "tag"}]}
    missing = query(node, TAG, id="999999", tag="VIP", add=True)["data"]["add"]
    assert missing == {"__typename": "NotFound", "code": "MEMBER_NOT_FOUND"}
    # The till and an auditor may not tag.
    for scopes in (["shop:operate"], ["shop:read"]):
        body = query(node, TAG, node.token_for(scopes), id=ali, tag="X", add=True)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert search(node, filter={"search": ALI[0]})["items"][0]["member"]["tags"] == ["خوش‌حساب"]


def test_an_adjustment_needs_a_reason_and_a_manager(node: NodeClient) -> None:
    people = three_members(node)
    ref = {"id": people["reza"]["id"]}
    before = counts(node)
    for reason in ("", "  ", "ok"):
        refused = query(
            node,
            ADJUST,
            input={
                "member": ref,
                "asset": "POINTS",
                "amount": 50,
                "reason": reason,
                "idempotencyKey": "01JDASHMEMBERS0000000000A1",
            },
        )["data"]["adjustBalance"]
        assert refused["__typename"] == "InvalidInput", refused
        assert [p["field"] for p in refused["problems"]] == ["reason"]
    assert counts(node) == before  # nothing written
    data = {
        "member": ref,
        "asset": "POINTS",
        "amount": 50,
        "reason": "گم شدن کارت",
        "idempotencyKey": "01JDASHMEMBERS0000000000A2",
    }
    operator = query(node, ADJUST, node.token_for(["shop:operate"]), input=data)
    assert operator["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert counts(node) == before
    done = query(node, ADJUST, input=data)["data"]["adjustBalance"]
    assert done["__typename"] == "AdjustmentRecorded", done
    assert done["balances"]["points"] == 20 + 50  # the welcome gift, then the adjustment


def _export(node: NodeClient, kind: str, token: str | None = None, **params: str) -> Any:
    return node.http.get(
        f"/members/export.{kind}",
        params=params,
        headers={"Authorization": f"Bearer {token or node.token}"},
    )


def test_the_filtered_list_exports_as_csv_and_xlsx_for_managers(node: NodeClient) -> None:
    people = three_members(node)
    query(node, TAG, id=people["ali"]["id"], tag="VIP", add=True)
    query(node, TAG, id=people["reza"]["id"], tag="VIP", add=True)

    answer = _export(node, "xlsx", tag="VIP")
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(answer.content), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["card_code", "name", "phone"]
    assert [(r[1], r[2], r[4]) for r in rows[1:]] == [
        (REZA[1], REZA[0], "bronze"),
        (ALI[1], ALI[0], "silver"),
    ]
    assert rows[2][6] == 10_000 + 50_000 + 100_000  # welcome, then 10% of two book baskets

    text = _export(node, "csv", search="sara").content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert [r[1] for r in table[1:]] == [SARA[1]]
    assert table[1][8:10] == ["2026-12-03", "1405/09/12"]
    # Every member when nothing is filtered.
    assert len(list(csv.reader(io.StringIO(_export(node, "csv").text)))) == 1 + 3

    # The file holds every phone number: the till and auditors are refused.
    for scopes in (["shop:operate"], ["shop:read"]):
        assert _export(node, "csv", node.token_for(scopes)).status_code == 403
    assert node.http.get("/members/export.csv").status_code == 401
    bad = _export(node, "csv", joinedFrom="yesterday", tier="platinum")
    assert (bad.status_code, bad.json()["error"]) == (400, "INVALID_INPUT")
    assert _export(node, "pdf").status_code == 404


def test_the_dashboard_session_exports_only_with_the_csrf_header(node: NodeClient) -> None:
    three_members(node)
    name = cookie_name(node.shop, node.settings)

    def session_of(scopes: list[str]) -> str:
        started = node.http.post(
            "/session", headers={"Authorization": f"Bearer {node.token_for(scopes)}"}
        )
        assert started.status_code == 201, started.text
        token: str = started.json()["sessionToken"]
        return token

    manager, till = session_of(["shop:manage"]), session_of(["shop:operate"])
    csrf = {"X-Mallnet-CSRF": "1"}
    node.http.cookies.set(name, manager)
    assert node.http.get("/members/export.xlsx", headers=csrf).status_code == 200
    # A link (or another site's page) cannot send the header: refused.
    bare = node.http.get("/members/export.xlsx")
    assert (bare.status_code, bare.json()["error"]) == (403, "csrf_header_required")
    node.http.cookies.set(name, till)
    assert node.http.get("/members/export.xlsx", headers=csrf).status_code == 403
    node.http.cookies.clear()
