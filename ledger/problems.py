"""HTTP error mapping, in one place: every error becomes RFC 9457 ``application/problem+json``.

Handlers contain no try/except. Domain errors map to statuses through ``STATUS``; Litestar's
own HTTP errors (404, 405, 413, 415, 400 validation) keep their status with the specific
message in ``detail`` (RFC 9457), not only in ``title``; anything unexpected is a 500 whose
body says nothing internal. A database outage is a 503 with ``Retry-After``.

Language: titles, and the details of errors raised with ``LedgerError.of``, are given in
Bahasa Indonesia when ``Accept-Language`` prefers it and in English otherwise, through the
gettext catalog of ``ledger.messages``; the answer says which in ``Content-Language``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from ledger import errors
from ledger.messages import DEFAULT_LANGUAGE, Language, language_of, render, translate

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "5"

STATUS: dict[type[errors.LedgerError], tuple[int, str]] = {
    errors.InvalidInputError: (400, "Bad request"),
    errors.UnauthorizedError: (401, "Unauthorized"),
    errors.ForbiddenError: (403, "Forbidden"),
    errors.NotFoundError: (404, "Not found"),
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
}

HTTP_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
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
    title: str | None = None,
    headers: dict[str, str] | None = None,
    lang: Language = DEFAULT_LANGUAGE,
    **extra: Any,
) -> Problem:
    """The problem; ``title`` (a fixed English text) is translated into ``lang``, ``detail``
    is given as it should be shown."""
    body: dict[str, Any] = {
        "type": "about:blank",
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


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    found = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            key = item.get("key") or ""
            found.append({"pointer": f"/{key}" if key else "", "detail": str(item.get("message"))})
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
        return problem_of(status, detail, title=title, headers=headers, lang=lang, **extra)
    log.exception("unhandled error on %s %s", method, path, exc_info=exc)
    return problem_of(500, translate(FAILED, lang), lang=lang)


def handle(request: Request, exc: Exception) -> Response[bytes]:
    """The one exception handler of the app."""
    lang = language_of(request.headers.get("accept-language"))
    if isinstance(exc, ValidationException):
        return problem(400, str(exc.detail), errors=_validation_errors(exc), lang=lang)
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        return problem(exc.status_code, str(exc.detail), headers=headers or None, lang=lang)
    return ledger_problem(exc, request.method, request.url.path, lang).response()


EXCEPTION_HANDLERS = {Exception: handle}
