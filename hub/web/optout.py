"""The page an opt-out link opens: ``/o/{shop}/{token}`` (``hub.services.optout_links``).

GET only shows the shop's name and one button; the POST the button sends, with the page's
CSRF token, is what acts. Link previews, mail and SMS scanners and prefetching browsers
fetch the URL, and must not opt anyone out by doing so; another site cannot post the
button for her either (the token is bound to her browser's cookie and this link).

The page never depends on the token: a link that matches nobody shows the same page, and
its POST the same answer, as a member's own. Only a shop the network does not know is a
404 (the shops are public, in the mall's directory; showing any slug as a shop's name
would let anyone make a page that looks like the mall's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from hub.services import optout_links
from hub.web import csrf
from mallnet.db import read_session_factory
from mallnet.messaging.optout_link import PATH
from mallnet.secrets_store import network_key

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_FORM: csrf.Form = "opt-out"


def _page(
    request: Request, shop: optout_links.ShopNames | None, state: str, status: int = 200
) -> Response:
    """``state``: ask (the button), done, forged (the button again, with a fresh token),
    unknown (no such shop)."""
    guard = csrf.csrf_of(request.app.state, request.app.state.settings)
    params = dict(request.path_params)
    browser, token = guard.issue(request, _FORM, params)
    context: dict[str, Any] = {
        "shop": shop,
        "state": state,
        "action": request.url.path,
        "csrf_field": csrf.FIELD,
        "csrf_token": token,
    }
    response = templates.TemplateResponse(request, "optout.html", context, status_code=status)
    if state in ("ask", "forged"):
        guard.set_cookie(response, browser)
    response.headers["Cache-Control"] = "no-store"
    # The token is in the address: no other site hears of it, nor frames the button.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


async def opt_out_page(request: Request) -> Response:
    shop, token = request.path_params["shop"], request.path_params["token"]
    settings = request.app.state.settings
    # Showing the page writes nothing: on SQLite it never waits for the write lock.
    async with read_session_factory(request.app.state.engine)() as session:
        names = await optout_links.shop_names(session, shop)
    if names is None:
        return _page(request, None, "unknown", 404)
    if request.method != "POST":  # GET, and HEAD (a link checker's)
        return _page(request, names, "ask")
    form = {k: str(v) for k, v in (await request.form()).items()}
    guard = csrf.csrf_of(request.app.state, settings)
    if not guard.valid(request, _FORM, dict(request.path_params), form.get(csrf.FIELD, "")):
        return _page(request, names, "forged", 403)
    async with request.app.state.sessions() as session, session.begin():
        await optout_links.opt_out(session, network_key(settings), shop, token)
    return _page(request, names, "done")


routes = [Route(PATH, opt_out_page, methods=["GET", "POST"])]
