"""Evidence files: content-addressed by SHA-256, type sniffed from the bytes, hash in the log."""

from __future__ import annotations

import hashlib

from ledger.errors import PayloadTooLargeError, UnsupportedMediaError

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(content: bytes) -> str:
    """The content type told by the file's own magic bytes; the client's claim is ignored."""
    for magic, content_type in SIGNATURES:
        if content.startswith(magic):
            return content_type
    raise UnsupportedMediaError(
        "evidence must be a PDF, JPEG or PNG file (judged by its content, not its name or header)"
    )


def check(content: bytes, limit: int) -> tuple[bytes, str]:
    """(sha256, sniffed type) of an acceptable file; raises for empty, oversized or other types."""
    if not content:
        raise UnsupportedMediaError("the evidence file is empty")
    if len(content) > limit:
        raise PayloadTooLargeError(
            f"evidence files may be at most {limit} bytes, got {len(content)}"
        )
    return hashlib.sha256(content).digest(), sniff(content)
