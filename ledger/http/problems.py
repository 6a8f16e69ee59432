"""HTTP error mapping, in one place: every error becomes RFC 9457 ``application/problem+json``.

Handlers contain no try/except. Domain errors map to statuses through ``STATUS``; Litestar's
own HTTP errors (404, 405, 413, 415, 400 validation) keep their status with the specific
message in ``detail`` (RFC 9457), not only in ``title``; anything unexpected is a 500 whose
body says nothing internal. A database outage is a 503 with ``Retry-After``.

Language: titles, and the details of errors raised with ``LedgerError.of``, are given in
Bahasa Indonesia when ``Accept-Language`` prefers it and in English otherwise, through the
gettext catalog of ``ledger.messages``; the answer says which in ``Content-Language``.

Each domain refusal has its own problem ``type`` (``TYPES``: ``/problems/overdraft``, ...), so
a client can branch on it without parsing ``detail``; ``responses`` turns a route's possible
errors into its documented OpenAPI error responses, from the same tables.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from ledger import errors
from ledger.messages import DEFAULT_LANGUAGE, Language, language_of, render, translate
from schemas.problems import ProblemDocument

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "5"

STATUS: dict[type[errors.LedgerError], tuple[int, str]] = {
    errors.InvalidInputError: (400, "Bad request"),
    errors.UnauthorizedError: (401, "Unauthorized"),
    errors.ForbiddenError: (403, "Forbidden"),
    errors.NotFoundError: (404, "Not found"),
    errors.GoneError: (410, "Gone"),
    errors.PayloadTooLargeError: (413, "Request body too large"),
    errors.UnsupportedMediaError: (415, "Unsupported media type"),
    errors.RuleError: (422, "Ledger rule violated"),
    errors.IdempotencyMismatchError: (422, "Idempotency-Key reused with a different request"),
    errors.ConflictError: (409, "Conflict"),
    errors.CanonicalError: (422, "Unprocessable entry"),
    errors.UnusableInputError: (400, "Bad request"),
    errors.MalformedError: (422, "Malformed document"),
    errors.VerificationError: (422, "Verification failed"),
    errors.DatabaseUnavailableError: (503, "Service unavailable"),
    errors.SchemaVersionError: (503, "Service unavailable"),
    errors.ConfigurationError: (503, "Service unavailable"),
}

TYPE_PREFIX = "/problems/"
"""Problem type URIs are relative (RFC 9457 3.1.1): ``/problems/<name>`` on the API's host,
where ``GET`` describes the problem (``ledger.http.app``)."""

TYPES: dict[type[Exception], tuple[str, str]] = {
    # domain refusals (422 rule, 409 conflict)
    errors.UnknownFundError: ("unknown-fund", "The fund named in the request does not exist."),
    errors.UnknownBeneficiaryError: (
        "unknown-beneficiary",
        "The beneficiary named in the request does not exist.",
    ),
    errors.CurrencyMismatchError: (
        "currency-mismatch",
        "The amount's currency is not the currency of the fund.",
    ),
    errors.EarmarkError: (
        "earmark",
        "The disbursement breaks the fund's earmark (beneficiary or purpose).",
    ),
    errors.NotCorrectableError: (
        "not-correctable",
        "The entry named is not of a kind that can be corrected (or given evidence).",
    ),
    errors.IdempotencyKeyError: (
        "idempotency-key-missing",
        "A write without an Idempotency-Key header, or with one that is too long.",
    ),
    errors.IdempotencyMismatchError: (
        "idempotency-mismatch",
        "The Idempotency-Key was used before for a different request.",
    ),
    errors.IdempotencyInFlightError: (
        "idempotency-in-flight",
        "A request with the same Idempotency-Key is being recorded; retry to get its answer.",
    ),
    errors.OverdraftError: ("overdraft", "The entry would take a fund's balance below zero."),
    errors.FeeCapError: ("fee-cap", "The fee would take the fund's fees above its overhead cap."),
    errors.AmilCapError: (
        "amil-cap",
        "The transfer would take the amil share of zakat above the organization's cap.",
    ),
    errors.PermitLapsedError: (
        "permit-lapsed",
        "The fund's fundraising permit (PUB) does not cover the donation's value date.",
    ),
    errors.ClassificationError: (
        "classification",
        "The fund's classification or permit contradicts the fund or itself.",
    ),
    errors.NotDeductibleError: (
        "not-deductible",
        "The donation's fund had no tax category when it was recorded: no tax receipt.",
    ),
    errors.TaxIdentityMissingError: (
        "tax-identity-missing",
        "A tax receipt or report lacks the organization's NPWP or the donor's NPWP/NIK and "
        "full name.",
    ),
    errors.DonationReversedError: (
        "donation-reversed",
        "The donation was reversed: it gets no tax receipt.",
    ),
    errors.EvidenceLinkError: (
        "evidence-link",
        "The public copy is not linked to evidence attached to that disbursement, or is a "
        "private original itself.",
    ),
    errors.NotPublishedError: (
        "not-published",
        "The entry to withdraw is not a published copy of evidence.",
    ),
    errors.AlreadyWithdrawnError: (
        "already-withdrawn",
        "The published copy of evidence was withdrawn already.",
    ),
    errors.GoneError: (
        "withdrawn",
        "The public copy of evidence was withdrawn; the log keeps both entries.",
    ),
    errors.DuplicateReferenceError: (
        "duplicate-reference",
        "A donation with the same payment reference is already recorded.",
    ),
    errors.AlreadyExistsError: (
        "already-exists",
        "A fund, beneficiary or organization with that code already exists.",
    ),
    errors.AlreadyCorrectedError: (
        "reversed-twice",
        "The entry was corrected already; an entry is reversed at most once.",
    ),
    errors.AlreadyAcknowledgedError: (
        "already-acknowledged",
        "The recipient acknowledged or disputed this disbursement already; that is final.",
    ),
    errors.EnrolmentLinkUsedError: (
        "enrolment-link-used",
        "The one-time enrolment link recorded a key already; ask the charity for a new link.",
    ),
    errors.NotEnrolledError: (
        "not-enrolled",
        "The beneficiary has no key, or signed with a key that was replaced.",
    ),
    errors.RecipientSignatureError: (
        "recipient-signature",
        "The recipient's signature does not verify over the acknowledgment message.",
    ),
    errors.UnroutedPaymentError: (
        "unrouted-payment",
        "No fund rule of the gateway connection matches the payment.",
    ),
    errors.RuleError: ("rule-violated", "The request breaks another ledger rule (see detail)."),
    errors.ConflictError: ("conflict", "The request conflicts with the current state."),
    # requests
    errors.InvalidInputError: ("invalid-input", "The request does not match its schema."),
    errors.GatewaySignatureError: (
        "gateway-signature",
        "The gateway notification's signature or callback token does not match.",
    ),
    errors.UnauthorizedError: ("unauthorized", "No API key, or an unknown or revoked one."),
    errors.ForbiddenError: ("forbidden", "The API key may not do this (role, organization)."),
    errors.GatewayNotConnectedError: (
        "gateway-not-connected",
        "The organization has not connected that payment gateway.",
    ),
    errors.NotFoundError: ("not-found", "The organization or the thing asked for is not there."),
    errors.PayloadTooLargeError: ("payload-too-large", "The body or file is too large."),
    errors.UnsupportedMediaError: ("unsupported-media-type", "The file or body type is refused."),
    errors.CanonicalError: ("not-canonical", "A value cannot be encoded canonically."),
    errors.MalformedError: ("malformed", "A note, key, proof or receipt is not well formed."),
    errors.VerificationError: ("verification-failed", "A proof or signature does not verify."),
    errors.DatabaseUnavailableError: ("unavailable", "The database is unreachable; retry later."),
    errors.SchemaVersionError: ("unavailable", "The database is unreachable; retry later."),
}
"""The problem type of each error class (the nearest class in the MRO wins)."""

HTTP_TYPES: dict[int, tuple[str, str]] = {
    400: TYPES[errors.InvalidInputError],
    404: TYPES[errors.NotFoundError],
    413: TYPES[errors.PayloadTooLargeError],
    415: TYPES[errors.UnsupportedMediaError],
    429: ("rate-limited", "The API key's request budget is spent; see Retry-After."),
    503: TYPES[errors.DatabaseUnavailableError],
}
"""Problem types of the framework's own HTTP errors, by status (others: ``about:blank``)."""

