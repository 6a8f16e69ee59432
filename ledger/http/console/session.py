"""The console's HTTP side of sessions: the cookie, the guard on every route, form tokens
(CSRF), the language, and rendering a page.

Cookies (``Secure``, ``HttpOnly``, ``SameSite=Strict``, ``Path=/console``): ``SESSION_COOKIE``
holds the session token (``ledger.charity.staff``: only its hash is stored), ``LOGIN_COOKIE`` a
random value the login form's token is made from (so a page of another site cannot log a
browser into the attacker's account). Every POST must carry the form token of its session in
the ``csrf`` field (``checked_form``) and, when the browser sends one, an ``Origin`` of this
site. Browsers treat ``http://127.0.0.1`` and ``http://localhost`` as secure, so ``make run``
works; anywhere else, serve the console over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Controller, Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Response, Template

from ledger import messages
from ledger.charity import staff
from ledger.charity.staff import Staff
from ledger.errors import ForbiddenError, LedgerError, NotFoundError
from ledger.http.problems import message_of
from ledger.http.services import Services
from ledger.http.site.pages import SECURITY_HEADERS
from ledger.store.log import Organization

ROOT = "/console"
ASSETS = "/console-assets"
"""The console's own stylesheet (the site's ``/site-assets/site.css`` is loaded first)."""
SESSION_COOKIE = "ledger_console"
LOGIN_COOKIE = "ledger_console_login"
LANG_COOKIE = "ledger_console_lang"
LANGS: tuple[messages.Language, ...] = ("id", "en")
DEFAULT_LANG: messages.Language = "id"
"""Bahasa Indonesia first; English on request (``?lang=en``, remembered in a cookie)."""
HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
"""The site's Content-Security-Policy (no other host, no inline script), and nothing cached:
a console page holds data of the organization that a shared computer must not keep."""
ROLES_OPT = "console_roles"
"""``opt`` key of a console route: the roles that may use it (absent: public, e.g. login)."""
PUBLIC_OPT = "console_public"
"""``opt`` key: True for routes that need no session (login)."""
STATE_KEY = "console"
"""Where the guard leaves ``(staff, token)`` in the request's state."""


KEEP_OPT = "console_keep"
"""``opt`` key of a POST route whose form survives a session that ended: the names of the
fields to keep (see ``guard`` and ``to_login``)."""
KEEP_PREFIX = "keep:"
"""Hidden fields of the login page that carry a kept form (``keep:amount``, ...)."""


class NotLoggedIn(LedgerError):
    """No valid session: the console answers with the login page (a redirect), or, for a
    form sent from a session that just ended, the login page carrying that form."""

    kept: dict[str, str] | None = None
    """The fields of the form that was sent (``KEEP_OPT``), when it came from a console page
    of the session that ended (its CSRF token says so)."""


class MustChangePassword(LedgerError):
    """The password was set by someone else: the console sends its owner to change it."""


def cookie(name: str, value: str, *, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=name,
        value=value,
        path=ROOT,
        secure=True,
        httponly=True,
        samesite="strict",
        max_age=max_age,
    )


def language(request: Request) -> messages.Language:
    """``?lang=`` if given, else the remembered choice, else Indonesian."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGS:
            return value  # type: ignore[return-value]
    return DEFAULT_LANG


def current(request: Request) -> tuple[Staff, str]:
    """Who is logged in and their session token (set by ``guard``)."""
    return request.scope["state"][STATE_KEY]  # type: ignore[no-any-return]


def _same_origin(connection: ASGIConnection) -> bool:
    origin = connection.headers.get("origin")
    if origin is None:  # an older browser: the form token alone decides
        return True
    host = connection.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every console route: a same-origin POST, a valid session (unless the route is
    public), a role among the route's, and a changed password before anything else."""
    if connection.scope["method"] == "POST" and not _same_origin(connection):
        raise ForbiddenError.of("this form was sent from another site; open the console again")
    if handler.opt.get(PUBLIC_OPT):
        return
    services = connection.app.state.services
    token = connection.cookies.get(SESSION_COOKIE, "")
    found = await staff.session(services.store, token)
    if found is None:
        refused = NotLoggedIn("log in first")
        keep = handler.opt.get(KEEP_OPT)
        if keep and token and connection.scope["method"] == "POST":
            refused.kept = await _kept(connection, token, keep)
        raise refused
    who, _ = found
    roles = handler.opt.get(ROLES_OPT, ())
    if who.role not in roles:
        raise ForbiddenError.of(
            "this page is for the role {needed}; your role is {role}",
            needed=" / ".join(roles),
            role=who.role,
        )
    if who.must_change and not handler.opt.get("password_page"):
        raise MustChangePassword("change your password first")
    connection.scope.setdefault("state", {})[STATE_KEY] = (who, token)


async def _kept(
    connection: ASGIConnection, token: str, names: tuple[str, ...]
) -> dict[str, str] | None:
    """The fields ``names`` (and the form's ``form_id``) of a form sent from a console page of
    the session ``token`` (its CSRF token proves it); None for any other form. The session
    has ended, so nothing else of the request is used."""
    form = await Request(connection.scope, connection.receive).form()
    if not staff.form_token_ok(token, form.get("csrf")):
        return None
    return {name: str(form.get(name, "") or "") for name in (*names, "form_id")}


