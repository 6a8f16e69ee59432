"""Midtrans HTTP(S) notifications (docs.midtrans.com, "Handling HTTP Notification").

Midtrans POSTs a JSON notification to the organization's endpoint whenever a transaction
changes. What this module holds to:

* **Signature.** ``signature_key`` is the hex SHA-512 of ``order_id + status_code +
  gross_amount + server key``, over the members exactly as sent. It is checked in constant
  time before anything else is read; a mismatch is a 401 and is kept nowhere.
* **Statuses.** Money in: ``settlement``, and ``capture`` with ``fraud_status`` ``accept``
  (cards). Money back: ``refund`` and ``partial_refund``. Everything else (``pending``,
  ``expire``, ``cancel``, ``deny``, ``capture`` under challenge, ...) is acknowledged and
  kept nowhere.
* **Idempotency** on ``(order_id, transaction_status)``; a partial refund repeats its status,
  so its event also names the refunded total (``partial_refund:500000``).
* **Amounts.** ``gross_amount`` and refund amounts are decimal strings read exactly with the
  chosen fund's recorded exponent (``ledger.formats.decimals``); the refunded total is the
  sum of ``refunds`` (or ``refund_amount``; a ``refund`` without either is a full refund).
* **Times.** Midtrans times are ``YYYY-MM-DD HH:MM:SS`` in Jakarta time (GMT+7); the value
  date is their date in the organization's zone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from zoneinfo import ZoneInfo

from ledger.clock import Clock
from ledger.errors import AmountFormatError, GatewaySignatureError, InvalidInputError
from ledger.formats.decimals import minor_units_of
from ledger.ingest import payments
from ledger.ingest.connections import Connection
from ledger.ingest.lookups import GatewayLookups
from ledger.ingest.routing import fund_for
from ledger.journal.appender import Appender
from ledger.store.gateways import NotificationRow
from ledger.store.log import Organization
from schemas.gateways import GatewayAck, MidtransNotification

GATEWAY = "midtrans"
JAKARTA = ZoneInfo("Asia/Jakarta")
"""Midtrans's times carry no offset: they are GMT+7."""
MIDTRANS_TIME = (
    "{field}: expected a Midtrans time as YYYY-MM-DD HH:MM:SS, e.g. 2026-11-20 14:05:09; "
    "got {found}"
)
REFUND_AMOUNT_MISSING = (
    "{field}: a partial_refund notification must say how much was refunded "
    "(refunds[].refund_amount or refund_amount)"
)
REFUNDS_OVER_GROSS = (
    "{field}: refunds of {refunded} minor units are more than the payment's {gross} minor units"
)

CHANNELS = {
    "qris": "qris",
    "gopay": "e_wallet",
    "shopeepay": "e_wallet",
    "dana": "e_wallet",
    "ovo": "e_wallet",
    "bank_transfer": "bank_transfer",
    "echannel": "bank_transfer",
    "permata": "bank_transfer",
    "credit_card": "card",
}
"""Midtrans ``payment_type`` to donation channel; anything else is ``payment_gateway``."""

REFUND_STATUSES = ("refund", "partial_refund")


def signature(n: MidtransNotification, server_key: bytes) -> str:
    """The ``signature_key`` Midtrans computes for ``n``."""
    text = (n.order_id + n.status_code + n.gross_amount).encode() + server_key
    return hashlib.sha512(text).hexdigest()


def check_signature(n: MidtransNotification, server_key: bytes) -> None:
    """Raise :class:`GatewaySignatureError` unless ``n`` is signed with ``server_key``."""
    expected = signature(n, server_key).encode()
    if not hmac.compare_digest(expected, n.signature_key.lower().encode("utf-8", "replace")):
        raise GatewaySignatureError(
            "the notification's signature_key is not SHA-512(order_id + status_code + "
            "gross_amount + server key) for the server key this organization connected; "
            "nothing was recorded"
        )


