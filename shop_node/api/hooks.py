"""Calls the node takes from outside services: replies to the shop's own SMS lines (a
shop that pays for its SMS on its own Kavenegar account sets this URL for its lines)."""

from __future__ import annotations

from starlette.requests import Request

from mallnet.messaging.inbound import kavenegar_route
from shop_node.services.members import opt_out_by_phone


def _secret(request: Request) -> str | None:
    account = request.app.state.settings.sms_shop_accounts_secret.get(request.app.state.shop, {})
    return account.get("hook_secret") or None


async def _opt_out(request: Request, phone: str) -> str:
    runtime = request.app.state.runtime
    if runtime is None:
        return "node not ready"
    return await opt_out_by_phone(runtime, phone)


routes = [kavenegar_route(_secret, _opt_out)]
