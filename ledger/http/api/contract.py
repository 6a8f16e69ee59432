"""The OpenAPI contract of each route, stated where the route is declared.

``read(...)`` and ``write(...)`` return the keyword arguments of a Litestar route decorator:
an explicit ``operationId``, one tag per resource, who may call it (``opt["roles"]``, which
the auth guard enforces, and the matching ``security`` statement: ``bearer`` or ``[]`` for
public reads), and the ``application/problem+json`` error responses, whose statuses and
problem types come from ``ledger.http.problems`` (``responses``). Writes also get a request
example and a *required* ``Idempotency-Key`` header in the schema: the handlers still check
the header themselves (``recording.check_key``, a ``/problems/idempotency-key-missing`` 422),
so that check and its answer are the same on the donation fast path.

The bearer scheme is ``SECURITY_SCHEMES`` (``ledger.http.app`` puts it in the components).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)

from ledger import errors
from ledger.charity.recording import MAX_KEY_LENGTH
from ledger.http.problems import responses

BEARER = "bearer"
SECURITY_SCHEMES = Components(
    security_schemes={
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="ldg_<prefix>_<secret>",
            description="An API key of the organization (roles: admin, recorder, auditor), "
            "sent as `Authorization: Bearer ldg_...`. Issued by `ledger keys` or "
            "`POST /v1/orgs/{slug}/api-keys`.",
        )
    }
)

ADMIN = ("admin",)
RECORDER = ("recorder",)
AUDITOR = ("auditor", "admin")
"""Donor personal data (records, receipts with the commitment opening): never recorders."""
READERS = ("admin", "recorder", "auditor")

KEYED: tuple[type[Exception] | int, ...] = (errors.UnauthorizedError, errors.ForbiddenError)
"""What a route with ``roles`` may refuse before its handler runs."""
ALWAYS: tuple[type[Exception] | int, ...] = (400, 429, errors.NotFoundError)
"""What any route under ``/v1`` may answer: bad parameters, the rate limit (a request with a
valid API key is counted, public read or not), an unknown organization."""
BODY: tuple[type[Exception] | int, ...] = (
    errors.InvalidInputError,
    errors.PayloadTooLargeError,
    errors.UnsupportedMediaError,
)
"""What a route that reads a body may refuse."""
IDEMPOTENT: tuple[type[Exception] | int, ...] = (
    errors.IdempotencyKeyError,
    errors.IdempotencyMismatchError,
    errors.IdempotencyInFlightError,
)
"""What the Idempotency-Key handling of a write may refuse."""

NOT_MODIFIED = ResponseSpec(
    data_container=None,
    description="Not modified: the If-None-Match header named the answer's ETag (no body)",
)
IDEMPOTENCY_KEY = "Idempotency-Key"
BINARY = Schema(type="string", format="binary")  # type: ignore[arg-type]


@dataclass
class _Documented(Operation):
    """An Operation that states what Litestar cannot infer (see the module docstring)."""

    example: ClassVar[Any] = None
    idempotent: ClassVar[bool] = False
    body_media: ClassVar[tuple[str, ...]] = ()
    success_media: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if self.security is None:
            self.security = []  # public: stated, not left to a global default
        if self.body_media:  # a raw body the handler reads itself (evidence files)
            self.request_body = RequestBody(
                required=True,
                content={m: OpenAPIMediaType(schema=BINARY) for m in self.body_media},
            )
        if self.example is not None and self.request_body is not None:
            for media in self.request_body.content.values():
                media.example = self.example
        for param in self.parameters or []:
            if self.idempotent and getattr(param, "name", None) == IDEMPOTENCY_KEY:
                param.required = True
                param.schema = Schema(
                    type="string",  # type: ignore[arg-type]
                    min_length=1,
                    max_length=MAX_KEY_LENGTH,
                    pattern=r"^[\x20-\x7e]+$",
                )
        if self.success_media and self.responses:
            for status, answer in self.responses.items():
                if status.startswith("2") and not isinstance(answer, dict):
                    answer.content = {  # type: ignore[union-attr]
                        m: OpenAPIMediaType(schema=BINARY) for m in self.success_media
                    }


def _operation_class(
    name: str,
    example: Any,
    idempotent: bool,
    body_media: Sequence[str],
    success_media: Sequence[str],
) -> type[Operation]:
    return type(
        f"{name[0].upper()}{name[1:]}Operation",
        (_Documented,),
        {
            "example": example,
            "idempotent": idempotent,
            "body_media": tuple(body_media),
            "success_media": tuple(success_media),
        },
    )


def read(
    operation_id: str,
    tag: str,
    *,
    roles: Sequence[str] | None = None,
    raises: Sequence[type[Exception] | int] = (),
    base: Sequence[type[Exception] | int] = ALWAYS,
    body: bool = False,
    example: Any = None,
    success_media: Sequence[str] = (),
    cached: bool = False,
    body_media: Sequence[str] = (),
) -> dict[str, Any]:
    """Decorator arguments of a route that records nothing (``roles``: who may call it;
    none: public). ``raises``: what its handler may refuse beyond ``base``. ``cached``: the
    answer has an ``ETag`` and ``If-None-Match`` gets a 304. ``body_media``: a raw body of
    these types (a file) instead of JSON."""
    refusals = (*base, *(KEYED if roles else ()), *(BODY if body else ()), *raises)
    documented = responses(*refusals)
    if cached:
        documented[304] = NOT_MODIFIED
    return {
        "operation_id": operation_id,
        "tags": [tag],
        "opt": {"roles": tuple(roles)} if roles else {},
        "security": [{BEARER: []}] if roles else None,
        "responses": documented,
        "operation_class": _operation_class(
            operation_id, example, False, body_media, success_media
        ),
    }


def write(
    operation_id: str,
    tag: str,
    *,
    roles: Sequence[str],
    example: Any,
    raises: Sequence[type[Exception] | int] = (),
    body_media: Sequence[str] = (),
) -> dict[str, Any]:
    """Decorator arguments of a route that appends to the log: keyed, idempotent, with a
    request example (``body_media``: a raw body of these types instead of JSON). No
    ``roles``: a public write, authenticated by what its body carries (a recipient's
    signature, ``ledger.http.api.acknowledgments``)."""
    refusals = (*ALWAYS, *(KEYED if roles else ()), *BODY, *IDEMPOTENT, *raises)
    return {
        "operation_id": operation_id,
        "tags": [tag],
        "opt": {"roles": tuple(roles)} if roles else {},
        "security": [{BEARER: []}] if roles else None,
        "responses": responses(*refusals),
        "operation_class": _operation_class(operation_id, example, True, body_media, ()),
    }
