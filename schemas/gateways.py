"""Payment gateways: what they send us, how a charity connects one, and what the log keeps.

Three groups of types:

* **Gateway messages** (``MidtransNotification``, ``XenditCallback``): foreign documents. Unlike every other document here they accept
  unknown members (``GatewayMessage``), because a gateway adds members without notice and a
  donation must not be refused for that. Amounts are text: Midtrans sends decimal strings,
  Xendit JSON numbers, kept as the exact JSON text (``msgspec.Raw``, never a float), and
  ``ledger.formats.decimals`` turns either into minor units with the fund's recorded
  exponent.
* **Connections** (``GatewayConnect``, ``FundRule``, ``GatewayView``): what an admin sends to
  connect a gateway and what the API shows back (never the secret).
* **Entry members** (``NotificationEvidence``, ``GatewayDonationBody``,
  ``GatewayCorrectionBody``): a donation or correction recorded from a gateway notification
  is the ordinary entry kind with one more member, ``notification``: the gateway, the event
  and the SHA-256 of the exact notification body (docs/FORMAT.md section 6).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.base import Document
from schemas.charity import Code, CorrectionBody, DonationBody

Gateway = Literal["midtrans", "xendit"]
Secret = Annotated[str, msgspec.Meta(min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")]
PaymentId = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[\x21-\x7e]+$")]
"""A gateway's payment identity as the ledger accepts it; the donation reference is
``<gateway>:<id>`` (at most 100 characters, like every reference)."""


# --- gateway messages (foreign: unknown members allowed) -----------------------------------


class GatewayMessage(msgspec.Struct, frozen=True, kw_only=True):
    """Base of documents a gateway sends: unknown members are ignored (see module docstring);
    members we read are typed and required where the gateway documents them as always sent."""


class MidtransRefund(GatewayMessage, frozen=True):
    """One element of a Midtrans notification's ``refunds``."""

    refund_amount: str
    """Decimal string, e.g. ``"5000.00"``."""
    created_at: str | None = None
    """``YYYY-MM-DD HH:MM:SS`` in Jakarta time (GMT+7)."""
    refund_chargeback_id: int | str | None = None
    reason: str | None = None


class MidtransNotification(GatewayMessage, frozen=True):
    """A Midtrans HTTP(S) notification (docs.midtrans.com, "Handling HTTP Notification")."""

    order_id: str
    status_code: str
    gross_amount: str
    """Decimal string, e.g. ``"24145.00"``; signed as sent."""
    signature_key: str
    """Hex SHA-512 of order_id + status_code + gross_amount + server key."""
    transaction_status: str
    """capture, settlement, pending, deny, cancel, expire, refund, partial_refund, ..."""
    transaction_id: str | None = None
    transaction_time: str | None = None
    """``YYYY-MM-DD HH:MM:SS`` in Jakarta time (GMT+7)."""
    settlement_time: str | None = None
    fraud_status: str | None = None
    payment_type: str | None = None
    currency: str = "IDR"
    custom_field1: str | None = None
    custom_field2: str | None = None
    custom_field3: str | None = None
    refund_amount: str | None = None
    """The refunded total, when Midtrans sends it beside ``refunds``."""
    refunds: list[MidtransRefund] = []


class XenditEventData(GatewayMessage, frozen=True):
    """The ``data`` of a Xendit event callback (QR code, payment and refund events)."""

    id: str | None = None
    """The payment's id (QR payments), or the refund's (refund events)."""
    payment_id: str | None = None
    """Payment events: the payment; refund events: the payment refunded."""
    qr_id: str | None = None
    reference_id: str | None = None
    """The charity's own order id (what the fund rule's prefixes match)."""
    amount: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    """A JSON number, kept as its exact text (empty when absent)."""
    currency: str = "IDR"
    status: str | None = None
    """SUCCEEDED (money moved), FAILED, ..."""
    created: str | None = None
    updated: str | None = None
    channel_code: str | None = None
    metadata: dict[str, object] | None = None
    """Custom fields of the checkout (what a ``custom_field`` fund rule reads)."""


