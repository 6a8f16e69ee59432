"""The RFC 9457 problem document every error answer carries (``application/problem+json``).

Only for the OpenAPI description: ``ledger.http.problems`` writes the bodies. ``type`` is a URI
reference naming the problem (``/problems/overdraft``; ``about:blank`` for plain HTTP
errors), listed in the README and in ``ledger.http.problems.TYPES``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Status = Annotated[int, msgspec.Meta(ge=400, le=599)]


class ProblemError(msgspec.Struct, frozen=True, kw_only=True):
    """One invalid member of the request."""

    pointer: str
    """JSON Pointer (RFC 6901) to the member in the body, or ``""`` when unknown."""
    detail: str
    """What is wrong with it, and the expected form."""


class ProblemDocument(msgspec.Struct, frozen=True, kw_only=True):
    """An RFC 9457 problem details object."""

    type: Annotated[str, msgspec.Meta(examples=["/problems/overdraft"])] = "about:blank"
    """URI reference of the problem type (see the README's table)."""
    title: str
    """Short summary of the problem type."""
    status: Status
    """The HTTP status of this answer."""
    detail: str
    """What went wrong in this request, for people: names the field and the expected form."""
    errors: list[ProblemError] | None = None
    """Invalid members of the request (400 answers)."""
