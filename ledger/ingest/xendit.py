"""Xendit callbacks (docs.xendit.co, "Webhooks", "Invoice callback", "QR code callback").

Xendit POSTs JSON to the organization's endpoint with the ``x-callback-token`` header; the
token is the one shown in the Xendit dashboard and connected here. It is compared in
constant time before anything else is read; a mismatch is a 401 and is kept nowhere.

Which callbacks move money, and what identifies the payment (idempotency, and the donation
reference ``xendit:<id>``):

| callback | money | payment id | event |
|---|---|---|---|
| invoice, ``status`` PAID or SETTLED | in: ``paid_amount`` (else ``amount``) | ``id`` | ``invoice.paid`` |
| ``qr.payment``, ``data.status`` SUCCEEDED | in: ``data.amount`` | ``data.id`` | the event name |
| ``payment.succeeded`` / ``payment.capture``, SUCCEEDED | in: ``data.amount`` | ``data.payment_id`` (else ``data.id``) | the event name |
| ``refund.succeeded``, SUCCEEDED | back: ``data.amount`` | ``data.payment_id`` | ``refund:<data.id>`` |

Everything else (expired invoices, failed payments, other events) is acknowledged and kept
nowhere. Xendit delivers duplicates and out of order; ``ledger.ingest.payments`` makes
that harmless. Amounts are JSON numbers, read from their exact text with the fund's recorded
exponent (``ledger.formats.decimals``). The fund rule reads the charity's own order id
(``external_id`` of an invoice, ``reference_id`` of an event) or a ``metadata`` member.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import msgspec

from ledger.clock import Clock
from ledger.errors import GatewaySignatureError, InvalidInputError
from ledger.formats.decimals import minor_units_of
from ledger.ingest import payments
from ledger.ingest.connections import Connection
from ledger.ingest.lookups import GatewayLookups
from ledger.ingest.routing import fund_for
from ledger.journal.appender import Appender
from ledger.store.gateways import NotificationRow
from ledger.store.log import Organization
from schemas.gateways import GatewayAck, XenditCallback

GATEWAY = "xendit"
XENDIT_TIME = (
    "{field}: expected an RFC 3339 time with its offset, e.g. 2026-11-01T03:15:09.000Z; "
    "got {found}"
)
AMOUNT_MISSING = "{field}: expected the amount as a number, e.g. 250000; got nothing"
INVOICE_PAID = ("PAID", "SETTLED")
PAYMENT_EVENTS = ("qr.payment", "payment.succeeded", "payment.capture")
REFUND_EVENTS = ("refund.succeeded",)

CHANNELS = {
    "QR_CODE": "qris",
    "QRIS": "qris",
    "EWALLET": "e_wallet",
    "BANK_TRANSFER": "bank_transfer",
    "VIRTUAL_ACCOUNT": "bank_transfer",
    "CREDIT_CARD": "card",
    "CARDS": "card",
}
"""Xendit payment method to donation channel; anything else is ``payment_gateway``."""


def check_token(token: str | None, connection: Connection) -> None:
    """Raise :class:`GatewaySignatureError` unless ``token`` is the connected one."""
    sent = (token or "").encode("utf-8", "replace")
    if not hmac.compare_digest(sent, connection.secret):
        raise GatewaySignatureError(
            "the x-callback-token header is not the callback token this organization "
            "connected for Xendit; nothing was recorded"
        )


def _text(raw: msgspec.Raw) -> str | None:
    """A JSON number's exact text (a string amount is accepted too, without its quotes);
    None when the member is absent or null."""
    text = bytes(raw).decode("utf-8", "replace")
    if text in ("", "null"):
        return None
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


def _time(text: str | None, field: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        found = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise InvalidInputError.of(
            XENDIT_TIME,
            pointer=f"/{field.replace('.', '/')}",
            field=field,
            found=repr(text)[:60],
        )
    return found


async def read(
    lookups: GatewayLookups,
    clock: Clock,
    org: Organization,
    connection: Connection,
    c: XenditCallback,
    raw: bytes,
) -> NotificationRow | None:
    """A callback as the row to keep; None when it moves no money."""
    d = c.data
    if c.event is None and c.status in INVOICE_PAID:  # an invoice callback
        kind, event = payments.SETTLED, "invoice.paid"
        payment_id = payments.payment_id_of(c.id, "id")
        order = c.external_id or ""
        amount, field = _text(c.paid_amount), "paid_amount"
        if amount is None:
            amount, field = _text(c.amount), "amount"
        currency, metadata = c.currency, c.metadata or {}
        occurred = _time(c.paid_at, "paid_at") or _time(c.updated, "updated")
        method = c.payment_method or ""
    elif d is not None and d.status == "SUCCEEDED" and c.event in PAYMENT_EVENTS:
        kind, event = payments.SETTLED, c.event
        payment_id = payments.payment_id_of(
            d.payment_id if c.event != "qr.payment" and d.payment_id else d.id, "data.id"
        )
        order, amount, field = d.reference_id or "", _text(d.amount), "data.amount"
        currency, metadata = d.currency, d.metadata or {}
        occurred = _time(d.created, "data.created") or _time(c.created, "created")
        method = "QR_CODE" if c.event == "qr.payment" else (d.channel_code or "")
    elif d is not None and d.status == "SUCCEEDED" and c.event in REFUND_EVENTS:
        kind = payments.REFUNDED
        payment_id = payments.payment_id_of(d.payment_id, "data.payment_id")
        event = f"refund:{payments.payment_id_of(d.id, 'data.id')}"
        order, amount, field = d.reference_id or "", _text(d.amount), "data.amount"
        currency, metadata = d.currency, d.metadata or {}
        occurred = _time(d.updated, "data.updated") or _time(d.created, "data.created")
        method = ""
    else:
        return None
    if amount is None:
        raise InvalidInputError.of(
            AMOUNT_MISSING,
            pointer=f"/{field.replace('.', '/')}",
            field=field,
        )
    code = fund_for(connection.fund_rule, GATEWAY, order, metadata)
    fund = await lookups.fund(org, code, currency)
    minor = minor_units_of(amount, fund.minor_units, field)
    return NotificationRow(
        gateway=GATEWAY,
        payment_id=payment_id,
        event=event,
        kind=kind,
        fund=code,
        currency=currency,
        gross=minor,
        refunded=minor if kind == payments.REFUNDED else 0,
        channel=CHANNELS.get(method.upper(), "payment_gateway"),
        occurred_at=occurred or clock(),
        body_sha256=hashlib.sha256(raw).digest(),
        body=raw,
    )


async def receive(
    lookups: GatewayLookups,
    appender: Appender,
    clock: Clock,
    org: Organization,
    token: str | None,
    c: XenditCallback,
    raw: bytes,
) -> GatewayAck:
    """The use case behind the organization's Xendit endpoint: the token first (401 for a
    mismatch, before anything else is read or kept), then what the callback means."""
    connection, _ = await lookups.verified(org, GATEWAY, lambda found: check_token(token, found))
    row = await read(lookups, clock, org, connection, c, raw)
    if row is None:
        return GatewayAck(status="ignored")
    return await payments.receive(lookups.store, appender, clock, org, row)
