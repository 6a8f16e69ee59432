"""What a receipt says, as plain values (no ledger types), checked at construction: the
data of :func:`reports.receipt.pdf.render_receipt` and ``render_annual_receipt``, which
the page layouts (``reports.receipt.layout`` and ``.annual``) draw."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from reports.errors import ReportDataError
from reports.pdf.localization import check_money


@dataclass(frozen=True)
class ReversalNote:
    """The correction entry that reversed a donation. A receipt that has one is printed
    with a DIBATALKAN / REVERSED banner; an annual receipt lists the donation as reversed
    and leaves it out of the total."""

    index: int
    """Index of the correction entry in the log (later than the donation's)."""

    effective_on: dt.date
    """The correction's value date (its ``effective_on``; one written before value dates
    existed: the day it was recorded, in Asia/Jakarta): the day the reversal is shown with."""

    reason: str
    """The reason the correction gives (public, in the log)."""

    def __post_init__(self) -> None:
        _check_index(self.index)
        _check_text("reversal reason", self.reason)


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on, and attached to, a one-donation receipt.

    The whole rendered document is covered by the organization's PDF
    signature. The log fields (origin, index, tree_size, root_b64,
    checkpoint_note, tlog_proof) are additionally committed to by the log's
    signed checkpoint, which is what an offline verifier checks.
    """

    org_name: str
    """Receiving organization, as registered; also the signing certificate's CN."""

    fund_name: str
    """The fund or programme the donation was given to."""

    amount: int
    """Amount in integer minor units of ``currency`` (125000000 = Rp 1.250.000 with 2 minor units)."""

    currency: str
    """ISO 4217 code, e.g. ``IDR``."""

    minor_units: int
    """Decimal exponent the ledger uses for ``currency`` (2 for IDR in this ledger)."""

    received_on: dt.date
    """Date the organization received the money."""

    channel: str
    """How the money arrived (bank transfer, QRIS, cash…), as the ledger names it."""

    reference: str
    """The organization's or payment provider's reference for this donation."""

    donor_display: str | None
    """The donor's name as they chose to show it; None prints "Anonim"/"Anonymous".
    Printed on the PDF only; the public log holds no personal data in the clear."""

    origin: str
    """Log origin line (c2sp.org/tlog-checkpoint), e.g. ``ledger.example.org/yayasan``."""

    index: int
    """Index of the donation's entry in the log (0-based)."""

    tree_size: int
    """Size of the tree of the checkpoint the proof is against; greater than ``index``."""

    root_b64: str
    """Base64 of the 32-byte Merkle root at ``tree_size`` (RFC 9162 section 2.1)."""

    checkpoint_note: str
    """The signed checkpoint, as the full c2sp.org/signed-note text."""

    tlog_proof: str
    """The c2sp.org/tlog-proof text; attached as ``receipt-<index>.tlog-proof``."""

    verify_url: str
    """URL of the public page for this entry; encoded in the QR code."""

    receipt_json: bytes | None = None
    """The JSON receipt, attached as ``receipt-<index>.json`` when not None."""

    reversal: ReversalNote | None = None
    """The correction that reversed this donation, if one did: printed as a banner."""

    def __post_init__(self) -> None:
        check_money(self.amount, self.currency, self.minor_units)
        if self.reversal is not None and self.reversal.index <= self.index:
            raise ReportDataError(
                f"expected the reversing entry after the donation {self.index}, "
                f"got {self.reversal.index}"
            )
        _check_text("org_name", self.org_name)
        _check_text("origin", self.origin)
        _check_text("tlog_proof", self.tlog_proof)
        _check_text("verify_url", self.verify_url)
        _check_index(self.index)
        if (
            isinstance(self.tree_size, bool)
            or not isinstance(self.tree_size, int)
            or self.tree_size <= self.index
        ):
            raise ReportDataError(
                f"expected tree_size greater than the entry index {self.index}, got {self.tree_size!r}"
            )
        try:
            root = base64.b64decode(self.root_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ReportDataError(
                f"expected root_b64 as standard base64, got {self.root_b64!r}"
            ) from exc
        if len(root) != 32:
            raise ReportDataError(f"expected a 32-byte SHA-256 root, got {len(root)} bytes")


@dataclass(frozen=True)
class AnnualDonation:
    """One row of an annual receipt, with the proof attached for it."""

    received_on: dt.date
    """Date received; must fall in the receipt's year."""

    fund_name: str
    """The fund or programme given to."""

    reference: str
    """The organization's or payment provider's reference."""

    amount: int
    """Amount in integer minor units of the receipt's currency."""

    index: int
    """Index of the entry in the log; unique within the receipt."""

    tlog_proof: str
    """The c2sp.org/tlog-proof text; attached as ``receipt-<index>.tlog-proof``."""

    receipt_json: bytes | None = None
    """The JSON receipt, attached as ``receipt-<index>.json`` when not None."""

    reversal: ReversalNote | None = None
    """The correction that reversed it: listed as reversed, left out of the total."""


@dataclass(frozen=True)
class AnnualReceiptData:
    """One donor's donations to one organization in one calendar year.

    The whole rendered document is covered by the organization's PDF signature;
    each row is also provable offline from its attached tlog-proof.
    """

    org_name: str
    """Receiving organization; also the signing certificate's CN."""

    donor_display: str | None
    """The donor's name as they chose to show it; None prints "Anonim"/"Anonymous"."""

    year: int
    """The calendar year covered."""

    currency: str
    """ISO 4217 code shared by every donation (totals are never converted)."""

    minor_units: int
    """Decimal exponent of ``currency`` in the ledger."""

    origin: str
    """Origin line of the log every donation is recorded in."""

    donations: tuple[AnnualDonation, ...]
    """The donations, any order; printed sorted by date, then log index."""

    verify_url: str | None = None
    """Optional public page for this donor-year; encoded in a QR code when given."""

    def __post_init__(self) -> None:
        _check_text("org_name", self.org_name)
        _check_text("origin", self.origin)
        check_money(0, self.currency, self.minor_units)
        if not self.donations:
            raise ReportDataError("expected at least one donation in an annual receipt, got none")
        seen: set[int] = set()
        for donation in self.donations:
            check_money(donation.amount, self.currency, self.minor_units)
            _check_index(donation.index)
            _check_text("tlog_proof", donation.tlog_proof)
            if donation.received_on.year != self.year:
                raise ReportDataError(
                    f"expected donations received in {self.year}, entry {donation.index} "
                    f"was received on {donation.received_on.isoformat()}"
                )
            if donation.index in seen:
                raise ReportDataError(
                    f"expected each log index once, entry {donation.index} repeats"
                )
            seen.add(donation.index)

    @property
    def counted(self) -> tuple[AnnualDonation, ...]:
        """The donations that count: those no correction reversed."""
        return tuple(d for d in self.donations if d.reversal is None)

    @property
    def reversed(self) -> tuple[AnnualDonation, ...]:
        """The donations a correction reversed: listed, never counted."""
        return tuple(d for d in self.donations if d.reversal is not None)

    @property
    def total(self) -> int:
        """Sum of the donations that count (reversed ones excluded), in minor units."""
        return sum(donation.amount for donation in self.counted)


def _check_text(name: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ReportDataError(f"expected a non-empty {name}, got {value!r}")


def _check_index(index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ReportDataError(f"expected a non-negative integer log index, got {index!r}")
