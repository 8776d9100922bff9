"""The pages where people sign in before the hub issues an authorization code.

Staff and mall management sign in with a password; shoppers with their phone and a code
sent by SMS. PKCE (S256) is required before any page is shown: a client that skips it is
refused at ``/oauth/authorize``, not only later at ``/oauth/token``. Every form carries a
CSRF token (``csrf``), checked before anything else is done with a POST; the limits on
codes and passwords (``hub.services.abuse``) count the real client address
(``mallnet.client_address``: forwarded headers only from trusted proxies).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from hub.domain.problems import ProblemCode
from hub.services import abuse, people
from hub.services.hub_messages import hub_sender
from hub.web import csrf, devices
from hub.web.oauth import HubAuthorizationServer, HubClient, StarletteOAuthRequest
from mallnet.client_address import client_address
from mallnet.db import utcnow
from mallnet.secrets_store import network_key

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
# A shopper refused with one of these asks for a new code: the page shows the phone again.
CODE_NOT_SENT = frozenset(
    {ProblemCode.CODE_EXPIRED, ProblemCode.TOO_MANY_ATTEMPTS, ProblemCode.INVALID_PHONE}
)
FORGED = (
    "این فرم منقضی شده یا از جای دیگری فرستاده شده است؛ دوباره وارد شوید.\n"
    "This form expired or was sent from another site; please sign in again."
)


async def _form(request: Request) -> dict[str, str]:
    if request.method == "POST":
        return {k: str(v) for k, v in (await request.form()).items()}
    return {}


def _params(data: dict[str, str]) -> dict[str, str]:
    return {k: data[k] for k in AUTHORIZE_PARAMS if data.get(k)}


async def _validate(
    request: Request, form: dict[str, str]
) -> tuple[StarletteOAuthRequest, HubClient, Any]:
    server: HubAuthorizationServer = request.app.state.oauth
    oauth_request = StarletteOAuthRequest(request, form)
    grant = await run_in_threadpool(server.get_consent_grant, oauth_request)
    data = oauth_request.payload.data
    if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
        raise OAuth2Error(
            description="PKCE is required: send code_challenge with code_challenge_method=S256",
            status_code=400,
        )
    client: HubClient = grant.client
    return oauth_request, client, grant


def _form_name(client: HubClient, code_sent: bool) -> csrf.Form:
    if client.kind != "shopper_app":
        return "password"
    return "code" if code_sent else "send-code"


def _page(
    request: Request, client: HubClient, params: dict[str, str], status: int = 200, **extra: Any
) -> Response:
    context = {
        "client_name": "اپ مشتریان" if client.kind == "shopper_app" else "پنل مال‌نت",
        "mode": "shopper" if client.kind == "shopper_app" else "staff",
        "params": params,
        "error": None,
        "code_sent": False,
        "phone": "",
        **extra,
    }
    guard = csrf.csrf_of(request.app.state, request.app.state.settings)
    browser, token = guard.issue(request, _form_name(client, context["code_sent"]), params)
    context["csrf_field"], context["csrf_token"] = csrf.FIELD, token
    response = templates.TemplateResponse(request, "signin.html", context, status_code=status)
    guard.set_cookie(response, browser)
    response.headers["Cache-Control"] = "no-store"
    # Never inside another site's frame: a hidden sign-in form invites clickjacking.
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _forged(
    request: Request,
    client: HubClient,
    params: dict[str, str],
    form: dict[str, str],
    name: csrf.Form,
) -> Response | None:
    """The page again (403, a fresh token) when the POST's CSRF token is missing or wrong."""
    guard = csrf.csrf_of(request.app.state, request.app.state.settings)
    if guard.valid(request, name, params, form.get(csrf.FIELD, "")):
        return None
    phone = form.get("phone", "") if name == "code" else ""
    return _page(request, client, params, 403, error=FORGED, phone=phone, code_sent=name == "code")


def _limited(response: Response, exc: people.SignInError) -> Response:
    if exc.retry_after_s:
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _error_page(exc: OAuth2Error) -> Response:
    text = f"{exc.error}: {exc.description or ''}"
    return HTMLResponse(
        f"<!doctype html><title>mallnet</title><p>{html.escape(text)}</p>", status_code=400
    )


