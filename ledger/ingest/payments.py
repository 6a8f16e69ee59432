"""A gateway payment's notifications, brought into the log exactly once, in any order.

What a gateway says of a payment is kept (``gateway_notifications``, a row per payment and
event, a duplicate adds nothing), and the log is brought in step with everything said so
far (``reconcile``), in one transaction under the payment's advisory lock and the log-head
lock:

* the payment settled and the log holds no donation under its reference
  (``<gateway>:<payment id>``): a ``donation`` of the gross amount, dated when it settled;
* refunds total ``r`` and the donation in force is more than ``gross - r``: a
  ``correction`` reverses it (dated when refunded) and, unless everything was refunded, a
  new ``donation`` of ``gross - r`` under the same reference replaces it (dated when the
  money came in). A partial refund therefore never needs an entry kind of its own, and
  every total, receipt and statement already knows what a reversal means;
* a refund before its settlement changes nothing yet: it waits in the inbox (answered
  200, ``waiting``), and the settlement, when it comes, records the donation and applies
  the refund in the same transaction.

Each entry commits to the SHA-256 of the notification body it was made from
(``notification`` member, docs/FORMAT.md section 6). Because the outcome is derived from
the inbox and the log rather than from the delivery at hand, replays, duplicates delivered
at the same moment, and any arrival order give the same entries, once.

**The common case**, a settlement, takes no transaction of its own: its donation joins the
organization's group commit (``receive``) with the Idempotency-Key ``<reference>:settled``
(the key ``reconcile`` uses too, so the donation is recorded once whichever path appends
it), its inbox row is written in the same transaction (``CharityPolicy.after_insert``), and
its value date is the settlement time's local date under the head lock. That batch reads,
under the head lock, whether a refund of the payment was kept; ``reconcile`` reads the
inbox under the head lock too. So a refund racing its settlement is seen by one of them:
kept before the batch's read, the settlement's request reconciles after its commit; kept
after it, the refund's own ``reconcile`` waits for the head lock and finds the donation.
A settlement the writer does not append (recorded before, its reference held by another
donation, refused by a rule) is kept on its own first, like every refund, and the answer
follows from there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Sequence

import asyncpg

from ledger.charity.rules import CharityPolicy, Command
from ledger.clock import Clock
from ledger.errors import (
    AlreadyRecorded,
    DuplicateReferenceError,
    IdempotencyInFlightError,
    InvalidInputError,
    LedgerError,
)
from ledger.formats.valuedates import Calendar
from ledger.journal.appender import Appended, Appender, Intent, append_batch
from ledger.store import charity as P
from ledger.store import gateways as G
from ledger.store.log import Organization, Store
from schemas.charity import DonorPublic
from schemas.gateways import (
    GatewayAck,
    GatewayCorrectionBody,
    GatewayDonationBody,
    NotificationEvidence,
)

SETTLED = "settled"
REFUNDED = "refunded"

PAYMENT_ID = re.compile(r"[\x21-\x7e]{1,80}")
"""What a gateway's payment id must look like to become a reference ``<gateway>:<id>``."""
PAYMENT_ID_FORM = (
    "{field}: expected 1 to 80 printable ASCII characters without spaces; got {found}"
)

CUMULATIVE_REFUNDS = {"midtrans": True, "xendit": False}
"""Whether a gateway's refund notification states the refunded total so far (Midtrans:
``refunds`` lists every refund) or only its own refund (Xendit: one event per refund)."""


IN_FLIGHT_RETRIES = 40
IN_FLIGHT_WAIT = 0.05
"""A settlement whose duplicate is being appended in the same batch asks again every 50 ms,
for up to 2 s, so that every delivery of it is answered 200 (a gateway retries anything
else), never 409."""

def refunded_total(gateway: str, refunds: Sequence[G.NotificationRow]) -> G.NotificationRow:
    """The refund notification that says the most, with the refunded total in ``refunded``."""
    if CUMULATIVE_REFUNDS[gateway]:
        return max(refunds, key=lambda n: (n.refunded, n.occurred_at))
    latest = max(refunds, key=lambda n: n.occurred_at)
    total = sum(n.refunded for n in refunds)
    return dataclasses.replace(latest, refunded=total)