def money_moved(n: MidtransNotification) -> str | None:
    """``settled``, ``refunded``, or None when the status moves no money."""
    status = n.transaction_status
    if status == "settlement" or (status == "capture" and n.fraud_status == "accept"):
        return payments.SETTLED
    if status in REFUND_STATUSES:
        return payments.REFUNDED
    return None


TIME_DIGITS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
"""The form Midtrans sends, read without ``strptime`` (a tenth of a notification's CPU)."""


def _time(text: str | None, field: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        digits = TIME_DIGITS.fullmatch(text)
        if digits is not None:
            return dt.datetime(*map(int, digits.groups()), tzinfo=JAKARTA)  # type: ignore[misc]
        # Anything else is read as before (strptime also takes e.g. one-digit hours).
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=JAKARTA)
    except ValueError:
        raise InvalidInputError.of(
            MIDTRANS_TIME,
            pointer=f"/{field}",
            field=field,
            found=repr(text)[:60],
        ) from None


def _refunded(n: MidtransNotification, exponent: int, gross: int) -> int:
    if n.refunds:
        total = sum(
            minor_units_of(r.refund_amount, exponent, f"refunds/{i}/refund_amount")
            for i, r in enumerate(n.refunds)
        )
    elif n.refund_amount is not None:
        total = minor_units_of(n.refund_amount, exponent, "refund_amount")
    elif n.transaction_status == "refund":
        total = gross
    else:
        raise InvalidInputError.of(
            REFUND_AMOUNT_MISSING,
            pointer="/refunds",
            field="refunds",
        )
    if total > gross:
        raise AmountFormatError.of(
            REFUNDS_OVER_GROSS,
            pointer="/refunds",
            field="refunds",
            refunded=total,
            gross=gross,
        )
    return total


async def read(
    lookups: GatewayLookups,
    clock: Clock,
    org: Organization,
    connection: Connection,
    n: MidtransNotification,
    raw: bytes,
) -> NotificationRow | None:
    """A notification signed by ``connection`` as the row to keep; None when it moves no
    money. Raises 400 on a malformed amount or time, 422 when no fund fits."""
    kind = money_moved(n)
    if kind is None:
        return None
    payments.payment_id_of(n.order_id, "order_id")
    fields = {
        "custom_field1": n.custom_field1,
        "custom_field2": n.custom_field2,
        "custom_field3": n.custom_field3,
    }
    code = fund_for(connection.fund_rule, GATEWAY, n.order_id, fields)
    fund = await lookups.fund(org, code, n.currency)
    gross = minor_units_of(n.gross_amount, fund.minor_units, "gross_amount")
    if kind == payments.SETTLED:
        refunded, event = 0, n.transaction_status
        occurred = _time(n.settlement_time, "settlement_time") or _time(
            n.transaction_time, "transaction_time"
        )
    else:
        refunded = _refunded(n, fund.minor_units, gross)
        event = f"{n.transaction_status}:{refunded}"
        times = [_time(r.created_at, f"refunds/{i}/created_at") for i, r in enumerate(n.refunds)]
        occurred = max((t for t in times if t is not None), default=None)
    return NotificationRow(
        gateway=GATEWAY,
        payment_id=n.order_id,
        event=event,
        kind=kind,
        fund=code,
        currency=n.currency,
        gross=gross,
        refunded=refunded,
        channel=CHANNELS.get(n.payment_type or "", "payment_gateway"),
        occurred_at=occurred or clock(),
        body_sha256=hashlib.sha256(raw).digest(),
        body=raw,
    )


async def receive(
    lookups: GatewayLookups,
    appender: Appender,
    clock: Clock,
    org: Organization,
    n: MidtransNotification,
    raw: bytes,
) -> GatewayAck:
    """The use case behind the organization's Midtrans endpoint: the signature first (401
    for a mismatch, before anything else is read or kept), then what it means."""
    connection, _ = await lookups.verified(
        org, GATEWAY, lambda found: check_signature(n, found.secret)
    )
    row = await read(lookups, clock, org, connection, n, raw)
    if row is None:
        return GatewayAck(status="ignored")
    return await payments.receive(lookups.store, appender, clock, org, row)
