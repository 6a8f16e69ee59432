"""Signed PDF documents of an organization: its P-256 certificate, receipts, annual receipts.

The certificate is generated on first use and its private key sealed under the KEK, like the
checkpoint keys (``ledger.journal.keys``). Rendering and signing take a core for a while, so they
run in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import msgspec

from ledger.charity import receipts
from ledger.errors import NotFoundError
from ledger.formats.tlogproof import parse_proof
from ledger.formats.valuedates import correction_effective_on
from ledger.journal.keys import seal, unseal
from ledger.store import charity as P
from ledger.store import documents as D
from ledger.store.log import Organization, Store
from reports.pdf.certificates import generate_signing_certificate
from reports.pdf.signing import sign_pdf
from reports.receipt.pdf import (
    AnnualDonation,
    AnnualReceiptData,
    ReceiptData,
    ReversalNote,
    render_annual_receipt,
    render_receipt,
)


@dataclass(frozen=True)
class DocumentSigner:
    """An organization's certificate and (unsealed) private key."""

    cert_der: bytes
    """X.509 certificate, DER."""
    key_der: bytes
    """PKCS#8 private key, DER (in memory only)."""


def _key_id(org_id: int) -> bytes:
    return hashlib.sha256(b"document certificate " + str(org_id).encode()).digest()[:4]


async def document_signer(store: Store, org: Organization, kek: bytes) -> DocumentSigner:
    """The organization's document certificate, created on first use."""
    async with store.connection() as conn:
        stored = await D.document_certificate(conn, org.id)
        if stored is None:
            cert = await asyncio.to_thread(
                generate_signing_certificate, org.name, now=dt.datetime.now(dt.UTC)
            )
            sealed = seal(kek, org.id, _key_id(org.id), cert.key_pkcs8_der)
            await D.insert_document_certificate(conn, org.id, cert.cert_der, sealed)
            stored = await D.document_certificate(conn, org.id)
            assert stored is not None  # inserted above, or by a concurrent first use
    key = unseal(kek, org.id, _key_id(org.id), stored.sealed_key)
    return DocumentSigner(stored.cert_der, key)


async def certificate(store: Store, org: Organization, kek: bytes) -> bytes:
    return (await document_signer(store, org, kek)).cert_der


def _sign(pdf: bytes, signer: DocumentSigner, org: Organization, reason: str) -> bytes:
    return sign_pdf(
        pdf,
        signer.cert_der,
        signer.key_der,
        reason=reason,
        location=org.origin,
        signing_time=dt.datetime.now(dt.UTC),
    )


def verify_link(public_url: str, slug: str, index: int) -> str:
    """The link a receipt's QR code holds: the public verify page for that entry, which opens
    with the entry's public receipt (its proofs, no personal data) filled in and checks it."""
    return f"{public_url}/verify?org={quote(slug)}&entry={index}"


async def receipt_pdf(
    store: Store, org: Organization, kek: bytes, index: int, lang: str, verify_base: str
) -> bytes:
    """A PAdES-signed receipt for one donation, with its tlog-proof attached."""
    data = await receipts.receipt(store, org, kek, index)
    proof = parse_proof(data["tlog_proof"])
    entry = json.loads(proof.extra or b"{}")
    body = entry["body"]
    cp_lines = proof.checkpoint.split("\n")
    fund = (await _funds(store, org, [body["fund"]]))[body["fund"]]
    receipt_data = ReceiptData(
        org_name=org.name,
        fund_name=fund.name,
        amount=body["amount"],
        currency=body["currency"],
        minor_units=fund.minor_units,
        received_on=dt.date.fromisoformat(body["received_on"]),
        channel=body["channel"],
        reference=body["reference"],
        donor_display=body["donor"]["display"],
        origin=org.origin,
        index=index,
        tree_size=int(cp_lines[1]),
        root_b64=cp_lines[2],
        checkpoint_note=proof.checkpoint,
        tlog_proof=data["tlog_proof"],
        verify_url=verify_link(verify_base, org.slug, index),
        receipt_json=json.dumps(data, ensure_ascii=False).encode(),
        reversal=_reversal_note(data),
    )
    signer = await document_signer(store, org, kek)

    def build() -> bytes:
        pdf = render_receipt(receipt_data, lang, now=dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
        return _sign(
            pdf, signer, org, "Donation receipt" if lang == "en" else "Tanda terima donasi"
        )

    return await asyncio.to_thread(build)


async def annual_receipt_pdf(
    store: Store,
    org: Organization,
    kek: bytes,
    lookups: Sequence[bytes],
    year: int,
    lang: str,
    verify_base: str,
) -> bytes:
    """One donor's donations in one year, each with its proof attached; PAdES-signed."""
    async with store.connection() as conn:
        donations = await D.donations_of_donor(conn, org.id, lookups)
    found = []
    for donation in donations:
        body = msgspec.json.decode(donation.body)["body"]
        if body["received_on"].startswith(f"{year}-"):
            found.append((donation.index, body))
    if not found:
        raise NotFoundError(f"no donations by that donor in {year}")
    currencies = {b["currency"] for _, b in found}
    if len(currencies) != 1:
        raise NotFoundError("the donor gave in several currencies; ask per currency")
    currency = currencies.pop()
    funds = await _funds(store, org, {b["fund"] for _, b in found})
    exponents = {funds[b["fund"]].minor_units for _, b in found}
    if len(exponents) != 1:
        raise NotFoundError("the donor's funds recorded different exponents; ask per fund")
    donations = []
    for index, body in found:
        data = await receipts.receipt(store, org, kek, index)
        donations.append(
            AnnualDonation(
                received_on=dt.date.fromisoformat(body["received_on"]),
                fund_name=funds[body["fund"]].name,
                reference=body["reference"],
                amount=body["amount"],
                index=index,
                tlog_proof=data["tlog_proof"],
                receipt_json=json.dumps(data, ensure_ascii=False).encode(),
                reversal=_reversal_note(data),
            )
        )
    display = found[-1][1]["donor"]["display"]
    annual = AnnualReceiptData(
        org_name=org.name,
        donor_display=display,
        year=year,
        currency=currency,
        minor_units=exponents.pop(),
        origin=org.origin,
        donations=tuple(donations),
        verify_url=f"{verify_base}/verify?org={quote(org.slug)}",
    )
    signer = await document_signer(store, org, kek)

    def build() -> bytes:
        pdf = render_annual_receipt(annual, lang, now=dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
        return _sign(pdf, signer, org, f"Annual donation receipt {year}")

    return await asyncio.to_thread(build)


async def _funds(store: Store, org: Organization, codes: Iterable[str]) -> dict[str, P.FundRow]:
    """The funds, with the exponent each one's entry recorded (every donation's fund exists:
    the log refuses a donation to an unknown fund)."""
    async with store.connection() as conn:
        return await P.funds(conn, org.id, codes)


def _reversal_note(receipt: dict) -> ReversalNote | None:
    """What the PDF prints about the correction that reversed the donation, read from the
    receipt's own ``reversal_proof`` (the proof the PDF attaches), so page and proof agree."""
    if receipt.get("reversal_proof") is None:
        return None
    document = json.loads(parse_proof(receipt["reversal_proof"]).extra or b"{}")
    return ReversalNote(
        index=document["index"],
        effective_on=correction_effective_on(document["body"], document["time"]),
        reason=document["body"]["reason"],
    )
