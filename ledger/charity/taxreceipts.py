"""Tax receipts: the proof a donor deducts a gift with, one per donation.

* **Zakat** (PMK 114/2025 art. 9, replacing PMK 254/2010): a *Bukti Setor Zakat* with (1) its
  number and date, (2) the payer's NPWP or NIK and full name, (3) the amount, (4) the
  receiving body's name and NPWP, (5) a validation, here the organization's PAdES signature
  plus the log proof and QR code of the donor receipt.
* **Other deductible gifts** (PP 93/2010, PMK 76/2011: national disaster relief, research and
  development, education facilities, sport, social infrastructure): the same fields, the
  category, and the note that the deduction is capped at 5% of the donor's net income of the
  previous year.

What is read, and when:

* the tax category is the fund's **as of the donation** (the newest ``fund.classified``
  entry before it: a classification applies from its entry on, docs/FORMAT.md section 6);
* the receiving body's name and NPWP are the **newest** ``org.profile`` (the identity the
  organization has when it issues the receipt);
* the payer's identity is the donor record (``full_name`` and ``npwp`` or ``nik``), off the
  log; after an erasure there is none, and no receipt can be given any more.

A receipt is refused, with the reason (``ledger.errors``), for a reversed donation, a fund
without a tax category, an organization without an NPWP and a donor without an NPWP or NIK
and full name. Its number is ``BSZ/<year>/<index>`` (zakat) or ``BSP/<year>/<index>`` (other
gifts): the value date's year and the donation's entry index, unique in the organization's log
and the same every time the receipt is fetched.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledger.charity import receipts
from ledger.charity.documents import document_signer, verify_link
from ledger.charity.reversals import reversal_of
from ledger.errors import (
    DonationReversedError,
    NotDeductibleError,
    NotFoundError,
    TaxIdentityMissingError,
)
from ledger.formats.tlogproof import parse_proof
from ledger.messages import Term
from ledger.store import charity as P
from ledger.store import compliance as S
from ledger.store.log import Organization, Store
from reports.pdf.signing import sign_pdf
from reports.tax.data import Payer, Recipient, TaxReceiptData
from reports.tax.pdf import render_tax_receipt
from schemas import kinds
from schemas.compliance import FundClassifiedBody, FundPermitBody, OrgProfileBody

ZAKAT_PREFIX = "BSZ"
"""Bukti Setor Zakat."""
GIFT_PREFIX = "BSP"
"""Bukti Sumbangan (deductible under PP 93/2010)."""

REVERSED = (
    "donation {index} was reversed by entry {by} on {day} ({reason}): a reversed donation "
    "gets no tax receipt"
)
NOT_DEDUCTIBLE = (
    "fund {fund} had no tax category when donation {index} was recorded, so the gift is not "
    "deductible and gets no tax receipt; an admin classifies a fund with POST "
    "…/funds/{fund}/classification (tax_category zakat, disaster, education, research, sport "
    "or social_infrastructure), which applies to donations recorded after it"
)
CLASSIFIED_LATER = (
    "fund {fund} was given tax category {category} by entry {classified}, after donation "
    "{index} was recorded: a classification applies only to donations recorded after it, so "
    "this gift gets no tax receipt"
)
NO_ORG_NPWP = (
    "the organization's profile has no NPWP: a tax receipt must show the receiving body's "
    "name and NPWP (PMK 114/2025 art. 9; PMK 76/2011); an admin records them with POST "
    "…/profile"
)
NO_DONOR_ID = (
    "the donor of donation {index} gave no {missing}: a tax receipt must show the payer's "
    "NPWP or NIK and full name (PMK 114/2025 art. 9); they are given with the donation, in "
    "its donor member (npwp or nik, and full_name)"
)
DONOR_ERASED = (
    "the donor's personal data of donation {index} was erased on {day} at their request (UU "
    "PDP): no tax receipt can show their NPWP or NIK and name any more"
)
MISSING_ID = "NPWP or NIK"
MISSING_NAME = "full name"
MISSING_BOTH = "NPWP or NIK, nor full name"


def receipt_number(category: str, received_on: dt.date, index: int) -> str:
    """``BSZ/2026/1234`` (zakat) or ``BSP/2026/1234`` (other deductible gifts)."""
    prefix = ZAKAT_PREFIX if category == "zakat" else GIFT_PREFIX
    return f"{prefix}/{received_on.year}/{index}"


def recipient_of(profile: OrgProfileBody | None, index: int | None) -> Recipient:
    """The receiving body as the organization's newest profile records it, or
    ``TaxIdentityMissingError`` when it has no NPWP."""
    if profile is None or profile.npwp is None:
        raise TaxIdentityMissingError.of(NO_ORG_NPWP)
    return Recipient(
        legal_name=profile.legal_name,
        npwp=profile.npwp,
        address=profile.address,
        zakat_license=profile.zakat_license,
        profile_index=index,
    )


def tax_identity(personal: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(full_name, npwp, nik) of a donor record's personal data (Nones when absent)."""
    p = personal or {}
    return p.get("full_name"), p.get("npwp"), p.get("nik")


