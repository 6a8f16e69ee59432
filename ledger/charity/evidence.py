"""Evidence files: content-addressed by SHA-256, type sniffed from the bytes, hash in the log."""

from __future__ import annotations

import hashlib

from ledger.errors import PayloadTooLargeError, UnsupportedMediaError

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(content: bytes, pointer: str | None = None) -> str:
    """The content type told by the file's own magic bytes; the client's claim is ignored.
    ``pointer``: the member a refusal names (``/content_type`` of a public copy)."""
    for magic, content_type in SIGNATURES:
        if content.startswith(magic):
            return content_type
    exc = UnsupportedMediaError(
        ("content_type: " if pointer else "")
        + "evidence must be a PDF, JPEG or PNG file (judged by its content, not its name or header)"
    )
    exc.pointer = pointer
    raise exc


def check(content: bytes, limit: int, *, public: bool = False) -> tuple[bytes, str]:
    """(sha256, sniffed type) of an acceptable file; raises for empty, oversized or other types.
    ``public``: the file is a public copy (``evidence.published``), whose refusals name the
    entry member at fault (``/size``, ``/content_type``)."""
    what = "public copies of evidence" if public else "evidence files"
    if not content:
        exc: UnsupportedMediaError | PayloadTooLargeError = UnsupportedMediaError(
            f"size: {what} may not be empty" if public else "the evidence file is empty"
        )
    elif len(content) > limit:
        exc = PayloadTooLargeError(
            ("size: " if public else "") + f"{what} may be at most {limit} bytes, got {len(content)}"
        )
    else:
        return hashlib.sha256(content).digest(), sniff(content, "/content_type" if public else None)
    if public:
        exc.pointer = "/size"
    raise exc