def payment_id_of(value: str | None, field: str) -> str:
    """``value`` as a payment id (400 naming ``field`` when it cannot be one)."""
    if value is None or PAYMENT_ID.fullmatch(value) is None:
        raise InvalidInputError.of(
            PAYMENT_ID_FORM,
            pointer="/" + field.replace(".", "/"),
            field=field,
            found=repr(value)[:100],
        )
    return value


def reference_of(gateway: str, payment_id: str) -> str:
    """The donation reference of a gateway payment: ``midtrans:ORDER-1``."""
    return f"{gateway}:{payment_id}"


async def receive(
    store: Store, appender: Appender, clock: Clock, org: Organization, said: G.NotificationRow
) -> GatewayAck:
    """Keep a verified notification that moves money and bring the log in step with it
    (module docstring): a settlement through the group commit, anything else (a refund, a
    settlement the writer did not append, one whose payment has refunds) through
    ``reconcile`` once it is kept."""
    entries: list[int] = []
    if said.kind == SETTLED:
        outcome, command = await _append_settlement(appender, org, said)
        if isinstance(outcome, Appended):
            # Committed with its inbox row: the donation and what it was made from.
            if not command.refunds_known:
                return GatewayAck(status="recorded", entries=[outcome.index])
            entries.append(outcome.index)
        else:
            refunds = await _keep(store, org, said)
            if not isinstance(outcome, AlreadyRecorded | DuplicateReferenceError):
                raise outcome  # kept: the gateway's retry (or the next notification) tries again
            if isinstance(outcome, AlreadyRecorded) and not refunds:
                return GatewayAck(status="recorded", entries=[])  # a duplicate delivery
            # Refunds known, or the reference held by a donation recorded otherwise:
            # reconcile decides.
    else:
        await _keep(store, org, said)
    settled, more = await reconcile(store, clock, org, said.gateway, said.payment_id)
    return GatewayAck(status="recorded" if settled else "waiting", entries=entries + more)


async def _keep(store: Store, org: Organization, said: G.NotificationRow) -> bool:
    """Keep ``said`` on its own (committed when this returns); for a settlement, whether a
    refund of its payment was kept too (read after the commit)."""
    async with store.connection(settled=True) as conn:  # autocommit statements only
        await G.insert_notification(conn, org.id, said)
        # Kept (committed): from here on the notification cannot be lost, whatever fails next.
        return said.kind == SETTLED and await G.has_refunds(
            conn, org.id, said.gateway, said.payment_id
        )


async def _append_settlement(
    appender: Appender, org: Organization, said: G.NotificationRow
) -> tuple[Appended | LedgerError, Command]:
    """The settlement's donation through the organization's group commit, with its inbox
    row; what the writer answered, and the command (whose ``refunds_known`` the batch set)."""
    for attempt in range(IN_FLIGHT_RETRIES + 1):
        # The value date is set under the head lock from the settlement time
        # (``Command.value_time``); the UTC date here is only a placeholder.
        intent = _settled(said, said.occurred_at.astimezone(dt.UTC).date())
        command: Command = intent.context
        command.value_time = said.occurred_at
        command.inbox = said
        try:
            return await appender.append(org, intent.kind, intent.body, command), command
        except IdempotencyInFlightError as exc:
            # A duplicate delivered at the same moment sits in the same batch: once that
            # batch has committed (or failed), asking again says which.
            if attempt < IN_FLIGHT_RETRIES:
                await asyncio.sleep(IN_FLIGHT_WAIT)
                continue
            return exc, command
        except LedgerError as exc:
            return exc, command
    raise AssertionError("unreachable")  # the loop returns on its last attempt


def _evidence(row: G.NotificationRow) -> NotificationEvidence:
    return NotificationEvidence(
        gateway=row.gateway,  # type: ignore[arg-type]
        event=row.event,
        sha256=row.body_sha256.hex(),
    )