def payer_of(
    index: int, record: tuple[bytes | None, dict[str, Any] | None, dt.datetime | None] | None
) -> Payer:
    """The payer of donation ``index`` from its donor record, or ``TaxIdentityMissingError``
    saying what is missing (or that it was erased)."""
    if record is not None and record[2] is not None:
        raise TaxIdentityMissingError.of(
            DONOR_ERASED, index=index, day=record[2].date().isoformat()
        )
    full_name, npwp, nik = tax_identity(record[1] if record else None)
    if not full_name or not (npwp or nik):
        missing = (
            MISSING_BOTH if not full_name and not (npwp or nik)
            else MISSING_NAME if not full_name
            else MISSING_ID
        )  # fmt: skip
        raise TaxIdentityMissingError.of(NO_DONOR_ID, index=index, missing=Term(missing))
    return Payer(full_name=full_name, npwp=npwp, nik=nik)


class CategoryHistory:
    """Each fund's tax category over the log: ``at(fund, index)`` is the category of the
    newest ``fund.classified`` entry of the fund before ``index``."""

    def __init__(self, entries: Iterable[tuple[int, FundClassifiedBody | FundPermitBody]]):
        self._by_fund: dict[str, tuple[list[int], list[str | None]]] = {}
        for index, body in entries:
            if isinstance(body, FundClassifiedBody):
                idxs, cats = self._by_fund.setdefault(body.fund, ([], []))
                idxs.append(index)
                cats.append(body.tax_category)

    def at(self, fund: str, index: int) -> str | None:
        idxs, cats = self._by_fund.get(fund, ([], []))
        position = bisect.bisect_left(idxs, index)
        return cats[position - 1] if position else None

    def later(self, fund: str, index: int) -> tuple[int, str] | None:
        """The first classification after ``index`` that gives the fund a category."""
        idxs, cats = self._by_fund.get(fund, ([], []))
        for i, c in zip(idxs, cats, strict=True):
            if i > index and c is not None:
                return i, c
        return None

    def funds_ever(self, category: str) -> list[str]:
        """The funds that had ``category`` at some point."""
        return sorted(f for f, (_, cats) in self._by_fund.items() if category in cats)


@dataclass(frozen=True)
class _Checked:
    """What a tax receipt needs, once every refusal has been ruled out."""

    body: dict[str, Any]
    category: str
    recipient: Recipient
    payer: Payer
    fund: P.FundRow