class XenditCallback(GatewayMessage, frozen=True):
    """A Xendit callback (docs.xendit.co, "Webhooks"): either an **invoice** callback, whose
    members are at the top (``id``, ``external_id``, ``status`` PAID or SETTLED, ``amount``,
    ``paid_amount``, ``paid_at``), or an **event** callback, ``{"event": "qr.payment" |
    "payment.succeeded" | "refund.succeeded" | ..., "data": {...}}``."""

    event: str | None = None
    business_id: str | None = None
    created: str | None = None
    data: XenditEventData | None = None
    id: str | None = None
    external_id: str | None = None
    status: str | None = None
    amount: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    """A JSON number, kept as its exact text (empty when absent)."""
    paid_amount: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    currency: str = "IDR"
    paid_at: str | None = None
    """RFC 3339 time."""
    updated: str | None = None
    payment_method: str | None = None
    payment_channel: str | None = None
    metadata: dict[str, object] | None = None


# --- connections ---------------------------------------------------------------------------


class FundRule(Document, frozen=True):
    """Which fund a payment goes to: the first prefix of its order id (Midtrans ``order_id``,
    Xendit ``external_id`` or ``reference_id``) that matches, or the value of a custom field
    (Midtrans ``custom_field1..3``, Xendit ``metadata`` member); else ``default`` (if any)."""

    by: Literal["order_prefix", "custom_field"] = "order_prefix"
    field: Annotated[str, msgspec.Meta(pattern=r"^[a-z_][a-z0-9_]{0,39}$")] | None = None
    """The custom field to read when ``by`` is ``custom_field``."""
    funds: Annotated[
        dict[Annotated[str, msgspec.Meta(min_length=1, max_length=60)], Code],
        msgspec.Meta(max_length=100),
    ] = {}
    """Prefix (or custom-field value) to fund code."""
    default: Code | None = None
    """The fund when nothing matches; none: such a payment is refused (422)."""

    def __post_init__(self) -> None:
        if self.by == "custom_field" and not self.field:
            raise ValueError("a custom_field rule needs `field`, e.g. custom_field1")
        if not self.funds and self.default is None:
            raise ValueError("a fund rule needs `funds` or a `default` fund")


class GatewayConnect(Document, frozen=True):
    """Connect (or reconnect) a gateway: its secret and the fund rule."""

    secret: Secret
    """Midtrans: the server key; Xendit: the callback verification token. Stored sealed
    under the key-encryption key; never shown again."""
    fund_rule: FundRule


class GatewayView(Document, frozen=True):
    """A gateway connection as the API shows it (never the secret)."""

    gateway: Gateway
    version: int
    """1, then +1 per change."""
    fund_rule: FundRule
    created_at: str
    """When this version was stored (RFC 3339)."""
    notification_path: str
    """Where the gateway must send its notifications, below the API's base URL."""


class GatewayAck(Document, frozen=True):
    """What the ledger answers a gateway (status 200 once the notification is safe)."""

    status: Literal["recorded", "waiting", "ignored"]
    """recorded: the log is in step with the payment; waiting: a refund waits for its
    settlement; ignored: nothing moved (pending, expired, cancelled, denied)."""
    entries: list[int] = []
    """Indexes appended because of this delivery (empty for a duplicate)."""


# --- entry members (hashed and public) -------------------------------------------------------


class NotificationEvidence(Document, frozen=True):
    """The gateway notification an entry was recorded from (signed as part of the entry)."""

    gateway: Gateway
    event: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    """``settlement`` or ``refund:<refunded total>`` (Midtrans), Xendit's event name."""
    sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    """Hex SHA-256 of the exact notification body the ledger received."""


class GatewayDonationBody(DonationBody, frozen=True, kw_only=True):
    """``donation`` recorded from a gateway notification: reference ``<gateway>:<id>``."""

    notification: NotificationEvidence


class GatewayCorrectionBody(CorrectionBody, frozen=True, kw_only=True):
    """``correction`` that reverses a gateway donation after a refund."""

    notification: NotificationEvidence
