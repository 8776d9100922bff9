"""What the shopper app asks of the hub, over real HTTP against the hub and two shop nodes
(SQLite and PostgreSQL hubs): a grant the pay screen follows until the till captures it."""

from __future__ import annotations

from typing import Any

from hub.services import registry
from mallnet.scopes import Scope

from .conftest import _hub_db
from .test_redemption_grants import (
    ALI,
    BOOKS,
    PIN,
    SARA,
    SHOES,
    Mall,
    _signed_in_with_pin,
    mall,
)

__all__ = ["mall"]  # the fixture, shared with the grant tests

GRANT_FOR = """mutation($pin: String!, $shop: String) {
  issueRedemptionGrant(pin: $pin, shop: $shop) {
  __typename ... on RedemptionGrant { id digits qrPayload }
  ... on HubProblem { code field message } } }"""
GRANT_STATUS = """query($id: String!) { myRedemptionGrant(id: $id) {
  id status expiresAt usedAt shop { slug nameFa } heldAt { slug } heldRial capturedRial paid } }"""


def _mall_reports_token(mall: Mall) -> str:
    """Mall management's reporting client, signed in with its own credentials."""
    client = _hub_db(
        mall.settings,
        lambda s: registry.create_client(
            s, kind="service", name="reports", scopes=[Scope.MALL_REPORTS]
        ),
    )
    answer = mall.http.post(
        f"{mall.hub_url}/oauth/token",
        data={"grant_type": "client_credentials", "scope": Scope.MALL_REPORTS.value},
        auth=(client.client_id, client.client_secret),
    )
    return str(answer.json()["access_token"])


def _grants(mall: Mall) -> int:
    async def count(session: Any) -> int:
        from sqlalchemy import func, select

        from hub.db.models import RedemptionGrant

        return int(await session.scalar(select(func.count()).select_from(RedemptionGrant)))

    found: int = _hub_db(mall.settings, count)
    return found


def test_the_pay_screen_sees_its_grant_captured(mall: Mall) -> None:
    # Given Ali signed in with a PIN, and a grant for the bookshop only
    ali = _signed_in_with_pin(mall, ALI)
    grant = mall.app(ali, GRANT_FOR, pin=PIN, shop=BOOKS)
    assert grant["__typename"] == "RedemptionGrant", grant
    status = mall.app(ali, GRANT_STATUS, id=grant["id"])
    assert (status["status"], status["shop"]["slug"], status["heldAt"]) == ("open", BOOKS, None)
    assert (status["paid"], status["heldRial"], status["capturedRial"]) == (False, 0, 0)

    # When the till holds with it, the screen shows it used, not yet paid
    held = mall.hold(BOOKS, ALI, 100_000, "B-1", grant=grant["qrPayload"])
    assert held["__typename"] == "NetworkHold", held
    status = mall.app(ali, GRANT_STATUS, id=grant["id"])
    assert (status["status"], status["heldAt"]["slug"], status["paid"]) == ("used", BOOKS, False)
    assert (status["heldRial"], status["usedAt"] is not None) == (100_000, True)

    # Then the purchase captures it: paid
    paid = mall.buy(BOOKS, ALI, "B-1", held["id"], 150_000)
    assert paid["__typename"] == "PurchaseRecorded", paid
    status = mall.app(ali, GRANT_STATUS, id=grant["id"])
    assert (status["paid"], status["capturedRial"]) == (True, 100_000)

    # Sara cannot read Ali's grant: the same null as an unknown id
    sara = mall.sign_in(SARA)
    assert mall.app(sara, GRANT_STATUS, id=grant["id"]) is None
    assert mall.app(sara, GRANT_STATUS, id="0" * 26) is None


def test_a_grant_for_one_shop_holds_nothing_at_another(mall: Mall) -> None:
    ali = _signed_in_with_pin(mall, ALI)
    grant = mall.app(ali, GRANT_FOR, pin=PIN, shop=BOOKS)
    before = mall.standing(ALI)[0]
    for code in (grant["digits"], grant["qrPayload"]):
        refused = mall.hold(SHOES, ALI, 50_000, "S-1", grant=code)
        assert refused["code"] == "GRANT_INVALID", refused
    mall.untouched(ALI, before)
    assert mall.app(ali, GRANT_STATUS, id=grant["id"])["status"] == "open"