async def checked_form(request: Request) -> dict[str, Any]:
    """The POSTed form, after checking its ``csrf`` field against the session's form token
    (``ledger.charity.staff.form_token``). Files stay ``UploadFile`` objects."""
    form = await request.form()
    _, token = current(request)
    if not staff.form_token_ok(token, form.get("csrf")):
        raise ForbiddenError.of(
            "this form has expired or was not sent by the console; open it again"
        )
    return dict(form.items())


def login_form_token(secret: str) -> str:
    return hmac.new(secret.encode(), b"ledger console login v1", hashlib.sha256).hexdigest()


def new_form_id() -> str:
    """A form's Idempotency-Key: a double click or a resubmission records once."""
    return "console-" + secrets.token_urlsafe(18)


class Translator:
    """``_("English text {field}", field=...)`` in the page's language (gettext catalog
    ``ledger/locale/id/LC_MESSAGES/messages.po``; English is the msgid itself)."""

    def __init__(self, lang: messages.Language) -> None:
        self.lang = lang

    def __call__(self, text: str, **params: Any) -> str:
        if not params:
            return messages.translate(text, self.lang)
        return messages.render(text, params, self.lang)

    def error(self, exc: LedgerError) -> str:
        return message_of(exc, self.lang)


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """A console page: ``template`` with ``context``, the person, the form token, the
    language switch and the console's headers."""
    lang = language(request)
    who_token = request.scope.get("state", {}).get(STATE_KEY)
    who, token = who_token if who_token else (None, None)
    path = request.url.path
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    switch = []
    for code in LANGS:
        pairs = "&".join(f"{quote(k)}={quote(v)}" for k, v in {**query, "lang": code}.items())
        switch.append((code, messages_name(code), f"{path}?{pairs}"))
    base = {
        "_": Translator(lang),
        "lang": lang,
        "who": who,
        "csrf": staff.form_token(token) if token else "",
        "assets": ASSETS,
        "site_assets": "/site-assets",
        "switch": switch,
        "path": path,
    }
    remember = [Cookie(key=LANG_COOKIE, value=lang, path=ROOT, samesite="strict", secure=True)]
    if request.query_params.get("lang") not in LANGS:
        remember = []
    return Template(
        template,
        context={**base, **context},
        status_code=status,
        media_type="text/html",
        headers={"Content-Language": lang, **HEADERS},
        cookies=[*(cookies or []), *remember],
    )


def messages_name(code: str) -> str:
    return {"id": "Bahasa Indonesia", "en": "English"}[code]


def login_page(
    request: Request,
    values: dict[str, str],
    error: str | None,
    status: int = 200,
    kept: dict[str, str] | None = None,
) -> Template:
    """The login page, with a fresh login form token (and its cookie); ``kept``: a form sent
    when the session had ended, carried in hidden fields to come back after login."""
    secret = secrets.token_urlsafe(32)
    return render(
        request,
        "console/login.html",
        status=status,
        values=values,
        error=error,
        kept={f"{KEEP_PREFIX}{k}": v for k, v in (kept or {}).items()},
        login_token=login_form_token(secret),
        cookies=[cookie(LOGIN_COOKIE, secret)],
    )


def to_login(request: Request, exc: NotLoggedIn) -> Response[Any]:
    """Not logged in: to the login page, then back to the page asked for. A form sent from a
    session that ended (``NotLoggedIn.kept``) is not lost: the login page is shown at once,
    carrying the form's fields in hidden inputs (in the page only: never in a cookie or an
    address), and after login the clerk lands on the form with their input filled in."""
    if exc.kept is not None:
        t = Translator(language(request))
        values = {"org": "", "email": "", "next": request.url.path}
        message = t(
            "Your session ended, so nothing was recorded. Log in again: what you typed comes "
            "back on the form."
        )
        return login_page(request, values, message, 401, exc.kept)
    target = request.url.path
    if request.method != "GET":
        target = ROOT
    return Redirect(f"{ROOT}/login?next={quote(target)}", status_code=303, headers=HEADERS)


def to_password(request: Request, exc: MustChangePassword) -> Redirect:
    return Redirect(f"{ROOT}/password", status_code=303, headers=HEADERS)


def forbidden(request: Request, exc: ForbiddenError) -> Template:
    return render(
        request,
        "console/refused.html",
        status=403,
        message=Translator(language(request)).error(exc),
    )


def not_found(request: Request, exc: LedgerError) -> Template:
    return render(
        request,
        "console/refused.html",
        status=404,
        message=Translator(language(request)).error(exc),
    )


async def organization_of(services: Services, who: Staff) -> Organization:
    """The person's organization (organizations never change: cached by ``Services``)."""
    org = await services.organization(who.org_slug)
    assert org.id == who.org_id
    return org


async def posted(
    request: Request, services: Services
) -> tuple[dict[str, Any], Staff, Organization, Translator]:
    """What every form handler of the console starts with: the POSTed form checked against
    the session (``checked_form``), who sent it, their organization, and their language."""
    form = await checked_form(request)
    who, _ = current(request)
    return form, who, await organization_of(services, who), Translator(language(request))


class ConsoleController(Controller):
    """Base of the console's controllers: every route under ``/console`` behind ``guard``,
    and its refusals as pages (the login page, the password page, 403, 404)."""

    path = ROOT
    include_in_schema = False
    guards = [guard]
    exception_handlers = {
        NotLoggedIn: to_login,
        MustChangePassword: to_password,
        ForbiddenError: forbidden,
        NotFoundError: not_found,
    }
