"""Signed documents in the database: each organization's document certificate (its private
key sealed under the KEK) and the donations a donor's lookups find, for annual receipts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from ledger.store.log import Q


@dataclass(frozen=True)
class DocumentCertificate:
    """An organization's stored document certificate (``document_certificates``)."""

    cert_der: bytes
    """X.509 certificate, DER."""
    sealed_key: bytes
    """Its PKCS#8 private key, sealed under the KEK (``ledger.journal.keys.seal``)."""


@dataclass(frozen=True)
class DonorDonation:
    """A donation entry found by a donor's lookup values (erased records excluded)."""

    index: int
    """Log index of the donation entry."""
    body: bytes
    """The entry's canonical bytes."""


async def document_certificate(conn: asyncpg.Connection, org_id: int) -> DocumentCertificate | None:
    """The organization's document certificate, or None before its first use."""
    row = await conn.fetchrow(Q["document_certificate"], org_id)
    return None if row is None else DocumentCertificate(row["cert_der"], row["sealed_key"])


@dataclass(frozen=True)
class PublishedCertificate:
    """An organization's document certificate as the public sees it (no key)."""

    slug: str
    """The organization's URL name."""
    name: str
    """Its display name."""
    origin: str
    """The log origin its checkpoints (and so the proofs in its receipts) name."""
    cert_der: bytes
    """X.509 certificate, DER: the bytes ``GET …/certificate`` serves as PEM."""


async def published_certificates(
    conn: asyncpg.Connection, limit: int = 1000
) -> list[PublishedCertificate]:
    """The document certificates of the first ``limit`` organizations that have one (an
    organization gets its certificate with its first signed PDF)."""
    rows = await conn.fetch(Q["published_document_certificates"], limit)
    return [PublishedCertificate(r["slug"], r["name"], r["origin"], r["cert_der"]) for r in rows]


async def insert_document_certificate(
    conn: asyncpg.Connection, org_id: int, cert_der: bytes, sealed_key: bytes
) -> None:
    """Store the organization's certificate unless one is already there (the first wins)."""
    await conn.execute(Q["insert_document_certificate"], org_id, cert_der, sealed_key)


async def donations_of_donor(
    conn: asyncpg.Connection, org_id: int, lookups: Sequence[bytes]
) -> list[DonorDonation]:
    """The donations whose donor records carry any of ``lookups``, in log order."""
    rows = await conn.fetch(Q["donations_of_donor"], org_id, list(lookups))
    return [DonorDonation(r["idx"], r["body"]) for r in rows]
