"""A reply «لغو» (or STOP) to an SMS line withdraws promotional consent: Kavenegar forwards
the reply to the hub (the mall's lines) or to a node (a shop's own line), at a URL holding a
secret. Without the secret, or with a wrong one, the route does not exist for the caller
and nothing changes. (Hub on SQLite and PostgreSQL; the node on both too.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from hub.app import create_app as create_hub
from hub.db.models import InboxCommand, Membership
from mallnet.config import Settings
from mallnet.secrets_store import network_key, pseudonym
from shop_node.db.models import Member, OutboxEvent

from ..conftest import in_transaction_sync
from ..node_client import NodeClient
from .conftest import SHOPS
from .test_node_club import E164, purchase, record

HOOK_SECRET = "k" * 8 + "-reply-hook-secret-0123456789abcdef"
SARA_LOCAL = "09121234567"


def _reply(http: TestClient, secret: str, text: str, sender: str = SARA_LOCAL) -> Any:
    form = {"messageid": "9001", "from": sender, "to": "30004505", "message": text}
    return http.post(f"/hooks/kavenegar/{secret}", data=form)


def _memberships(settings: Settings, who: str, promotional: bool) -> None:
    async def work(session: Any) -> None:
        for shop in SHOPS:
            session.add(
                Membership(
                    pseudonym=who,
                    shop=shop,
                    joined_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                    promotional=promotional,
                )
            )

    in_transaction_sync(settings.hub_db_url, work)


def _hub_state(settings: Settings, who: str) -> tuple[list[bool], list[str]]:
    async def work(session: Any) -> tuple[list[bool], list[str]]:
        promotional = await session.scalars(
            select(Membership.promotional)
            .where(Membership.pseudonym == who)
            .order_by(Membership.shop)
        )
        commands = await session.scalars(
            select(InboxCommand.node).where(InboxCommand.type == "command.set_consent")
        )
        return list(promotional), sorted(commands)

    result: tuple[list[bool], list[str]] = in_transaction_sync(settings.hub_db_url, work)
    return result


def test_a_reply_to_the_mall_line_opts_her_out_at_every_club(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, _info = network
    who = pseudonym(network_key(settings), E164)
    _memberships(settings, who, promotional=True)
    with TestClient(create_hub(settings)) as http:
        # No secret configured: the route answers as if it did not exist.
        assert _reply(http, "anything", "لغو").status_code == 404
        http.app.state.settings = settings.model_copy(  # type: ignore[attr-defined]
            update={"kavenegar_hook_secret": HOOK_SECRET}
        )
        assert _reply(http, HOOK_SECRET[:-1] + "x", "لغو").status_code == 404
        assert _reply(http, HOOK_SECRET, "thanks, see you on Friday").text == "ok"
        assert _hub_state(settings, who) == ([True, True], [])
        answer = _reply(http, HOOK_SECRET, " لغو۱۱ ")
        assert (answer.status_code, answer.text) == (200, "ok")
        promotional, commands = _hub_state(settings, who)
        assert promotional == [False, False]
        assert commands == sorted(SHOPS)  # each node hears it through its inbox
        # Kavenegar calls again (or someone replays the call): nothing more is sent, and
        # a stranger's number gets the same answer as a member's.
        assert _reply(http, HOOK_SECRET, "لغو").text == "ok"
        assert _hub_state(settings, who) == ([False, False], sorted(SHOPS))
        assert _reply(http, HOOK_SECRET, "لغو", sender="09351119999").text == "ok"


def test_a_reply_to_the_shops_own_line_opts_her_out_there(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 100_000)]))

    async def promotional_on(session: Any) -> None:
        member = await session.scalar(select(Member).where(Member.phone == E164))
        member.consent_promotional = True

    node.call(node.runtime.transaction, promotional_on)
    app = node.http.app
    accounts = {"ketab-sara": {"api_key": "k", "service_line": "1000", "hook_secret": HOOK_SECRET}}
    assert _reply(node.http, HOOK_SECRET, "STOP").status_code == 404  # not configured yet
    app.state.settings = node.settings.model_copy(  # type: ignore[attr-defined]
        update={"sms_shop_accounts_secret": accounts}
    )
    assert _reply(node.http, "wrong-" + HOOK_SECRET, "STOP").status_code == 404
    assert _reply(node.http, HOOK_SECRET, "STOP").text == "ok"

    async def state(session: Any) -> tuple[bool, list[str]]:
        member = await session.scalar(select(Member).where(Member.phone == E164))
        events = await session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id))
        return member.consent_promotional, list(events)

    consent, events = node.call(node.runtime.read, state)
    assert consent is False
    assert events[-1] == "member.consent_changed"  # the hub (and her app) hear of it


def test_the_access_log_never_shows_the_hook_secret() -> None:
    import logging

    from mallnet.messaging.inbound import HideHookSecret

    # As uvicorn logs a request: '%s - "%s %s HTTP/%s" %d'.
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5000", "POST", f"/hooks/kavenegar/{HOOK_SECRET}?x=1", "1.1", 200),
        None,
    )
    assert HideHookSecret().filter(record)
    shown = record.getMessage()
    assert HOOK_SECRET not in shown
    assert "/hooks/kavenegar/***?x=1" in shown