async def authorize(request: Request) -> Response:
    form = await _form(request)
    try:
        oauth_request, client, grant = await _validate(request, form)
    except OAuth2Error as exc:
        return _error_page(exc)
    params = _params({**dict(request.query_params), **form})
    if request.method == "GET":
        return _page(request, client, params)
    if forged := _forged(request, client, params, form, _form_name(client, code_sent=True)):
        return forged
    try:
        person = await _sign_in(request, client, form)
    except people.SignInError as exc:
        if exc.code is ProblemCode.RATE_LIMITED:
            return _limited(_page(request, client, params, 429, error=exc.message), exc)
        return _page(
            request,
            client,
            params,
            400,
            error=exc.message,
            phone=form.get("phone", ""),
            code_sent=exc.code not in CODE_NOT_SENT,
        )
    if person is None and client.kind != "shopper_app":
        return _page(request, client, params, 400, error="نام کاربری یا گذرواژه نادرست است")
    if person is None:
        return _page(
            request,
            client,
            params,
            400,
            error="کد نادرست است",
            phone=form.get("phone", ""),
            code_sent=True,
        )
    scope = _scope_for(client, person, oauth_request.payload.scope)
    if not scope:
        return _page(request, client, params, 403, error="این حساب به این برنامه دسترسی ندارد")
    oauth_request.payload.data["scope"] = scope
    server: HubAuthorizationServer = request.app.state.oauth
    status, body, headers = await run_in_threadpool(
        server.create_authorization_response, oauth_request, person, grant
    )
    location = dict(headers).get("Location")
    if status != 302 or not location:
        return HTMLResponse(str(body), status_code=status)
    redirect = RedirectResponse(location, status_code=302)
    if client.kind != "shopper_app":  # the right password: this browser is now known
        name, devices = _username(form), _devices(request)
        devices.remember(redirect, name, devices.device_of(request, name, utcnow()), utcnow())
    return redirect


async def _sign_in(
    request: Request, client: HubClient, form: dict[str, str]
) -> people.Person | None:
    """The person the posted form signs in (None: a wrong code or password), or
    ``SignInError``."""
    settings = request.app.state.settings
    limits = abuse.Limits.of(request.app.state)
    async with request.app.state.sessions() as session, session.begin():
        if client.kind == "shopper_app":
            return await people.sign_in_shopper(
                session,
                network_key(settings),
                form.get("phone", ""),
                form.get("code", ""),
                limits=limits,
                ip=_ip(request),
                asker=_asker(request),
            )
        return await people.sign_in_user(
            session,
            form.get("username", ""),
            form.get("password", ""),
            _ip(request),
            limits=limits,
            device=_devices(request).device_of(request, _username(form), utcnow()),
        )


def _scope_for(client: HubClient, person: people.Person, requested: str | None) -> str:
    """What the token may carry: asked for (or all), within the client's and the person's."""
    allowed = client.allowed_scopes & person.scopes
    wanted = set(requested.split()) if requested else allowed
    return " ".join(sorted(wanted)) if wanted <= allowed else ""


async def send_code(request: Request) -> Response:
    form = await _form(request)
    try:
        _oauth_request, client, _grant = await _validate(request, form)
    except OAuth2Error as exc:
        return _error_page(exc)
    params = _params(form)
    if forged := _forged(request, client, params, form, "send-code"):
        return forged
    # Logged after the code's own transaction: on SQLite it holds the only write lock.
    sender = hub_sender(request.app.state.settings, request.app.state.sessions, deferred=True)
    limits = abuse.Limits.of(request.app.state)
    try:
        async with request.app.state.sessions() as session, session.begin():
            phone = await people.send_code(
                session,
                sender,
                form.get("phone", ""),
                _ip(request),
                limits=limits,
                asker=_asker(request),
            )
    except people.SignInError as exc:
        await sender.record()
        status = {ProblemCode.RATE_LIMITED: 429, ProblemCode.SMS_NOT_SENT: 503}.get(exc.code, 400)
        response = _page(
            request, client, params, status, error=exc.message, phone=form.get("phone", "")
        )
        return _limited(response, exc)
    await sender.record()
    return _page(request, client, params, phone=phone, code_sent=True)


def _ip(request: Request) -> str:
    """The real client address (forwarded headers believed only from trusted proxies)."""
    return client_address(request, request.app.state.settings.trusted_proxies)


def _username(form: dict[str, str]) -> str:
    return people.normal_username(form.get("username", ""))


def _devices(request: Request) -> devices.KnownDevices:
    return devices.known_devices(request.app.state, request.app.state.settings)


def _asker(request: Request) -> str | None:
    """Which browser this is, for the tries at a sign-in code (its CSRF cookie's id)."""
    return csrf.csrf_of(request.app.state, request.app.state.settings).asker(request)
