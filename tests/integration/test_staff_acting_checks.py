"""Who may manage accounts, and who a staff subject names (issue 15, from the security
review of the staff lifecycle): a ``node:federate`` token of no shop (a service client)
was taken for mall management and created a mall admin; ``staff:012`` was read as account
12 but compared as text with ``staff:12``, so a manager could disable themselves.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.client import HubConnection, HubRefused
from federation.envelope import RevokeStaffSessions
from federation.problems import HubProblemCode
from hub.db.models import User
from hub.services import registry
from mallnet.scopes import Scope

from .test_staff_lifecycle import SHOP_A, Mall, mall

__all__ = ["mall"]  # the fixture, shared with the lifecycle tests


async def test_a_node_federate_token_without_a_shop_is_not_mall_management(mall: Mall) -> None:
    async def make(session: AsyncSession) -> registry.IssuedCredentials:
        return await registry.create_client(
            session, kind="service", name="relay service", scopes=[Scope.NODE_FEDERATE]
        )

    creds = await mall.db(make)
    service = HubConnection(mall.url, creds.client_id, creds.client_secret)
    created = await service._graphql(
        'mutation { createStaffAccount(input: {username: "evil", password: "evil-password-1",'
        " role: MALL_ADMIN}) { __typename ... on HubProblem { code message } } }",
        {},
    )
    assert created["createStaffAccount"]["__typename"] == "Forbidden"
    assert "mall management" in created["createStaffAccount"]["message"]
    listed = await service._graphql(
        "{ staffAccounts { __typename ... on HubProblem { code } } }", {}
    )
    assert listed["staffAccounts"] == {"__typename": "Forbidden", "code": "FORBIDDEN"}

    async def evil(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).where(User.username == "evil")) or 0)

    assert await mall.db(evil) == 0


async def test_a_manager_cannot_disable_themselves_by_another_spelling(mall: Mall) -> None:
    ali = mall.id("ali")
    arabic = "".join(chr(0x660 + int(d)) for d in ali)  # Arabic-Indic digits
    node = mall.node(SHOP_A)
    for acting in (f"staff:0{ali}", f"staff:00{ali}", f"staff:{ali}\n", f"staff:{arabic}"):
        with pytest.raises(HubRefused, match="only an active manager") as refused:
            await node.disable_staff(acting, ali)
        assert refused.value.code is HubProblemCode.FORBIDDEN
        assert not await mall.disabled("ali"), repr(acting)
    # The manager's own spelling still acts on others
    assert (await node.disable_staff(f"staff:{ali}", mall.id("reza")))["active"] is False


def test_a_revoke_command_names_staff_in_one_spelling_only() -> None:
    assert RevokeStaffSessions(subject="staff:12", reason="disabled").subject == "staff:12"
    for subject in ("staff:012", "staff:0", "staff:12\n", "staff:١٢"):
        with pytest.raises(ValidationError, match="subject"):
            RevokeStaffSessions(subject=subject, reason="disabled")