HTTP_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request body too large",
    415: "Unsupported media type",
    431: "Request header fields too large",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 answer, before it is a Litestar response (the donation fast path sends it
    as raw ASGI messages)."""

    status: int
    """HTTP status."""
    body: bytes
    """``application/problem+json`` body."""
    headers: dict[str, str] | None = None
    """Extra headers (Retry-After, WWW-Authenticate)."""

    def response(self) -> Response[bytes]:
        return Response(
            content=self.body, status_code=self.status, media_type=PROBLEM_JSON, headers=self.headers
        )


def problem_of(
    status: int,
    detail: str,
    *,
    type_: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    lang: Language = DEFAULT_LANGUAGE,
    **extra: Any,
) -> Problem:
    """The problem; ``title`` (a fixed English text) is translated into ``lang``, ``detail``
    is given as it should be shown."""
    body: dict[str, Any] = {
        "type": type_ or _http_type(status),
        "title": translate(title or HTTP_TITLES.get(status, "Error"), lang),
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    headers = {**(headers or {}), "Content-Language": lang}
    return Problem(status, msgspec.json.encode(body), headers)


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    lang: Language = DEFAULT_LANGUAGE,
    **extra: Any,
) -> Response[bytes]:
    return problem_of(status, detail, title=title, headers=headers, lang=lang, **extra).response()


def _http_type(status: int) -> str:
    found = HTTP_TYPES.get(status)
    return TYPE_PREFIX + found[0] if found else "about:blank"


def type_of(cls: type[Exception]) -> str:
    """The problem type URI of an error class."""
    for base in cls.__mro__:
        if base in TYPES:
            return TYPE_PREFIX + TYPES[base][0]
    return "about:blank"


def _status_of(exc: errors.LedgerError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 500, "Internal server error"


def _pointer(message: str) -> str:
    """JSON Pointer from msgspec's "... - at `$.donations[3].amount`" suffix."""
    if "- at `$" not in message:
        return ""
    path = message.rsplit("- at `$", 1)[1].rstrip("`")
    return path.replace("[", ".").replace("]", "").replace(".", "/")


