"""The staff console at ``/console``: thin handlers that check the session (``session.guard``),
read a form, call one use case and render a page.

Writes go through the API's use cases: money through ``ledger.charity.recording.record`` (the
same ``CharityPolicy`` rules and Idempotency-Key handling; the form's token is the key, so a
double click or a resubmitted form records once), access changes through
``ledger.charity.staff`` (logged). Every form that records an entry has two steps: the clerk
fills it in, the console shows it back as it will be recorded (the amount written out:
``Rp 250.000``) and says that entries can never be edited, only corrected; nothing is
recorded until the second step. A refused form comes back filled in, with a message per field.

Who may do what follows the API's roles (``ledger.http.api.contract``): recorders record money,
admins manage staff, keys and statements, auditors read everything and download receipts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from ledger.charity import documents, staff, statements
from ledger.charity.donors import email_lookup, phone_lookup
from ledger.charity.evidence import check as check_evidence
from ledger.charity.recording import check_key, record, request_hash
from ledger.charity.rules import Command
from ledger.errors import (
    ForbiddenError,
    IdempotencyMismatchError,
    InvalidInputError,
    LedgerError,
    LoginError,
    NotFoundError,
)
from ledger.formats import totp
from ledger.http.api.explain import explain
from ledger.http.api.writes import donation_command_parts
from ledger.http.console import forms, views
from ledger.http.console.session import (
    HEADERS,
    KEEP_OPT,
    KEEP_PREFIX,
    LOGIN_COOKIE,
    PUBLIC_OPT,
    ROLES_OPT,
    ROOT,
    SESSION_COOKIE,
    STATE_KEY,
    ConsoleController,
    Translator,
    checked_form,
    cookie,
    current,
    language,
    login_form_token,
    login_page,
    new_form_id,
    organization_of,
    posted,
    render,
)
from ledger.http.services import Services
from ledger.http.site.display import Money
from ledger.store import documents as donor_documents
from ledger.store.log import Organization
from schemas.charity import (
    Channel,
    CorrectionBody,
    DisbursementBody,
    DonationBody,
    DonationCreate,
    EvidenceBody,
    Purpose,
)
from schemas.entries import EntryBody
from schemas.statements import StatementRequest

ANYONE = {ROLES_OPT: ("admin", "recorder", "auditor")}
RECORDER = {ROLES_OPT: ("recorder",)}
"""As the API: only recorders record money (``contract.RECORDER``)."""
ADMIN = {ROLES_OPT: ("admin",)}
AUDITOR = {ROLES_OPT: ("auditor", "admin")}
CHANNELS: dict[str, str] = {
    "bank_transfer": "Bank transfer",
    "e_wallet": "E-wallet (GoPay, OVO, DANA, …)",
    "qris": "QRIS",
    "cash": "Cash",
    "card": "Card",
    "payment_gateway": "Payment gateway",
    "other": "Other",
}
"""The channels of ``schemas.charity.Channel``, in words (msgids of the catalog)."""
PURPOSES: dict[str, str] = {
    "food": "Food",
    "education": "Education",
    "health": "Health",
    "shelter": "Shelter",
    "clothing": "Clothing",
    "operations": "Operations",
    "other": "Other",
}
"""The purposes of ``schemas.charity.Purpose``, in words."""
assert set(CHANNELS) == set(Channel.__args__) and set(PURPOSES) == set(Purpose.__args__)  # type: ignore[attr-defined]


def _options(words: dict[str, str], t: Translator) -> list[tuple[str, str]]:
    return [(code, t(text)) for code, text in words.items()]


async def _names(services: Services, org: Organization) -> dict[str, str]:
    """Fund and beneficiary codes → names, to show an entry in words."""
    names = {f.code: f.name for f in await views.funds(services, org)}
    names.update({b.code: b.name for b in await views.beneficiaries(services, org)})
    return names


def _fund_options(funds: list[Any]) -> list[tuple[str, str]]:
    return [(f.code, f"{f.name} ({f.currency})") for f in funds]


def see_other(path: str) -> Redirect:
    return Redirect(path, status_code=303, headers=HEADERS)


def _safe_next(target: str | None) -> str:
    """Only a console path of this site (never ``//other.host``) is a place to go after login."""
    if target and target.startswith(ROOT) and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return ROOT


def refused(exc: LedgerError, request: Request, form_id: str) -> tuple[str, str]:
    """What the clerk reads when recording was refused, and the form's token from now on: a
    form whose token already recorded something else gets a new token (a clerk who went
    back after recording and changed a field is recording a second entry)."""
    t = Translator(language(request))
    if isinstance(exc, IdempotencyMismatchError):
        message = t(
            "this form already recorded an entry; check the new details and confirm again to "
            "record another"
        )
        return message, new_form_id()
    return t.error(exc), form_id


async def _record(
    services: Services,
    org: Organization,
    path: str,
    entry: EntryBody,
    request_doc: msgspec.Struct,
    form_id: str,
    **extra: Any,
) -> tuple[int, bool]:
    """Record one entry exactly as the API would, with the form's token as Idempotency-Key;
    return its index and whether it was already recorded (a resubmitted form)."""
    key = check_key(form_id)
    digest = request_hash("POST", path, msgspec.json.encode(request_doc))
    command = Command.of(entry, idem_key=key, request_hash=digest, **extra)
    reply = await record(services, org, command)
    return msgspec.json.decode(reply.body)["index"], reply.replayed


class ConsolePages(ConsoleController):
    """Every page of the console but the bank import (``imports``)."""

    # --- login, logout, password, second factor -------------------------------------------

    @get("/login", opt={PUBLIC_OPT: True})
    async def login_page(
        self,
        request: Request,
        next_: Annotated[str | None, QueryParameter(name="next")] = None,
        org: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        return login_page(request, {"org": org or "", "email": "", "next": next_ or ""}, None)

    @post("/login", opt={PUBLIC_OPT: True})
    async def login(self, request: Request, services: NamedDependency[Services]) -> Response[Any]:
        form = await request.form()
        values = {k: str(form.get(k, "") or "").strip() for k in ("org", "email", "next")}
        kept = {
            k.removeprefix(KEEP_PREFIX): str(v)
            for k, v in form.items()
            if k.startswith(KEEP_PREFIX) and isinstance(v, str)
        }
        t = Translator(language(request))
        secret = request.cookies.get(LOGIN_COOKIE, "")
        if not secret or form.get("csrf") != login_form_token(secret):
            message = t("the login form expired; please try again")
            return login_page(request, values, message, 403, kept)
        try:
            org = await services.organization(values["org"]) if values["org"] else None
        except NotFoundError:
            org = None
        address = request.client.host if request.client else "unknown"
        try:
            if org is None:
                raise InvalidInputError.of("no organization {slug} here", slug=values["org"])
            token, who = await staff.login(
                services.store,
                org,
                values["email"],
                str(form.get("password", "")),
                str(form.get("code", "")),
                address,
                services.kek,
            )
        except (LoginError, InvalidInputError) as exc:
            return login_page(request, values, t.error(exc), 401, kept)
        target = f"{ROOT}/password" if who.must_change else _safe_next(values["next"])
        response: Response[Any] = see_other(target)
        earlier = request.cookies.get(SESSION_COOKIE, "")
        if (
            kept
            and target in self.KEPT_FORMS
            and await staff.was_session_of(services.store, earlier, who)
        ):
            response = await self._resumed(request, services, org, who, token, target, kept)
        response.set_cookie(cookie(SESSION_COOKIE, token))  # a new token at every login
        response.delete_cookie(LOGIN_COOKIE, path=ROOT)
        return response

    KEPT_FORMS = (f"{ROOT}/donations", f"{ROOT}/disbursements", f"{ROOT}/corrections")
    """The forms whose input survives a session that ended (their routes' ``KEEP_OPT``)."""

    async def _resumed(
        self,
        request: Request,
        services: Services,
        org: Organization,
        who: staff.Staff,
        token: str,
        path: str,
        kept: dict[str, str],
    ) -> Response[Any]:
        """Right after login: the form the clerk sent when their session had ended, filled in
        with what they typed (same form id, so it still records once), with a new form token
        of the new session; nothing is recorded until they send it again."""
        request.scope.setdefault("state", {})[STATE_KEY] = (who, token)
        t = Translator(language(request))
        form_id = kept.get("form_id") or new_form_id()
        notice = t(
            "Your session had ended, so nothing was recorded. What you typed is below: check "
            "it and send it again."
        )
        if path == f"{ROOT}/donations":
            filled = forms.Filled(forms.typed(kept, forms.DONATION_FIELDS))
            show_name = bool(kept.get("show_name"))
            return await self._donation(
                request, services, org, filled, "edit", form_id, notice, show_name=show_name
            )
        if path == f"{ROOT}/disbursements":
            filled = forms.Filled(forms.typed(kept, forms.DISBURSEMENT_FIELDS))
            return await self._disbursement(request, services, org, filled, "edit", form_id, notice)
        filled = forms.Filled(forms.typed(kept, forms.CORRECTION_FIELDS))
        return await self._correction(request, services, org, filled, "edit", form_id, notice)

    @post("/logout", opt={**ANYONE, "password_page": True})
    async def logout(self, request: Request, services: NamedDependency[Services]) -> Response[Any]:
        await checked_form(request)
        _, token = current(request)
        await staff.logout(services.store, token)
        response = see_other(f"{ROOT}/login")
        response.delete_cookie(SESSION_COOKIE, path=ROOT)
        return response

    @get("/password", opt={**ANYONE, "password_page": True})
    async def password_page(self, request: Request) -> Response[Any]:
        return render(request, "console/password.html", error=None, done=False)

    @post("/password", opt={**ANYONE, "password_page": True})
    async def change_password(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        form = await checked_form(request)
        who, token = current(request)
        t = Translator(language(request))
        new = str(form.get("new", ""))
        try:
            if new != str(form.get("again", "")):
                raise InvalidInputError.of("the two new passwords are not the same")
            await staff.change_own_password(
                services.store, who, str(form.get("current", "")), new, token
            )
        except InvalidInputError as exc:
            return render(
                request, "console/password.html", status=422, error=t.error(exc), done=False
            )
        return see_other(ROOT + "?changed=1")

    @get("/security", opt=ANYONE)
    async def security_page(self, request: Request) -> Response[Any]:
        who, _ = current(request)
        secret = staff.new_totp_secret()
        return self._security(request, who, secret, None)

    def _security(
        self,
        request: Request,
        who: staff.Staff,
        secret: bytes,
        error: str | None,
        status: int = 200,
    ) -> Response[Any]:
        return render(
            request,
            "console/security.html",
            status=status,
            secret=totp.secret_text(secret),
            secret_raw=secret.hex(),
            uri=totp.provisioning_uri(secret, who.email, "Ledger"),
            error=error,
        )

    @post("/security", opt=ANYONE)
    async def enable_totp(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        form = await checked_form(request)
        who, _ = current(request)
        t = Translator(language(request))
        try:
            secret = bytes.fromhex(str(form.get("secret", "")))
        except ValueError:
            secret = b""
        if len(secret) != totp.SECRET_BYTES:
            return see_other(f"{ROOT}/security")
        org = await organization_of(services, who)
        try:
            await staff.enable_totp(
                services.store, org, who, services.kek, secret, str(form.get("code", ""))
            )
        except InvalidInputError as exc:
            return self._security(request, who, secret, t.error(exc), 422)
        return see_other(ROOT + "?totp=1")

    # --- dashboard ------------------------------------------------------------------------

    @get("/", opt=ANYONE)
    async def dashboard(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        view = await views.dashboard(services, org)
        return render(request, "console/dashboard.html", org=org, view=view, active="dashboard")

    # --- donations --------------------------------------------------------------------------

    @get("/donations", opt=RECORDER)
    async def donation_form(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        day = await views.today(services, org)
        values = dict.fromkeys(forms.DONATION_FIELDS, "")
        values.update(received_on=day.isoformat(), channel="bank_transfer")
        return await self._donation(
            request, services, org, forms.Filled(values), "edit", new_form_id()
        )

    async def _donation(
        self,
        request: Request,
        services: Services,
        org: Organization,
        filled: forms.Filled,
        step: str,
        form_id: str,
        problem: str | None = None,
        status: int = 200,
        show_name: bool = False,
    ) -> Response[Any]:
        funds = _fund_options(await views.funds(services, org))
        channels = _options(CHANNELS, Translator(language(request)))
        return _form_page(
            request, "donations", org, filled, step, form_id, problem, status,
            fund_options=funds,
            channel_options=channels,
            labels={**dict(funds), **dict(channels)},
            show_name=show_name,
        )  # fmt: skip

    @post("/donations", opt={**RECORDER, KEEP_OPT: (*forms.DONATION_FIELDS, "show_name")})
    async def donation(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        form, _, org, _ = await posted(request, services)
        funds = {f.code: f for f in await views.funds(services, org)}
        filled, document = forms.read_donation(form, funds)
        show_name = bool(form.get("show_name"))

        def entry(document: DonationCreate) -> tuple[DonationBody, dict[str, Any]]:
            body, private = donation_command_parts(document)  # as the API's route builds it
            return body, {"donor": private}

        show = partial(self._donation, request, services, org, show_name=show_name)
        return await _two_step(request, services, org, form, filled, document, show, entry)

    # --- disbursements ----------------------------------------------------------------------

    @get("/disbursements", opt=RECORDER)
    async def disbursement_form(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        day = await views.today(services, org)
        values = dict.fromkeys(forms.DISBURSEMENT_FIELDS, "")
        values.update(paid_on=day.isoformat())
        return await self._disbursement(
            request, services, org, forms.Filled(values), "edit", new_form_id()
        )

    async def _disbursement(
        self,
        request: Request,
        services: Services,
        org: Organization,
        filled: forms.Filled,
        step: str,
        form_id: str,
        problem: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        funds = _fund_options(await views.funds(services, org))
        beneficiaries = [
            (b.code, f"{b.name}, {b.city}") for b in await views.beneficiaries(services, org)
        ]
        purposes = _options(PURPOSES, Translator(language(request)))
        return _form_page(
            request, "disbursements", org, filled, step, form_id, problem, status,
            fund_options=funds,
            beneficiary_options=beneficiaries,
            purpose_options=purposes,
            labels={**dict(funds), **dict(beneficiaries), **dict(purposes)},
        )  # fmt: skip

    @post("/disbursements", opt={**RECORDER, KEEP_OPT: forms.DISBURSEMENT_FIELDS})
    async def disbursement(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        form, _, org, _ = await posted(request, services)
        funds = {f.code: f for f in await views.funds(services, org)}
        beneficiaries = {b.code: b for b in await views.beneficiaries(services, org)}
        filled, document = forms.read_disbursement(form, funds, beneficiaries)
        show = partial(self._disbursement, request, services, org)
        return await _two_step(
            request, services, org, form, filled, document, show,
            lambda d: (DisbursementBody(**msgspec.structs.asdict(d)), {}),
        )  # fmt: skip

    # --- an entry, and evidence for a disbursement -----------------------------------------

    @get("/entries/{index:int}", opt=ANYONE)
    async def entry(
        self,
        request: Request,
        services: NamedDependency[Services],
        index: FromPath[int],
        recorded: Annotated[int, QueryParameter()] = 0,
        attached: Annotated[int, QueryParameter()] = 0,
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        line = await views.money_entry(services, org, index)
        if line is None:
            raise NotFoundError.of(
                "entry {index} is not a donation, disbursement, transfer, fee or correction",
                index=index,
            )
        return render(
            request,
            "console/entry.html",
            org=org,
            line=line,
            labels=await _names(services, org),
            recorded=bool(recorded),
            attached=bool(attached),
            form_id=new_form_id(),
            error=None,
        )

    @post("/entries/{index:int}/evidence", opt=RECORDER)
    async def evidence(
        self, request: Request, services: NamedDependency[Services], index: FromPath[int]
    ) -> Response[Any]:
        form, _, org, t = await posted(request, services)
        upload = form.get("evidence")
        try:
            content = await upload.read() if hasattr(upload, "read") else b""
            if not content:
                raise InvalidInputError.of(
                    "choose a photo or a PDF of the receipt or transfer slip"
                )
            digest, content_type = check_evidence(content, services.settings.max_evidence_bytes)
            body = EvidenceBody(
                disbursement=index,
                sha256=digest.hex(),
                content_type=content_type,  # type: ignore[arg-type]
                size=len(content),
            )
            await _record(
                services,
                org,
                request.url.path,
                body,
                body,
                str(form.get("form_id", "")),
                evidence=content,
            )
        except LedgerError as exc:
            line = await views.money_entry(services, org, index)
            if line is None:
                raise
            return render(
                request,
                "console/entry.html",
                status=422,
                org=org,
                line=line,
                labels=await _names(services, org),
                recorded=False,
                attached=False,
                form_id=new_form_id(),
                error=t.error(exc),
            )
        return see_other(f"{ROOT}/entries/{index}?attached=1")

    # --- corrections ------------------------------------------------------------------------

    @get("/corrections", opt=RECORDER)
    async def correction_form(
        self,
        request: Request,
        services: NamedDependency[Services],
        entry: Annotated[int | None, QueryParameter(ge=0)] = None,
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        values = dict.fromkeys(forms.CORRECTION_FIELDS, "")
        if entry is not None:
            values["corrects"] = str(entry)
        return await self._correction(
            request, services, org, forms.Filled(values), "edit", new_form_id()
        )

    async def _correction(
        self,
        request: Request,
        services: Services,
        org: Organization,
        filled: forms.Filled,
        step: str,
        form_id: str,
        problem: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        target = None
        if filled.values.get("corrects", "").isdigit():
            target = await views.money_entry(services, org, int(filled.values["corrects"]))
        return _form_page(
            request, "corrections", org, filled, step, form_id, problem, status,
            target=target,
            recent=await views.correctable(services, org),
        )  # fmt: skip

    @post("/corrections", opt={**RECORDER, KEEP_OPT: forms.CORRECTION_FIELDS})
    async def correction(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        form, _, org, _ = await posted(request, services)
        filled, document = forms.read_correction(form)
        if (
            document is not None
            and await views.money_entry(services, org, document.corrects) is None
        ):
            filled.errors["corrects"] = InvalidInputError.of(
                "entry {index} is not a donation, disbursement, transfer or fee",
                index=document.corrects,
            )
            document = None
        show = partial(self._correction, request, services, org)
        return await _two_step(
            request, services, org, form, filled, document, show,
            lambda d: (CorrectionBody(**msgspec.structs.asdict(d)), {}),
        )  # fmt: skip

    # --- statements: issue one (admin), download any ---------------------------------------

    @get("/statements", opt=ANYONE)
    async def statements_page(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        day = await views.today(services, org)
        first = day.replace(day=1)
        previous = (first - dt.timedelta(days=1)).replace(day=1)
        values = {"from": previous.isoformat(), "to": first.isoformat(), "fund": ""}
        return await self._statements(request, services, org, values, "edit", new_form_id())

    async def _statements(
        self,
        request: Request,
        services: Services,
        org: Organization,
        values: dict[str, str],
        step: str,
        form_id: str,
        problem: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        listed = await statements.list_statements(services.store, org, 0, 1000)
        return render(
            request,
            "console/statements.html",
            status=status,
            active="statements",
            org=org,
            statements=list(reversed(listed)),
            fund_options=_fund_options(await views.funds(services, org)),
            values=values,
            step=step,
            form_id=form_id,
            problem=problem,
        )

    @post("/statements", opt=ADMIN)
    async def issue_statement(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        form, _, org, t = await posted(request, services)
        values = {k: str(form.get(k, "")).strip() for k in ("from", "to", "fund")}
        form_id = str(form.get("form_id", "")) or new_form_id()
        document = {"from": values["from"], "to": values["to"]}
        if values["fund"]:
            document["fund"] = values["fund"]
        try:
            wanted = msgspec.convert(document, StatementRequest, strict=False)
        except msgspec.ValidationError as exc:
            problem = t.error(explain(str(exc), StatementRequest))
            return await self._statements(
                request, services, org, values, "edit", form_id, problem, 422
            )
        step = str(form.get("step", "review"))
        if step != "confirm":
            return await self._statements(
                request, services, org, values, "edit" if step == "edit" else "review", form_id
            )
        digest = request_hash("POST", request.url.path, msgspec.json.encode(wanted))
        try:
            await statements.issue(services, org, wanted, check_key(form_id), digest)
        except LedgerError as exc:
            problem, form_id = refused(exc, request, form_id)
            return await self._statements(
                request, services, org, values, "edit", form_id, problem, 409
            )
        return see_other(f"{ROOT}/statements?issued=1")

    # --- receipts: find a donor's gifts, download their receipts (auditor, admin) -----------

    @get("/receipts", opt=AUDITOR)
    async def receipts_page(
        self,
        request: Request,
        services: NamedDependency[Services],
        donor: Annotated[str | None, QueryParameter(max_length=254)] = None,
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        found = None
        if donor:
            lookups = [x for x in (email_lookup(donor), phone_lookup(donor)) if x]
            async with services.store.connection() as conn:
                donations = await donor_documents.donations_of_donor(conn, org.id, lookups)
            exponents = {f.code: f.minor_units for f in await views.funds(services, org)}
            found = []
            for d in donations:
                body = msgspec.json.decode(d.body)["body"]
                money = Money(body["amount"], body["currency"], exponents.get(body["fund"], 0))
                found.append((d.index, body, money))
        return render(
            request,
            "console/receipts.html",
            active="receipts",
            org=org,
            donor=donor or "",
            found=found,
        )

    @get("/receipts/{index:int}/pdf", opt=AUDITOR)
    async def receipt_pdf(
        self, request: Request, services: NamedDependency[Services], index: FromPath[int]
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        lang = language(request)
        pdf = await documents.receipt_pdf(
            services.store, org, services.kek, index, lang, services.settings.public_url
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **HEADERS,
                "Content-Disposition": f'attachment; filename="receipt-{org.slug}-{index}-{lang}.pdf"',
            },
        )

    # --- administration: staff and API keys --------------------------------------------------

    @get("/staff", opt=ADMIN)
    async def staff_page(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        return await self._staff(request, services, None, None, {})

    async def _staff(
        self,
        request: Request,
        services: Services,
        notice: str | None,
        error: str | None,
        values: dict[str, str],
        status: int = 200,
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        return render(
            request,
            "console/staff.html",
            status=status,
            active="staff",
            org=org,
            accounts=await staff.list_staff(services.store, org),
            notice=notice,
            error=error,
            values={"email": "", "name": "", "role": "recorder", **values},
        )

    @post("/staff", opt=ADMIN)
    async def create_account(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        form, who, org, t = await posted(request, services)
        values = {k: str(form.get(k, "")).strip() for k in ("email", "name", "role")}
        password = staff.temporary_password()
        try:
            row = await staff.create_staff(
                services.store,
                org,
                values["email"],
                values["name"],
                values["role"],
                password,
                who,
                clock=services.clock,
            )
        except LedgerError as exc:
            return await self._staff(request, services, None, t.error(exc), values, 422)
        notice = t(
            "account {email} created; give them this temporary password, shown only now: {password}",
            email=row.email,
            password=password,
        )
        return await self._staff(request, services, notice, None, {})

    @post("/staff/{account:str}", opt=ADMIN)
    async def change_account(
        self, request: Request, services: NamedDependency[Services], account: FromPath[str]
    ) -> Response[Any]:
        form, who, org, t = await posted(request, services)
        try:
            staff_id = uuid.UUID(account)
        except ValueError as exc:
            raise NotFoundError.of(
                "no staff account {id} in this organization", id=account
            ) from exc
        action = str(form.get("action", ""))
        try:
            if action == "reset":
                password = await staff.reset_password(
                    services.store, org, staff_id, who, clock=services.clock
                )
                notice = t(
                    "new temporary password, shown only now: {password}; the account is unlocked "
                    "and its sessions ended",
                    password=password,
                )
            else:
                await staff.change_account(
                    services.store,
                    org,
                    staff_id,
                    action,
                    who,
                    role=str(form.get("role", "")) or None,
                    clock=services.clock,
                )
                notice = t("saved; the change is recorded in the log")
        except LedgerError as exc:
            return await self._staff(request, services, None, t.error(exc), {}, 422)
        return await self._staff(request, services, notice, None, {})

    @get("/keys", opt=ANYONE)
    async def keys_page(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        return await self._keys(request, services, None, None)

    async def _keys(
        self,
        request: Request,
        services: Services,
        created: str | None,
        error: str | None,
        status: int = 200,
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        keys = await staff.api_keys(services.store, org)
        return render(
            request,
            "console/keys.html",
            status=status,
            active="keys",
            org=org,
            keys=keys,
            created=created,
            error=error,
            roles=[r for r in staff.ROLES if staff.may_issue(who.role, r)],
            may_revoke={k.id for k in keys if who.role == "admin" or k.issued_by == who.id},
        )

    @post("/keys", opt=ANYONE)
    async def issue_key(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        form, who, org, t = await posted(request, services)
        try:
            _, text = await staff.issue_api_key(
                services.store,
                org,
                str(form.get("role", "")),
                str(form.get("label", "")).strip(),
                who,
                clock=services.clock,
            )
        except LedgerError as exc:
            return await self._keys(
                request,
                services,
                None,
                t.error(exc),
                403 if isinstance(exc, ForbiddenError) else 422,
            )
        return await self._keys(request, services, text, None)

    @post("/keys/{key:str}/revoke", opt=ANYONE)
    async def revoke_key(
        self, request: Request, services: NamedDependency[Services], key: FromPath[str]
    ) -> Response[Any]:
        await checked_form(request)
        who, _ = current(request)
        org = await organization_of(services, who)
        try:
            key_id = uuid.UUID(key)
        except ValueError as exc:
            raise NotFoundError.of("no active API key {id} that you may revoke", id=key) from exc
        await staff.revoke_api_key(services.store, org, key_id, who, clock=services.clock)
        services.keys.forget()
        return see_other(f"{ROOT}/keys")


def _form_page(
    request: Request,
    page: str,
    org: Organization,
    filled: forms.Filled,
    step: str,
    form_id: str,
    problem: str | None,
    status: int,
    **context: Any,
) -> Response[Any]:
    """A recording form's screen (``console/<page>.html`` without its plural ``s``: the
    donation, disbursement or correction form) at ``step`` (edit or review), with what every
    such screen shows: the clerk's input, a message per refused field in their language, the
    form id and the ledger's refusal (``problem``)."""
    t = Translator(language(request))
    return render(
        request,
        f"console/{page.removesuffix('s')}.html",
        status=status,
        active=page,
        org=org,
        filled=filled,
        errors={k: t.error(v) for k, v in filled.errors.items()},
        step=step,
        form_id=form_id,
        problem=problem,
        **context,
    )


async def _two_step(
    request: Request,
    services: Services,
    org: Organization,
    form: Any,
    filled: forms.Filled,
    document: Any,
    show: Callable[..., Awaitable[Response[Any]]],
    entry: Callable[[Any], tuple[Any, dict[str, Any]]],
) -> Response[Any]:
    """The flow every recording form shares: back to the form when it is refused (422) or
    asked for, the review step, then on confirmation the entry (``entry`` gives its body and
    what ``_record`` also takes) recorded once per form id; a refusal by the ledger returns to
    the form with its problem (409). ``show(filled, step, form_id, problem, status)`` draws
    the form's screen."""
    form_id = str(form.get("form_id", "")) or new_form_id()
    step = str(form.get("step", "review"))
    if document is None or step == "edit":
        return await show(filled, "edit", form_id, status=422 if document is None else 200)
    if step != "confirm":
        return await show(filled, "review", form_id)
    body, extra = entry(document)
    try:
        index, _ = await _record(services, org, request.url.path, body, document, form_id, **extra)
    except LedgerError as exc:
        problem, form_id = refused(exc, request, form_id)
        return await show(filled, "edit", form_id, problem, 409)
    return see_other(f"{ROOT}/entries/{index}?recorded=1")
