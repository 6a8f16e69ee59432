"""Entry bodies as one msgspec tagged union: a Struct per kind (docs/FORMAT.md section 6).

Each body Struct's tag is its kind's name (``schemas.kinds``) in the tag field ``kind``, the
envelope member that carries it. Code that receives a body dispatches on its type
(``match body: case DonationBody(): ...``), never on the name; a new kind is one Struct
here (and its name in ``schemas.kinds``) plus the rule that handles it.

The tag never enters what the log hashes: an entry is ``{"kind": ..., "body": ...}``, so the
body's canonical bytes are its members without ``kind`` (:func:`body_builtins`). Bodies
read back from the log are decoded by kind (:func:`decode_body`); the union itself decodes
an object that carries ``kind`` among the members (``msgspec.convert(..., EntryBody)``).
"""

from __future__ import annotations

from typing import Any, Final, cast, get_args

import msgspec

from schemas.base import Body
from schemas.charity import (
    BeneficiaryRegistered,
    BeneficiaryUpdated,
    CorrectionBody,
    DisbursementBody,
    DonationBody,
    DonorErasedBody,
    EvidenceBody,
    EvidencePublishedBody,
    EvidenceWithdrawnBody,
    FeeBody,
    FundBody,
    OrgSettingsBody,
    TransferBody,
)
from schemas.compliance import FundClassifiedBody, FundPermitBody, OrgProfileBody
from schemas.log import (
    ApiKeyIssued,
    ApiKeyRevoked,
    Event,
    KeyRetired,
    KeyRotated,
    LogCreated,
    StaffAdded,
    StaffChanged,
)
from schemas.recipients import AcknowledgedBody, BeneficiaryKeyBody, DisputedBody
from schemas.statements import StatementIssuedBody
from schemas.targets import FundTargetBody

EntryBody = (
    LogCreated
    | KeyRotated
    | KeyRetired
    | Event
    | FundBody
    | BeneficiaryRegistered
    | BeneficiaryUpdated
    | DonationBody
    | DisbursementBody
    | TransferBody
    | FeeBody
    | CorrectionBody
    | OrgSettingsBody
    | EvidenceBody
    | DonorErasedBody
    | StatementIssuedBody
    | StaffAdded
    | StaffChanged
    | ApiKeyIssued
    | ApiKeyRevoked
    | BeneficiaryKeyBody
    | AcknowledgedBody
    | DisputedBody
    | FundClassifiedBody
    | FundPermitBody
    | OrgProfileBody
    | FundTargetBody
    | EvidencePublishedBody
    | EvidenceWithdrawnBody
)
"""Every entry body the log knows, tagged by kind."""

MoneyBody = DonationBody | DisbursementBody | TransferBody | FeeBody
"""The bodies that move money between accounts of their own (``kinds.MOVEMENTS``)."""

BODY_TYPES: Final[dict[str, type[Body]]] = {
    cls.__struct_config__.tag: cls for cls in get_args(EntryBody)
}
"""Each kind's body Struct, by the kind's name."""

_KIND_OF: Final[dict[type[Body], str]] = {cls: kind for kind, cls in BODY_TYPES.items()}


def kind_of(body: Body) -> str:
    """The kind of ``body``: its Struct's tag."""
    return _KIND_OF[type(body)]


def body_builtins(body: Body) -> dict[str, Any]:
    """``body`` as JSON builtins without its tag: the ``body`` member the log hashes
    (``ledger.formats.canonical``), exactly as before the bodies were tagged."""
    return kind_and_builtins(body)[1]


def kind_and_builtins(body: Body) -> tuple[str, dict[str, Any]]:
    """``body``'s kind and :func:`body_builtins`, from one ``to_builtins`` (the tag it
    writes is the kind)."""
    data = msgspec.to_builtins(body)
    return data.pop("kind"), data


def decode_body(kind: str, data: Any) -> EntryBody:
    """The body Struct of an entry of ``kind`` whose ``body`` member is ``data`` (builtins).

    Raises ``msgspec.ValidationError`` naming the member that is wrong; for a kind that is
    not in the union, ``Invalid value '<kind>' - at `$.kind```, the union's own refusal of
    an unknown tag; for a body that carries ``kind`` (the Struct's builtins, tag and all,
    instead of :func:`body_builtins`), a refusal too, since the log would hash the tag.
    """
    cls = BODY_TYPES.get(kind)
    if cls is None:
        raise msgspec.ValidationError(f"Invalid value {kind!r} - at `$.kind`")
    if type(data) is dict and "kind" in data:
        raise msgspec.ValidationError(
            "Object contains unknown field `kind` - at `$`: the entry's envelope carries the "
            "kind, never its body"
        )
    return cast(EntryBody, msgspec.convert(data, cls))


__all__ = [
    "BODY_TYPES",
    "EntryBody",
    "MoneyBody",
    "body_builtins",
    "decode_body",
    "kind_and_builtins",
    "kind_of",
]
