"""Signed outbound webhooks: subscriptions and the delivery log, as the API shows them."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.base import Document

Event = Literal["entry.appended", "checkpoint.signed", "statement.issued"]
Url = Annotated[
    str, msgspec.Meta(max_length=2000, pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[\x21-\x7e]*)?$")
]
"""An http(s) URL with an ASCII host name or address (IDNA names in their xn-- form)."""


class WebhookCreate(Document, frozen=True):
    """Subscribe a receiver to some of the organization's events."""

    url: Url
    events: Annotated[list[Event], msgspec.Meta(min_length=1, max_length=3)] = msgspec.field(
        default_factory=lambda: ["entry.appended", "checkpoint.signed", "statement.issued"]
    )
    """Which events to deliver (default: all three)."""


class WebhookView(Document, frozen=True):
    id: str
    url: str
    events: list[str]
    created_at: str
    delivered_seq: int
    """Events of the organization delivered up to this number."""
    failures: int
    """Failed attempts in a row at the next event (0: none)."""
    next_attempt_at: str


class WebhookCreated(Document, frozen=True):
    subscription: WebhookView
    secret: str
    """``whsec_...``: shown this once; verify ``webhook-signature`` with it."""


class WebhookDeliveryView(Document, frozen=True):
    seq: int
    """The event's number (``webhook-id`` is ``msg_<org id>_<seq>``)."""
    attempt: int
    attempted_at: str
    status: int | None
    error: str | None
    duration_ms: int