_MISSING = re.compile(r"^Missing required \w+ parameter '([^']+)'")
"""Litestar's message for a required parameter that is absent (it gives no ``extra``)."""


def _wire_name(request: Request | None, key: str) -> str:
    """The name a client sent a parameter by: Litestar reports a query, header or cookie
    parameter by the handler's Python name (``value_from``), not by its alias (``from``)."""
    try:
        parameter = request.route_handler.parsed_fn_signature.parameters[key]  # type: ignore[union-attr]
    except (AttributeError, KeyError):
        return key
    kwarg = parameter.kwarg_definition
    for alias in ("name", "query", "header", "cookie"):
        if isinstance(getattr(kwarg, alias, None), str):
            return getattr(kwarg, alias)
    return key


def _validation_errors(
    exc: ValidationException, request: Request | None = None
) -> list[dict[str, str]]:
    found = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            key = _wire_name(request, item.get("key") or "")
            found.append({"pointer": f"/{key}" if key else "", "detail": str(item.get("message"))})
    missing = _MISSING.match(str(exc.detail))
    if not found and missing:
        found.append({"pointer": f"/{missing[1]}", "detail": str(exc.detail)})
    return found


FAILED = "the server failed; the request was not recorded"


def message_of(exc: errors.LedgerError, lang: Language) -> str:
    """The error's message in ``lang`` (its English text when it has no template)."""
    if exc.template is None:
        return str(exc)
    return render(exc.template, exc.params or {}, lang)


