"""File attachments in PDFs (ISO 32000-1 section 7.11.4, "Embedded file streams").

A receipt carries its machine-readable core — the ``.tlog-proof`` file and, when
given, the JSON receipt — as embedded files in the document's ``/EmbeddedFiles``
name tree. Attachments are written by reportlab while the document is rendered,
so they lie inside the signed byte range: signing cannot detach them, and
changing one breaks the signature.

Writing uses reportlab's low-level object model (``pdfdoc``) through the canvas's
document (``canvas._doc``), because reportlab's public canvas API has no
embedded-file call. Reading uses pyHanko's parser.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFDictionary,
    PDFName,
    PDFStream,
    PDFString,
    PDFZCompress,
)
from reportlab.pdfgen.canvas import Canvas

from reports.errors import AttachmentError, MalformedPdfError


@dataclass(frozen=True)
class Attachment:
    """One file to embed in a PDF."""

    name: str
    """File name shown by PDF readers and used as the name-tree key; unique
    within a document (e.g. ``receipt-42.tlog-proof``)."""

    data: bytes
    """Exact file contents; stored Flate-compressed, extracted byte for byte."""

    mime_type: str
    """MIME type recorded as the embedded file's ``/Subtype`` (e.g. ``text/plain``)."""

    description: str
    """Short human description shown next to the file by PDF readers."""


def embed_attachments(canvas: Canvas, attachments: list[Attachment]) -> None:
    """Register ``attachments`` in the canvas's document name tree.

    Call once per document, before ``canvas.save()``. Guaranteed: names are
    written in sorted order (name trees must be sorted by key), and the
    output stays deterministic under reportlab's ``invariant`` mode since no
    dates are recorded. Raises :class:`AttachmentError` on duplicate names.
    """
    if not attachments:
        return
    names = [attachment.name for attachment in attachments]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AttachmentError(f"expected unique attachment names, found duplicates {duplicates}")
    document = canvas._doc
    entries: list[object] = []
    for attachment in sorted(attachments, key=lambda a: a.name.encode("utf-8")):
        stream = PDFStream(
            PDFDictionary(
                {
                    "Type": PDFName("EmbeddedFile"),
                    "Subtype": _mime_name(attachment.mime_type),
                    "Params": PDFDictionary({"Size": len(attachment.data)}),
                }
            ),
            attachment.data,
            filters=[PDFZCompress],
        )
        stream_ref = document.Reference(stream)
        filespec = PDFDictionary(
            {
                "Type": PDFName("Filespec"),
                "F": PDFString(attachment.name),
                "UF": PDFString(attachment.name),
                "Desc": PDFString(attachment.description),
                "EF": PDFDictionary({"F": stream_ref, "UF": stream_ref}),
            }
        )
        entries.append(PDFString(attachment.name))
        entries.append(document.Reference(filespec))
    document.Catalog.Names = PDFDictionary(
        {"EmbeddedFiles": PDFDictionary({"Names": PDFArray(entries)})}
    )


def read_attachments(pdf_bytes: bytes) -> dict[str, bytes]:
    """Every embedded file of a PDF, by name, as it was stored (decompressed).

    Reads the document as its last revision presents it. Raises
    :class:`MalformedPdfError` when the bytes cannot be parsed and
    :class:`AttachmentError` when the name tree is damaged or repeats a name.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        root = reader.root
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise MalformedPdfError(f"expected a readable PDF: {exc}") from exc
    try:
        # pyHanko's dictionaries resolve indirect references on [], not on .get().
        if "/Names" not in root or "/EmbeddedFiles" not in root["/Names"]:
            return {}
        tree = root["/Names"]["/EmbeddedFiles"]
        found: dict[str, bytes] = {}
        for key, filespec in _name_tree_items(tree, depth=0):
            if key in found:
                raise AttachmentError(f"expected unique attachment names, found {key!r} twice")
            stream = filespec.get_object()["/EF"]["/F"].get_object()
            found[key] = stream.data
        return found
    except (PdfError, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise AttachmentError(f"could not read the embedded files: {exc}") from exc


_MAX_NAME_TREE_DEPTH = 32
"""Deeper name trees are refused: real ones are a few levels deep, and a cycle
in a hostile file must not recurse forever."""


def _name_tree_items(node: generic.DictionaryObject, *, depth: int):
    """Yield ``(key, value)`` pairs of a name tree (ISO 32000-1 7.9.6) in order."""
    if depth > _MAX_NAME_TREE_DEPTH:
        raise AttachmentError(f"expected a name tree at most {_MAX_NAME_TREE_DEPTH} levels deep")
    if "/Names" in node:
        pairs = node["/Names"]
        if len(pairs) % 2:
            raise AttachmentError(
                f"expected key/value pairs in a name tree, got {len(pairs)} items"
            )
        for position in range(0, len(pairs), 2):
            yield _text(pairs[position]), pairs.raw_get(position + 1)
    if "/Kids" in node:
        for kid in node["/Kids"]:
            yield from _name_tree_items(kid.get_object(), depth=depth + 1)


def _text(value: generic.PdfObject) -> str:
    """A name-tree key as text (keys are PDF strings, text or bytes)."""
    if isinstance(value, generic.TextStringObject):
        return str(value)
    if isinstance(value, generic.ByteStringObject):
        return bytes(value).decode("utf-8", errors="replace")
    raise AttachmentError(f"expected a string key in the name tree, got {type(value).__name__}")


def _mime_name(mime_type: str) -> str:
    """``mime_type`` as a PDF name, with "/" written ``#2F`` as ISO 32000 requires.

    Returned as a preformatted name because reportlab's ``PDFName`` leaves "/"
    unescaped.
    """
    safe = b"-+."
    escaped = "".join(
        chr(byte) if (byte < 0x80 and chr(byte).isalnum()) or byte in safe else f"#{byte:02X}"
        for byte in mime_type.encode("utf-8")
    )
    return "/" + escaped


__all__ = ["Attachment", "embed_attachments", "read_attachments"]
