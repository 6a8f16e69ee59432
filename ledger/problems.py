"""HTTP error mapping, in one place: every error becomes RFC 9457 ``application/problem+json``.

Handlers contain no try/except. Domain errors map to statuses through ``STATUS``; Litestar's
own HTTP errors (404, 405, 413, 415, 400 validation) keep their status with the specific
message in ``detail`` (RFC 9457), not only in ``title``; anything unexpected is a 500 whose
body says nothing internal. A database outage is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from ledger import errors

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
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[bytes]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTP_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


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


def handle(request: Request, exc: Exception) -> Response[bytes]:
    """The one exception handler of the app."""
    if isinstance(exc, errors.LedgerError):
        status, title = _status_of(exc)
        if status >= 500 and status != 503:
            log.error("unexpected ledger error on %s %s: %s", request.method, request.url.path, exc)
            return problem(500, "the server failed; the request was not recorded")
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
        if status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="ledger"'}
        extra = {}
        if isinstance(exc, errors.InvalidInputError):
            extra["errors"] = [{"pointer": _pointer(str(exc)), "detail": str(exc)}]
        return problem(status, str(exc), title=title, headers=headers, **extra)
    if isinstance(exc, ValidationException):
        return problem(400, str(exc.detail), errors=_validation_errors(exc))
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        return problem(exc.status_code, str(exc.detail), headers=headers or None)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "the server failed; the request was not recorded")


EXCEPTION_HANDLERS = {Exception: handle}
