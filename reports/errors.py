"""Errors raised by the ``reports`` package.

Every failure that leaves this package is a :class:`ReportError`. Exceptions of
pyHanko, reportlab, asn1crypto and ``cryptography`` are translated where they
enter (in the module that called the library), so callers — the API's error
table, the CLI — handle one family of errors and never import a PDF library to
catch something.

Messages say what was expected, what was found, and what the caller can do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class ReportError(Exception):
    """Base class of every error raised by ``reports``."""


class ReportDataError(ReportError):
    """The plain data handed to a renderer is inconsistent or out of range.

    Raised before anything is drawn: a bad currency code, a negative amount,
    an unsupported language, a naive ``now``, donations in mixed currencies.
    """


class RenderError(ReportError):
    """reportlab failed while drawing a document that passed data checks."""


@contextmanager
def reportlab_failures(what: str) -> Iterator[None]:
    """Translate a failure of reportlab while drawing ``what`` into :class:`RenderError`;
    a :class:`ReportDataError` found on the way passes as it is."""
    try:
        yield
    except ReportDataError:
        raise
    except (ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise RenderError(f"reportlab failed to render {what}: {exc}") from exc


class KeyMaterialError(ReportError):
    """A certificate or private key could not be generated or loaded, or the
    two do not belong together, or the key is not ECDSA P-256."""


class SigningError(ReportError):
    """pyHanko could not sign the PDF (unreadable input, signing failure)."""


class MalformedPdfError(ReportError):
    """The bytes are not a PDF that pyHanko can parse.

    Damage inside the signed byte range usually shows up as a failed digest
    (``Validation.intact`` is False), but damage to the file's structure (the
    cross-reference table, the trailer) makes the file unreadable and raises
    this instead. Either way the document must not be trusted.
    """


class SignatureNotFoundError(ReportError):
    """The PDF does not carry exactly one signature where one was expected."""


class SignatureValidationError(ReportError):
    """pyHanko could not run the validation at all (as opposed to running it
    and finding the signature invalid, which is reported in ``Validation``)."""


class AttachmentError(ReportError):
    """An embedded file is missing, duplicated, or cannot be read."""
