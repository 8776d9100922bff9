"""Calls the hub takes from outside services: replies to the mall's SMS lines."""

from __future__ import annotations

from starlette.requests import Request

from hub.services import consents
from mallnet.messaging.inbound import kavenegar_route
from mallnet.secrets_store import network_key, pseudonym


def _secret(request: Request) -> str | None:
    secret: str | None = request.app.state.settings.kavenegar_hook_secret
    return secret


async def _opt_out(request: Request, phone: str) -> str:
    """A reply «لغو» to the mall's line: her promotional consent goes at every club she
    belongs to (the line carries every shop's campaigns)."""
    identity = pseudonym(network_key(request.app.state.settings), phone)
    async with request.app.state.sessions() as session, session.begin():
        shops = await consents.opt_out_everywhere(session, identity)
    return f"promotional consent withdrawn at {len(shops)} shop(s)"


routes = [kavenegar_route(_secret, _opt_out)]
