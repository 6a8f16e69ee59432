"""The recipients' own word: enrolment links, acknowledgments and disputes, and their proofs.

A charity's admin makes a one-time enrolment link for a beneficiary (an orphanage). The
orphanage opens it on its own phone: its browser makes an Ed25519 key, keeps the private
key, and sends the public key, which is recorded as a ``beneficiary.key`` entry. The token
is the entry's Idempotency-Key, so one link records one key, atomically with the entry
(``ledger.charity.recording``); the token itself is stored only as a SHA-256.

For each disbursement the orphanage then signs the message of
``ledger.formats.acknowledgment`` and the signature is recorded as a
``disbursement.acknowledged`` or ``disbursement.disputed`` entry, after the rules
(``ledger.charity.rules``) checked it under the log-head lock. :func:`bundle` gathers the
proofs ``ledger-verify acknowledgment`` checks offline.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets

from ledger.charity import receipts
from ledger.charity.rules import Command, disbursed_of
from ledger.errors import (
    EnrolmentLinkUsedError,
    InvalidInputError,
    NotFoundError,
    UnknownBeneficiaryError,
)
from ledger.formats import acknowledgment
from ledger.formats.valuedates import DEFAULT_TIME_ZONE, zone
from ledger.messages import Language, Money, render
from ledger.store import charity as P
from ledger.store import recipients as R
from ledger.store.log import Organization, Store
from ledger.verify.acknowledgments import ACK_FORMAT, AcknowledgmentProven
from reports.pdf.localization import format_day
from schemas.charity import Purpose
from schemas.recipients import (
    AcknowledgedBody,
    AcknowledgmentCreate,
    AcknowledgmentView,
    BeneficiaryKeyBody,
    DisputedBody,
    EnrolmentLink,
    EnrolmentView,
    SignedMessage,
)

ENROL_PAGE = "/daftar/"
"""Where an enrolment link opens (the site's page, ``ledger.http.site``)."""
ENROL_KEY_PREFIX = "enrol:"
"""Idempotency-Keys of enrolments: this prefix and the hex SHA-256 of the token."""


LINK_UNKNOWN = "this enrolment link is unknown or expired: ask the charity for a new one"
LINK_USED = (
    "this enrolment link already recorded a key; to enrol a new phone, ask the charity for a "
    "new link (the old key stays published for old signatures)"
)
DISPUTE_NEEDS_RECEIVED = "a dispute says how much arrived: received (minor units, 0 for nothing)"
LINK_TEMPLATES = (LINK_UNKNOWN, LINK_USED, DISPUTE_NEEDS_RECEIVED)
"""Refusals of this module, each with its Indonesian text in the catalog."""

ACKNOWLEDGED_SAID = "{name} signed that it received {amount} on {date}."
DISPUTED_SAID = (
    "{name} signed a dispute: of {amount} recorded as disbursed on {date}, it received "
    "{received}."
)
SAID_TEMPLATES = (ACKNOWLEDGED_SAID, DISPUTED_SAID)
"""What a proven acknowledgment or dispute says in plain words (catalog: Indonesian)."""


def local_today(now: dt.datetime) -> dt.date:
    """Today in Asia/Jakarta (WIB), for "awaiting since N days"."""
    return now.astimezone(zone(DEFAULT_TIME_ZONE)).date()


def said(proven: AcknowledgmentProven, lang: Language) -> str:
    """The recipient's signed word in plain ``lang``: "Panti X menandatangani bahwa telah
    menerima Rp Y pada tanggal D" (D: the disbursement's value date), or the dispute."""
    body = proven.disbursement.document["body"]
    exponent = proven.disbursement.minor_units or 0
    amount = Money(body["amount"], body["currency"], exponent)
    params = {
        "name": proven.beneficiary_name or proven.beneficiary,
        "amount": amount,
        "received": Money(proven.received, body["currency"], exponent),
        "date": format_day(dt.date.fromisoformat(body["paid_on"]), lang),
    }
    if proven.verdict == acknowledgment.ACKNOWLEDGED:
        return render(ACKNOWLEDGED_SAID, params, lang)
    return render(DISPUTED_SAID, params, lang)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def enrol_key(token: str) -> str:
    """The Idempotency-Key of the one ``beneficiary.key`` entry a link may record."""
    return ENROL_KEY_PREFIX + token_hash(token).hex()


async def create_link(
    store: Store, org: Organization, beneficiary: str, valid_days: int, now: dt.datetime
) -> EnrolmentLink:
    """A new one-time link for ``beneficiary``; its token is in the answer and nowhere else."""
    token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(days=valid_days)
    async with store.connection() as conn, conn.transaction():
        if not await P.beneficiary_history(conn, org.id, beneficiary):
            raise UnknownBeneficiaryError(
                f"no beneficiary {beneficiary!r} in this organization: register it first"
            )
        await R.insert_enrolment_link(conn, token_hash(token), org.id, beneficiary, expires)
    return EnrolmentLink(
        beneficiary=beneficiary, token=token, path=ENROL_PAGE + token, expires_at=expires
    )


async def link(store: Store, token: str, now: dt.datetime) -> tuple[R.EnrolmentLinkRow, bool]:
    """The link of ``token`` and whether it recorded a key already; ``NotFoundError`` for
    a token that is unknown or expired (the same answer: a guess learns nothing)."""
    async with store.connection() as conn:
        row = await R.enrolment_link(conn, token_hash(token))
        if row is None or row.expires_at <= now:
            raise NotFoundError.of(LINK_UNKNOWN)
        used = await P.idempotency(conn, row.org_id, enrol_key(token))
    return row, used is not None


async def enrolment_view(store: Store, token: str, now: dt.datetime) -> EnrolmentView:
    row, used = await link(store, token, now)
    org = await store.organization(row.slug)
    async with store.connection() as conn:
        versions = await P.beneficiary_history(conn, org.id, row.beneficiary)
    return EnrolmentView(
        org=org.slug,
        org_name=org.name,
        origin=org.origin,
        beneficiary=row.beneficiary,
        beneficiary_name=versions[-1].name if versions else row.beneficiary,
        expires_at=row.expires_at,
        used=used,
    )


async def enrol_command(
    store: Store, token: str, public_key: str, now: dt.datetime
) -> tuple[Organization, Command]:
    """The command that records the link's key. A used link refuses another key; the same
    key again is the first answer replayed."""
    row, used = await link(store, token, now)
    digest = hashlib.sha256(b"enrol\x00" + public_key.encode()).digest()
    if used:
        async with store.connection() as conn:
            stored = await P.idempotency(conn, row.org_id, enrol_key(token))
        if stored is not None and stored.request_hash != digest:
            raise EnrolmentLinkUsedError.of(LINK_USED, pointer="/public_key")
    org = await store.organization(row.slug)
    acknowledgment.decode_public_key(public_key)
    body = BeneficiaryKeyBody(beneficiary=row.beneficiary, public_key=public_key)
    return org, Command.of(body, idem_key=enrol_key(token), request_hash=digest)


async def _facts(store: Store, org: Organization, index: int) -> R.DisbursementFacts:
    async with store.connection() as conn:
        found = (await R.disbursements(conn, org.id, [index])).get(index)
    if found is None:
        raise NotFoundError(f"entry {index} of {org.slug} is not a disbursement")
    return found


def signed_message(org: Organization, facts: R.DisbursementFacts) -> SignedMessage:
    d = disbursed_of(org, facts)
    return SignedMessage(
        origin=d.origin,
        org=d.org,
        beneficiary=d.beneficiary,
        disbursement=d.index,
        leaf_hash=base64.b64encode(d.leaf_hash).decode(),
        amount=d.amount,
        currency=d.currency,
        minor_units=d.minor_units,
        paid_on=facts.paid_on,
    )


def view_of(
    org: Organization,
    facts: R.DisbursementFacts,
    key: R.BeneficiaryKey | None,
    today: dt.date,
) -> AcknowledgmentView:
    """A disbursement's status as its recipient left it (or awaiting since its value date)."""
    body = json.loads(facts.entry)["body"]
    purpose: Purpose = body["purpose"]
    status = facts.verdict or "awaiting"
    received = facts.received if facts.verdict == acknowledgment.DISPUTED else None
    if facts.verdict == acknowledgment.ACKNOWLEDGED:
        received = facts.amount
    return AcknowledgmentView(
        disbursement=facts.index,
        status=status,  # type: ignore[arg-type]
        awaiting_days=max(0, (today - facts.paid_on).days) if facts.verdict is None else None,
        entry=facts.ack_index,
        received=received,
        key=key.index if key is not None else None,
        public_key=base64.b64encode(key.public_key).decode() if key else None,
        message=signed_message(org, facts),
        purpose=purpose,
        reference=body["reference"],
        reversed_by=facts.corrected_by,
    )


async def acknowledgment_view(
    store: Store, org: Organization, index: int, today: dt.date
) -> AcknowledgmentView:
    facts = await _facts(store, org, index)
    async with store.connection() as conn:
        key = (await R.current_keys(conn, org.id, [facts.beneficiary])).get(facts.beneficiary)
    return view_of(org, facts, key, today)


async def beneficiary_views(
    store: Store, org: Organization, beneficiary: str, today: dt.date
) -> list[AcknowledgmentView]:
    """The newest disbursements to ``beneficiary`` with their status, newest first."""
    async with store.connection() as conn:
        indexes = await R.disbursements_of(conn, org.id, beneficiary)
        facts = await R.disbursements(conn, org.id, indexes)
        key = (await R.current_keys(conn, org.id, [beneficiary])).get(beneficiary)
    return [view_of(org, facts[i], key, today) for i in indexes if i in facts]


def _add(into: dict[tuple[str, str], R.Share], key: tuple[str, str], s: R.Share) -> None:
    old = into.get(key)
    if old is None:
        into[key] = s
        return
    into[key] = R.Share(
        s.currency,
        old.disbursed + s.disbursed,
        old.acknowledged + s.acknowledged,
        old.disputed + s.disputed,
        old.disbursements + s.disbursements,
        old.acknowledged_count + s.acknowledged_count,
        old.disputed_count + s.disputed_count,
    )


async def shares(
    store: Store, org: Organization
) -> tuple[dict[str, list[R.Share]], dict[str, list[R.Share]]]:
    """The acknowledged share of unreversed disbursements per fund and per beneficiary
    (one list per code, one share per currency): of what was disbursed, how much its
    recipients acknowledged, and how much they disputed."""
    by_fund: dict[tuple[str, str], R.Share] = {}
    by_beneficiary: dict[tuple[str, str], R.Share] = {}
    async with store.connection() as conn:
        for fund, beneficiary, share in await R.acknowledged_shares(conn, org.id):
            _add(by_fund, (fund, share.currency), share)
            _add(by_beneficiary, (beneficiary, share.currency), share)
    funds: dict[str, list[R.Share]] = {}
    for (code, _), share in sorted(by_fund.items()):
        funds.setdefault(code, []).append(share)
    beneficiaries: dict[str, list[R.Share]] = {}
    for (code, _), share in sorted(by_beneficiary.items()):
        beneficiaries.setdefault(code, []).append(share)
    return funds, beneficiaries


async def awaiting_views(
    store: Store, org: Organization, today: dt.date, limit: int
) -> list[AcknowledgmentView]:
    """The disbursements still awaiting their recipient's word, oldest value date first."""
    async with store.connection() as conn:
        indexes = await R.awaiting(conn, org.id, limit)
        facts = await R.disbursements(conn, org.id, indexes)
        keys = await R.current_keys(conn, org.id, {f.beneficiary for f in facts.values()})
    return [view_of(org, facts[i], keys.get(facts[i].beneficiary), today) for i in indexes]


async def acknowledgment_body(
    store: Store, org: Organization, index: int, data: AcknowledgmentCreate
) -> AcknowledgedBody | DisputedBody:
    """The entry a signed request asks for (the rules check it again under the head lock,
    so this reads only who it went to, on a connection returned without the reset query)."""
    async with store.connection(settled=True) as conn:
        beneficiary = await R.disbursement_beneficiary(conn, org.id, index)
    if beneficiary is None:
        raise NotFoundError(f"entry {index} of {org.slug} is not a disbursement")
    common = {
        "disbursement": index,
        "beneficiary": beneficiary,
        "key": data.key,
        "signature": data.signature,
    }
    if data.verdict == acknowledgment.DISPUTED:
        if data.received is None:
            raise InvalidInputError.of(DISPUTE_NEEDS_RECEIVED, pointer="/received")
        return DisputedBody(received=data.received, **common)
    return AcknowledgedBody(**common)


async def bundle(store: Store, org: Organization, kek: bytes, index: int) -> dict:
    """The offline proof of a disbursement's acknowledgment or dispute
    (``donation-ledger-acknowledgment/v1``, docs/FORMAT.md section 8): the statement entry,
    the disbursement, its fund's ``fund.created``, every key the beneficiary enrolled up to
    the checkpoint, the beneficiary's record in force at the disbursement (its name) and
    entry 0 (the organization's name), all under one checkpoint."""
    facts = await _facts(store, org, index)
    if facts.ack_index is None:
        raise NotFoundError(
            f"disbursement {index} of {org.slug} is not acknowledged or disputed yet"
        )
    async with store.connection() as conn:
        history = await R.key_history(conn, org.id, facts.beneficiary)
        fund = (await P.funds(conn, org.id, [facts.fund]))[facts.fund]
        versions = await P.beneficiary_history(conn, org.id, facts.beneficiary)
        # The record in force when the money was disbursed: the name the donor reads.
        record = max(v.entry_idx for v in versions if v.entry_idx < index)
        _, ack_proof, size = await receipts._tlog_proof(store, org, kek, facts.ack_index, conn)
        proof_of = {}
        keys = [k.index for k in history if k.index < size]
        for i in (index, fund.entry_idx, record, 0, *keys):
            proof_of[i] = (await receipts._tlog_proof(store, org, kek, i, conn, size))[1]
    return {
        "format": ACK_FORMAT,
        "acknowledgment_proof": ack_proof,
        "disbursement_proof": proof_of[index],
        "fund_proof": proof_of[fund.entry_idx],
        "key_proofs": [proof_of[k] for k in keys],
        "beneficiary_proof": proof_of[record],
        "org_proof": proof_of[0],
    }
