"""A shop manager manages the shop's staff from the shop's own node (issue 15), over real
HTTP: the node asks the hub with its client, naming the manager; the hub disables the
operator and queues the revocation; once the node pulls its inbox, the operator's token is
refused at the node too. The till may not manage staff, and a hub that is down gets a
clear answer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from hub.app import create_app as create_hub
from hub.db.models import User
from hub.services import people
from mallnet.config import Settings
from mallnet.devtokens import issue
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node
from shop_node.services.inbox import pull_and_apply
from shop_node.services.relay import connect
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from .conftest import _connection, _hub_db

BOOKS = "ketab-sara"
ACCOUNT = "id username role active"
STAFF = f"""query {{ staffAccounts {{ __typename
  ... on StaffAccountList {{ items {{ {ACCOUNT} }} }} ... on HubAnswer {{ code message }} }} }}"""
DISABLE = f"""mutation($id: ID!) {{ disableStaffAccount(id: $id) {{ __typename
  ... on StaffAccount {{ {ACCOUNT} }} ... on HubAnswer {{ code message }} }} }}"""
RESET = f"""mutation($id: ID!) {{ resetStaffPassword(id: $id) {{ __typename
  ... on StaffPasswordReset {{ generatedPassword account {{ {ACCOUNT} }} }}
  ... on HubAnswer {{ code message }} }} }}"""
CREATE = f"""mutation($input: NewStaffInput!) {{ createStaffAccount(input: $input) {{ __typename
  ... on StaffAccount {{ {ACCOUNT} }} ... on HubAnswer {{ code message }} }} }}"""
MEMBERS = "{ members(first: 1) { totalCount } }"


def _people(settings: Settings) -> dict[str, int]:
    async def work(session: AsyncSession) -> dict[str, int]:
        ali = await people.create_user(session, "ali", "ali manager pass", "manager", BOOKS)
        reza = await people.create_user(session, "reza", "reza operator pass", "operator", BOOKS)
        return {"ali": ali.id, "reza": reza.id}

    return dict(_hub_db(settings, work))


def _disabled(settings: Settings, user_id: int) -> bool:
    async def work(session: AsyncSession) -> bool:
        at = await session.scalar(select(User.disabled_at).where(User.id == user_id))
        return at is not None

    return bool(_hub_db(settings, work))


def test_a_manager_disables_an_operator_from_the_node_and_the_node_then_refuses_them(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    ids = _people(settings)
    asyncio.run(prepare_node(settings, BOOKS))
    with TestClient(create_node_app(BOOKS, settings)) as node:
        runtime: NodeRuntime = node.app.state.runtime  # type: ignore[attr-defined]
        creds = info["creds"][BOOKS]
        node.portal.call(connect, runtime, creds.client_id, creds.client_secret)  # type: ignore[union-attr]
        manager = issue(
            settings, audience=BOOKS, scopes=["shop:manage"], subject=f"staff:{ids['ali']}"
        )
        operator = issue(
            settings, audience=BOOKS, scopes=["shop:operate"], subject=f"staff:{ids['reza']}"
        )

        def op(token: str, query: str, **variables: Any) -> Any:
            return node.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )

        # The hub is down: a clear answer, nothing done
        down = op(manager, DISABLE, id=str(ids["reza"])).json()["data"]["disableStaffAccount"]
        assert down["code"] == "HUB_UNAVAILABLE"
        with LiveServer(create_hub(settings), info["port"]):
            # The till may not manage staff
            refused = op(operator, DISABLE, id=str(ids["reza"])).json()
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert not _disabled(settings, ids["reza"])
            listed = op(manager, STAFF).json()["data"]["staffAccounts"]["items"]
            assert {(a["username"], a["role"], a["active"]) for a in listed} == {
                ("ali", "MANAGER", True),
                ("reza", "OPERATOR", True),
            }
            # The operator works at the node until the manager disables them
            assert op(operator, MEMBERS).status_code == 200
            time.sleep(1.05)  # the operator's token predates the disabling by a clock second
            done = op(manager, DISABLE, id=str(ids["reza"])).json()["data"]["disableStaffAccount"]
            assert done == {
                "__typename": "StaffAccount",
                "id": str(ids["reza"]),
                "username": "reza",
                "role": "OPERATOR",
                "active": False,
            }
            assert _disabled(settings, ids["reza"])
            # The manager may not disable themselves
            own = op(manager, DISABLE, id=str(ids["ali"])).json()["data"]["disableStaffAccount"]
            assert own["code"] == "FORBIDDEN"
            # A new colleague, and a reset password the hub chooses (shown once)
            made = op(
                manager,
                CREATE,
                input={"username": "nima", "password": "nima operator pass", "role": "AUDITOR"},
            ).json()["data"]["createStaffAccount"]
            assert (made["username"], made["role"], made["active"]) == ("nima", "AUDITOR", True)
            reset = op(manager, RESET, id=made["id"]).json()["data"]["resetStaffPassword"]
            assert len(reset["generatedPassword"]) >= 16
            # The node pulls its inbox: the operator's token is refused here too
            pulled = node.portal.call(pull_and_apply, runtime, _connection(network, BOOKS))  # type: ignore[union-attr]
            assert pulled >= 1
        deadline = time.monotonic() + 5
        while op(operator, MEMBERS).status_code != 401 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert op(operator, MEMBERS).status_code == 401
        # The manager still works, with the hub down again
        assert op(manager, MEMBERS).status_code == 200