def ledger_problem(
    exc: Exception, method: str, path: str, lang: Language = DEFAULT_LANGUAGE
) -> Problem:
    """The answer to a ``LedgerError`` (or to anything unexpected: a 500 that says nothing
    internal), in ``lang``. ``method`` and ``path`` only go to the log of a 500."""
    if isinstance(exc, errors.LedgerError):
        status, title = _status_of(exc)
        if status >= 500 and status != 503:
            log.error("unexpected ledger error on %s %s: %s", method, path, exc)
            return problem_of(500, translate(FAILED, lang), lang=lang)
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
        if status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="ledger"'}
        detail = message_of(exc, lang)
        extra = {}
        if isinstance(exc, errors.InvalidInputError | errors.UnusableInputError):
            pointer = exc.pointer if exc.pointer is not None else _pointer(str(exc))
            extra["errors"] = [{"pointer": pointer, "detail": detail}]
        elif exc.pointer is not None:  # a refusal that names the member at fault
            extra["errors"] = [{"pointer": exc.pointer, "detail": detail}]
        return problem_of(
            status, detail, type_=type_of(type(exc)), title=title, headers=headers, lang=lang, **extra
        )
    log.exception("unhandled error on %s %s", method, path, exc_info=exc)
    return problem_of(500, translate(FAILED, lang), lang=lang)


def handle(request: Request, exc: Exception) -> Response[bytes]:
    """The one exception handler of the app."""
    lang = language_of(request.headers.get("accept-language"))
    if isinstance(exc, ValidationException):
        return problem(400, str(exc.detail), errors=_validation_errors(exc, request), lang=lang)
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        return problem(exc.status_code, str(exc.detail), headers=headers or None, lang=lang)
    return ledger_problem(exc, request.method, request.url.path, lang).response()


EXCEPTION_HANDLERS = {Exception: handle}


def _status_and_title(cls: type[Exception]) -> tuple[int, str]:
    for base in cls.__mro__:
        if base in STATUS:
            return STATUS[base]  # type: ignore[index]
    return 500, HTTP_TITLES[500]


def responses(*raises: type[Exception] | int) -> dict[int, ResponseSpec]:
    """The OpenAPI error responses of a route that may raise ``raises``: error classes (their
    status, title and problem type come from ``STATUS`` and ``TYPES``) or HTTP statuses the
    framework answers by itself (400 parameters, 413 body size, 429 rate limit). Every route
    may also answer 500 and 503. Each response is ``application/problem+json`` with one
    example per problem type."""
    by_status: dict[int, dict[str, tuple[str, str, str]]] = {}
    for item in (*raises, 500, errors.DatabaseUnavailableError):
        if isinstance(item, int):
            status, title = item, HTTP_TITLES[item]
            uri = _http_type(status)
            text = HTTP_TYPES[status][1] if status in HTTP_TYPES else title
        else:
            status, title = _status_and_title(item)
            uri = type_of(item)
            text = next((TYPES[b][1] for b in item.__mro__ if b in TYPES), title)
        by_status.setdefault(status, {})[uri] = (uri, title, text)
    specs = {}
    for status, types in sorted(by_status.items()):
        examples = [
            Example(
                summary=uri,
                value={"type": uri, "title": title, "status": status, "detail": text},
            )
            for uri, title, text in types.values()
        ]
        lines = "; ".join(f"`{uri}`: {text}" for uri, _, text in types.values())
        specs[status] = ResponseSpec(
            data_container=ProblemDocument,
            media_type=PROBLEM_JSON,
            description=f"{HTTP_TITLES[status]}. Problem types: {lines}",
            generate_examples=False,
            examples=examples,
        )
    return specs