def test_a_grant_for_an_unknown_or_suspended_shop_is_refused_and_writes_nothing(
    mall: Mall,
) -> None:
    ali = _signed_in_with_pin(mall, ALI)
    _hub_db(mall.settings, lambda s: registry.set_shop_status(s, SHOES, "suspended"))
    before = _grants(mall)
    for shop in ("no-such-shop", SHOES):
        refused = mall.app(ali, GRANT_FOR, pin=PIN, shop=shop)
        assert (refused["code"], refused["field"]) == ("INVALID_INPUT", "shop"), refused
    assert _grants(mall) == before
    # A wrong PIN with it costs no try either: the shop is checked first.
    wrong = mall.app(ali, GRANT_FOR, pin="9999", shop="no-such-shop")
    assert wrong["code"] == "INVALID_INPUT"
    good = mall.app(ali, GRANT_FOR, pin="9999", shop=BOOKS)
    assert (good["code"], good["message"]) == ("PIN_INVALID", "wrong PIN; 4 tries left")


ME_CARD = "{ me { card { number qrPayload } phoneMasked } }"
SHOPPERS = "{ shoppers { pseudonym phoneMasked card { number qrPayload } } }"


def test_only_the_shoppers_own_me_shows_her_card(mall: Mall) -> None:
    ali = mall.sign_in(ALI)
    assert mall.app(ali, ME_CARD) == {
        "card": {"number": "09121234567", "qrPayload": "mallnet:card:+989121234567"},
        "phoneMasked": "0912***4567",
    }
    # Mall management's list: the phone masked as before, no card.
    listed = mall.app(_mall_reports_token(mall), SHOPPERS)
    assert [s["pseudonym"] for s in listed] == [mall.who(ALI)]
    assert (listed[0]["phoneMasked"], listed[0]["card"]) == ("0912***4567", None)


DIRECTORY = """{ directory { slug nameFa nameEn category floor unit
  acceptsPooledPoints acceptsGeneralCredit } }"""


def _add_shops(mall: Mall) -> None:
    async def add(session: Any) -> None:
        for slug, name_fa, floor in (
            ("sib-sabz", "سیب سبز", "2"),
            ("zhila-mode", "ژیلا مد", None),
            ("ziba-gallery", "زیبا گالری", "1"),
            ("charm-mahan", "چرم ماهان", "-1"),
            ("halva-hafez", "حلوای حافظ", None),
        ):
            data = registry.ShopInput(
                slug, name_fa, slug, "fashion", floor, "B12", f"http://{slug}.test"
            )
            await registry.register_shop(session, data)
        await registry.set_shop_status(session, BOOKS, "suspended")
        await registry.set_shop_status(session, SHOES, "suspended")

    _hub_db(mall.settings, add)


def test_the_directory_lists_active_shops_in_persian_order(mall: Mall) -> None:
    _add_shops(mall)
    _hub_db(mall.settings, lambda s: registry.set_shop_status(s, "sib-sabz", "suspended"))
    ali = mall.sign_in(ALI)
    shops = mall.app(ali, DIRECTORY)
    # چ before ح and ژ before س (code point order would put them after); no suspended shop.
    assert [s["nameFa"] for s in shops] == ["چرم ماهان", "حلوای حافظ", "زیبا گالری", "ژیلا مد"]
    assert shops[0] == {
        "slug": "charm-mahan",
        "nameFa": "چرم ماهان",
        "nameEn": "charm-mahan",
        "category": "fashion",
        "floor": "-1",
        "unit": "B12",
        "acceptsPooledPoints": True,
        "acceptsGeneralCredit": True,
    }
    # Nothing of a node (its address, its status) is there to ask for.
    asked = mall.http.post(
        f"{mall.hub_url}/graphql",
        json={"query": "{ directory { nodeUrl status } }"},
        headers={"Authorization": f"Bearer {ali}"},
    ).json()
    assert "Cannot query field 'nodeUrl'" in asked["errors"][0]["message"]
    # Mall management reads it too.
    assert mall.app(_mall_reports_token(mall), DIRECTORY) == shops