async def _check(store: Store, org: Organization, index: int) -> _Checked:
    """The receipt's facts, or the refusal (in this order: not a donation, reversed, not
    deductible, no organization NPWP, no donor identity)."""
    async with store.connection() as conn:
        entry = await store.entry(org.id, index, conn)
        if entry.kind != kinds.DONATION:
            raise NotFoundError(f"entry {index} of {org.slug} is a {entry.kind}, not a donation")
        reversal = await reversal_of(store, org.id, index, conn)
        if reversal is not None:
            raise DonationReversedError.of(
                REVERSED,
                index=index,
                by=reversal.index,
                day=reversal.effective_on.isoformat(),
                reason=reversal.reason,
            )
        body = json.loads(entry.body)["body"]
        found = await S.compliance_entries(conn, org.id)
        history = CategoryHistory(found.funds)
        category = history.at(body["fund"], index)
        if category is None:
            later = history.later(body["fund"], index)
            if later is not None:
                raise NotDeductibleError.of(
                    CLASSIFIED_LATER,
                    fund=body["fund"],
                    category=later[1],
                    classified=later[0],
                    index=index,
                )
            raise NotDeductibleError.of(NOT_DEDUCTIBLE, fund=body["fund"], index=index)
        recipient = recipient_of(found.profile, found.profile_index)
        payer = payer_of(index, await P.donor_record(conn, org.id, index))
        fund = (await P.funds(conn, org.id, [body["fund"]]))[body["fund"]]
    return _Checked(body, category, recipient, payer, fund)


async def available(store: Store, org: Organization, index: int) -> bool:
    """Whether donation ``index`` gets a tax receipt now (the donor's page offers it then)."""
    try:
        await _check(store, org, index)
    except (DonationReversedError, NotDeductibleError, TaxIdentityMissingError, NotFoundError):
        return False
    return True


async def tax_receipt_data(
    store: Store, org: Organization, kek: bytes, index: int, verify_base: str
) -> TaxReceiptData:
    """Everything the tax receipt of donation ``index`` prints, or the refusal."""
    checked = await _check(store, org, index)
    body, category, fund = checked.body, checked.category, checked.fund
    payer, recipient = checked.payer, checked.recipient
    receipt = await receipts.receipt(store, org, kek, index)
    proof = parse_proof(receipt["tlog_proof"])
    cp_lines = proof.checkpoint.split("\n")
    received_on = dt.date.fromisoformat(body["received_on"])
    return TaxReceiptData(
        number=receipt_number(category, received_on, index),
        received_on=received_on,
        category=category,  # type: ignore[arg-type]
        amount=body["amount"],
        currency=body["currency"],
        minor_units=fund.minor_units,
        fund_name=fund.name,
        fund_code=fund.code,
        payer=payer,
        recipient=recipient,
        origin=org.origin,
        index=index,
        tree_size=int(cp_lines[1]),
        root_b64=cp_lines[2],
        verify_url=verify_link(verify_base, org.slug, index),
        tlog_proof=receipt["tlog_proof"],
        receipt_json=json.dumps(receipt, ensure_ascii=False).encode(),
    )


async def tax_receipt_pdf(
    store: Store, org: Organization, kek: bytes, index: int, lang: str, verify_base: str
) -> tuple[bytes, str]:
    """The PAdES-signed tax receipt of donation ``index`` and its number."""
    data = await tax_receipt_data(store, org, kek, index, verify_base)
    signer = await document_signer(store, org, kek)

    def build() -> bytes:
        now = dt.datetime.now(dt.UTC)
        pdf = render_tax_receipt(data, lang, now=now)  # type: ignore[arg-type]
        reason = "Bukti setor zakat" if data.category == "zakat" else "Bukti sumbangan"
        return sign_pdf(
            pdf, signer.cert_der, signer.key_der, reason=f"{reason} {data.number}",
            location=org.origin, signing_time=now,
        )  # fmt: skip

    return await asyncio.to_thread(build), data.number


def file_name(slug: str, number: str, lang: str) -> str:
    """``tax-receipt-<slug>-BSZ-2026-1234-id.pdf``."""
    return f"tax-receipt-{slug}-{number.replace('/', '-')}-{lang}.pdf"