def _settled(row: G.NotificationRow, received_on: dt.date) -> Intent:
    """The donation of a settled payment, keyed so that it is recorded once, whichever path
    (the group-commit writer or ``reconcile``) appends it."""
    intent = _donation(row, row.fund, row.gross, received_on, _evidence(row))
    reference = reference_of(row.gateway, row.payment_id)
    command = intent.context
    command.idem_key = f"{reference}:settled"
    command.request_hash = hashlib.sha256(reference.encode()).digest()
    return intent


def _donation(
    row: G.NotificationRow, fund: str, amount: int, received_on: dt.date, proof: NotificationEvidence
) -> Intent:
    command = Command.of(
        GatewayDonationBody(
            fund=fund,
            amount=amount,
            currency=row.currency,
            received_on=received_on,
            channel=row.channel,  # type: ignore[arg-type]
            reference=reference_of(row.gateway, row.payment_id),
            donor=DonorPublic(commitment=None, display=None),
            message=None,
            notification=proof,
        )
    )
    return Intent(command.kind, command.body, command)


def _correction(
    corrects: int, reason: str, effective_on: dt.date, proof: NotificationEvidence
) -> Intent:
    command = Command.of(
        GatewayCorrectionBody(
            corrects=corrects, reason=reason, effective_on=effective_on, notification=proof
        )
    )
    return Intent(command.kind, command.body, command)


async def _append(
    store: Store,
    conn: asyncpg.Connection,
    org: Organization,
    clock: Clock,
    intents: Sequence[Intent],
) -> list[int]:
    results = await append_batch(
        store, conn, org, intents, policy=CharityPolicy(clock), clock=clock
    )
    indexes = []
    for outcome in results:
        if isinstance(outcome, AlreadyRecorded):
            continue  # the settlement's donation, appended by the writer meanwhile
        if isinstance(outcome, LedgerError):
            raise outcome  # the transaction rolls back; the notification stays kept
        indexes.append(outcome.index)
    return indexes


async def reconcile(
    store: Store, clock: Clock, org: Organization, gateway: str, payment_id: str
) -> tuple[bool, list[int]]:
    """Bring the log in step with what the gateway said of one payment (module docstring).
    Returns whether the payment is known to have settled, and the entries appended now."""
    reference = reference_of(gateway, payment_id)
    appended: list[int] = []
    async with store.connection() as conn, conn.transaction():
        await G.lock_payment(conn, org.id, gateway, payment_id)
        # The head lock before reading: a settlement being appended by the group commit is
        # either committed (and read below) or sees this payment's refunds (module docstring).
        await store.lock_head(conn, org.id)
        said = await G.payment_notifications(conn, org.id, gateway, payment_id)
        settled = next((n for n in said if n.kind == SETTLED), None)
        if settled is None:
            return False, []
        calendar: Calendar = await P.org_calendar(conn, org)
        received_on = calendar.today(settled.occurred_at)
        donations = await G.donations_by_reference(conn, org.id, reference)
        if not donations:
            appended += await _append(store, conn, org, clock, [_settled(settled, received_on)])
            donations = await G.donations_by_reference(conn, org.id, reference)
        refunds = [n for n in said if n.kind == REFUNDED]
        live = [d for d in donations if d.corrected_by is None]
        if refunds and live:
            refund = refunded_total(gateway, refunds)
            current, remaining = live[-1], max(0, settled.gross - refund.refunded)
            if remaining < current.amount:
                proof = _evidence(refund)
                reason = (
                    f"{gateway} refund of payment {payment_id}: {refund.refunded} of "
                    f"{settled.gross} minor units refunded"
                )
                intents = [
                    _correction(current.index, reason, calendar.today(refund.occurred_at), proof)
                ]
                if remaining > 0:
                    intents.append(
                        _donation(settled, current.fund, remaining, received_on, proof)
                    )
                appended += await _append(store, conn, org, clock, intents)
        # Commit point: the donation, the reversal and its replacement, their projections,
        # together. A crash before it leaves only the kept notifications; the gateway's
        # retry (or the next notification of the payment) reconciles again.
    return True, appended
