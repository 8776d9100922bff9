"""Replies people send to our SMS lines, as Kavenegar forwards them, and what they ask.

Kavenegar calls the URL set for a line in its panel with ``messageid``, ``from``, ``to``
and ``message`` (GET query or POST form). It signs nothing, so the URL carries a secret
(``/hooks/kavenegar/<MALLNET_KAVENEGAR_HOOK_SECRET>``): without the secret the route
answers 404, as if it did not exist. The hub answers for the mall's lines, a node for the
lines of a shop with its own account. A reply that is an opt-out keyword («لغو», STOP…)
withdraws the sender's promotional consent at once; anything else is only logged.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mallnet.messaging.kavenegar import Inbound, parse_inbound
from mallnet.messaging.optout import is_opt_out
from mallnet.phone import mask

log = logging.getLogger(__name__)
_HOOK_PATH = re.compile(r"(/hooks/kavenegar/)[^/?\s\"]+")


class HideHookSecret(logging.Filter):
    """Access logs print every path: this one carries a secret, shown as ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _HOOK_PATH.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _HOOK_PATH.sub(r"\1***", record.msg)
        return True


def hide_hook_secret_in_access_logs() -> None:
    """Install :class:`HideHookSecret` on uvicorn's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideHookSecret) for f in access.filters):
        access.addFilter(HideHookSecret())


# What to do with the phone that asked to opt out; returns what happened (for the log).
OptOut = Callable[[Request, str], Awaitable[str]]


def kavenegar_route(secret: Callable[[Request], str | None], opt_out: OptOut) -> Route:
    """The route a Kavenegar line forwards replies to."""
    hide_hook_secret_in_access_logs()

    async def receive(request: Request) -> Response:
        expected = secret(request)
        given = request.path_params["secret"]
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return PlainTextResponse("not found", status_code=404)
        fields = dict(request.query_params)
        if request.method == "POST":
            fields |= {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        inbound = parse_inbound(fields)
        if inbound is not None:
            await handle(request, inbound, opt_out)
        # The same answer whatever happened: the reply tells no caller who is a member.
        return PlainTextResponse("ok", status_code=200)

    return Route("/hooks/kavenegar/{secret}", receive, methods=["GET", "POST"])


async def handle(request: Request, inbound: Inbound, opt_out: OptOut) -> str:
    if not is_opt_out(inbound.text):
        log.info("a reply from %s to %s, not an opt-out", mask(inbound.from_phone), inbound.to_line)
        return "noted"
    outcome = await opt_out(request, inbound.from_phone)
    log.info("opt-out by reply from %s: %s", mask(inbound.from_phone), outcome)
    return "opted out"
