"""What the shopper app asks of the hub, over real HTTP against the hub and two shop nodes
(SQLite and PostgreSQL hubs): a grant the pay screen follows until the till captures it,
her network card, the shop directory, and her tier in each club as its node reports it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from federation.envelope import BalanceChanged
from federation.ids import new_event_id
from hub.services import registry
from mallnet.db import create_engine, session_factory, utcnow
from mallnet.scopes import Scope
from shop_node.services import outbox
from shop_node.services.relay import relay_all
from shop_node.services.runtime import NodeRuntime

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
    anywhere = mall.app(ali, GRANT_FOR, pin=PIN, shop=None)
    grant = mall.app(ali, GRANT_FOR, pin=PIN, shop=BOOKS)
    # One live app code at a time: the new grant, for one shop, replaced the one for any.
    replaced = mall.app(ali, GRANT_STATUS, id=anywhere["id"])
    assert (replaced["status"], replaced["shop"]) == ("expired", None)
    assert mall.hold(SHOES, ALI, 50_000, "S-0", grant=anywhere["digits"])["code"] == (
        "GRANT_EXPIRED"
    )
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


LOCAL_TIERS = """{ me { wallet { localBalances { shop { slug } points
  tier { code nameFa nameEn basis metric nextNameFa nextNameEn nextThreshold } } } } }"""


def _relay(mall: Mall, slug: str) -> int:
    """The node's relay sends its outbox to the hub (what its worker does)."""

    async def go() -> int:
        engine = create_engine(mall.settings.node_db_url(slug))
        try:
            runtime = await NodeRuntime.start(slug, engine, mall.settings)
            return await relay_all(runtime, mall.hub_as_node(slug))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _buy(mall: Mall, receipt: str, total: int) -> None:
    bought = mall.till(
        BOOKS,
        "RecordPurchase",
        input={
            "receiptId": receipt,
            "totalRial": str(total),
            "phone": ALI,
            "lines": [{"productGroup": "general", "amountRial": str(total)}],
        },
    )
    assert bought["__typename"] == "PurchaseRecorded", bought


def _club(mall: Mall, token: str) -> dict[str, Any]:
    wallet = mall.app(token, LOCAL_TIERS)["wallet"]
    [books] = [b for b in wallet["localBalances"] if b["shop"]["slug"] == BOOKS]
    return dict(books)


def test_a_purchase_that_crosses_a_tier_reaches_the_wallet_with_it(mall: Mall) -> None:
    # Given Ali bought once at the bookshop (the default club: a point per 10,000 Rial,
    # silver at 500 points earned, gold at 2,000)
    ali = mall.sign_in(ALI)
    _buy(mall, "B-1", 100_000)
    assert _relay(mall, BOOKS) > 0
    assert _club(mall, ali)["tier"] == {
        "code": "bronze",
        "nameFa": "برنزی",
        "nameEn": "Bronze",
        "basis": "earned_points",
        "metric": 10,
        "nextNameFa": "نقره‌ای",
        "nextNameEn": "Silver",
        "nextThreshold": 500,
    }
    # When a purchase takes her past 500 points earned
    _buy(mall, "B-2", 5_000_000)
    _relay(mall, BOOKS)
    # Then the hub's wallet shows her silver, gold next
    club = _club(mall, ali)
    assert club["tier"] == {
        "code": "silver",
        "nameFa": "نقره‌ای",
        "nameEn": "Silver",
        "basis": "earned_points",
        "metric": 510,
        "nextNameFa": "طلایی",
        "nextNameEn": "Gold",
        "nextThreshold": 2_000,
    }

    # An older node's balance event, without a tier, is still taken: the balance moves
    # and the wallet shows no tier rather than a stale one.
    _old_balance_event(mall, club["points"] + 1)
    assert _relay(mall, BOOKS) == 1
    older = _club(mall, ali)
    assert (older["points"], older["tier"]) == (club["points"] + 1, None)


def _old_balance_event(mall: Mall, points: int) -> None:
    """A balance event as a node from before tiers wrote it into its outbox."""

    async def go() -> None:
        engine = create_engine(mall.settings.node_db_url(BOOKS))
        try:
            async with session_factory(engine)() as session, session.begin():
                payload = {"pseudonym": mall.who(ALI), "points": points, "credit_rial": 0}
                await session.execute(
                    outbox.INSERT_EVENTS,
                    [
                        {
                            "event_id": new_event_id(),
                            "type": "balance.changed",
                            "occurred_at": utcnow(),
                            "payload": payload,
                            "attempts": 0,
                        }
                    ],
                )
        finally:
            await engine.dispose()

    asyncio.run(go())


def test_balance_events_without_a_tier_are_read_and_half_a_tier_is_refused() -> None:
    old = {"pseudonym": "a" * 64, "points": 5, "credit_rial": 0}
    assert BalanceChanged.model_validate(old).tier_code is None
    tier = {
        "tier_code": "silver",
        "tier_name_fa": "نقره‌ای",
        "tier_name_en": "Silver",
        "tier_basis": "spend_12m",
        "tier_metric": 3_000_000_000,  # Rial of spend: past 2^31
    }
    assert BalanceChanged.model_validate({**old, **tier}).tier_metric == 3_000_000_000
    for broken in (
        {**old, "tier_code": "silver"},
        {**old, **tier, "next_tier_name_fa": "طلایی"},
        {**old, "next_tier_name_fa": "a", "next_tier_name_en": "b", "next_tier_threshold": 1},
        {**old, **tier, "tier_metric": -1},
    ):
        with pytest.raises(ValidationError):
            BalanceChanged.model_validate(broken)
