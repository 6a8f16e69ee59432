"""Embedded files of a PDF (ISO 32000-1 section 7.11.4), read with the standard library alone.

A donor holds the signed receipt PDF, not the JSON: its machine-readable core (the
``.tlog-proof`` and the JSON receipt) is attached as embedded files (``reports.pdf.attachments``
writes them). ``ledger-verify`` must install with ``cryptography`` alone, so this module reads
just enough PDF syntax (section 7.3, objects; 7.5.4, incremental updates; 7.4.4, FlateDecode)
to find every file specification (``/Type /Filespec``) with an embedded file stream and to
inflate its data with ``zlib``. It does not render, decrypt or validate the document: the
proof inside is what gets verified, and the signature is ``ledger.formats.pdfsignature``'s.

Bounds keep hostile files harmless: at most ``MAX_PDF_BYTES`` read, ``MAX_FILES`` files, each
at most ``MAX_FILE_BYTES`` once inflated (a zip bomb stops there), nesting at most 32 deep.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

from ledger.errors import MalformedError, UnusableInputError

PDF_MAGIC = b"%PDF-"
"""Every PDF file starts with this header (section 7.5.2); up to 1 KiB of junk may precede it."""
MAX_PDF_BYTES = 32 * 1024 * 1024
"""Largest PDF read; a receipt is about 100 KB, an annual receipt a few hundred."""
MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest embedded file, inflated; a receipt's proof is a few KB."""
MAX_FILES = 1000
"""Most embedded files read from one PDF (an annual receipt has two per donation)."""
_MAX_DEPTH = 32

_OBJ = re.compile(rb"(?<![0-9])(\d{1,10})[ \t\r\n\f\x00]+(\d{1,5})[ \t\r\n\f\x00]+obj\b")
_WHITESPACE = b" \t\r\n\f\x00"
_DELIMITERS = b"()<>[]{}/%"


@dataclass(frozen=True)
class Ref:
    """An indirect reference ``N G R``."""

    number: int
    generation: int


class Name(str):
    """A PDF name (``/Type``), without its slash."""


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` starts like a PDF file."""
    return PDF_MAGIC in data[:1024]


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """Every embedded file of ``pdf``, by its file name (``/UF``, else ``/F``), inflated.

    Objects redefined by an incremental update count in their last definition, as a reader
    shows them. Raises ``MalformedError`` for bytes that are not a PDF this module can read
    (an unknown filter, a damaged stream) and ``UnusableInputError`` beyond the bounds.
    """
    if len(pdf) > MAX_PDF_BYTES:
        raise UnusableInputError(f"expected a PDF of at most {MAX_PDF_BYTES} bytes, got {len(pdf)}")
    if not is_pdf(pdf):
        raise MalformedError(f"expected a PDF file starting with {PDF_MAGIC!r}, got {pdf[:8]!r}")
    objects = _objects(pdf)
    found: dict[str, bytes] = {}
    for number in sorted(objects):
        value = objects[number][0]
        if not isinstance(value, dict) or value.get("Type") != "Filespec" or "EF" not in value:
            continue
        name = _text(value.get("UF", value.get("F")))
        streams = _resolve(value["EF"], objects)
        if not isinstance(streams, dict):
            raise MalformedError(f"object {number}: expected /EF to be a dictionary")
        target = streams.get("UF", streams.get("F"))
        if not isinstance(target, Ref) or target.number not in objects:
            raise MalformedError(f"object {number}: expected /EF to refer to a stream object")
        if name in found:
            raise MalformedError(f"expected unique embedded file names, found {name!r} twice")
        if len(found) >= MAX_FILES:
            raise UnusableInputError(f"expected at most {MAX_FILES} embedded files")
        found[name] = _stream_data(target.number, objects)
    return found


# --- objects ----------------------------------------------------------------------------------


def _objects(pdf: bytes) -> dict[int, tuple[Any, bytes | None]]:
    """Object number → (value, raw stream bytes or None), the last definition winning.

    Scanning skips the data of every stream it has read, so bytes inside a compressed stream
    that happen to look like ``N G obj`` are not taken for an object."""
    found: dict[int, tuple[Any, bytes | None]] = {}
    position = 0
    while (match := _OBJ.search(pdf, position)) is not None:
        number = int(match.group(1))
        parser = _Parser(pdf, match.end())
        try:
            value = parser.value(0)
        except MalformedError:
            position = match.end()
            continue
        raw: bytes | None = None
        parser.skip_space()
        if pdf.startswith(b"stream", parser.at) and isinstance(value, dict):
            start = parser.at + len(b"stream")
            start += 2 if pdf.startswith(b"\r\n", start) else 1
            length = value.get("Length")
            if isinstance(length, Ref):
                length = found.get(length.number, (None, None))[0]
            if isinstance(length, int) and 0 <= length <= len(pdf) - start:
                end = start + length
            else:  # an indirect length defined later, or a wrong one: find the keyword
                end = pdf.find(b"endstream", start)
                if end < 0:
                    raise MalformedError(f"object {number}: stream without 'endstream'")
                end = end - 2 if pdf[end - 2 : end] == b"\r\n" else end - 1
            raw = pdf[start:end]
            parser.at = end
        found[number] = (value, raw)
        position = max(parser.at, match.end())
    return found


def _resolve(value: Any, objects: dict[int, tuple[Any, bytes | None]]) -> Any:
    if isinstance(value, Ref):
        return objects.get(value.number, (None, None))[0]
    return value


def _stream_data(number: int, objects: dict[int, tuple[Any, bytes | None]]) -> bytes:
    dictionary, raw = objects[number]
    if not isinstance(dictionary, dict) or raw is None:
        raise MalformedError(f"object {number}: expected an embedded file stream")
    filters = _resolve(dictionary.get("Filter"), objects)
    if filters is None:
        filters = []
    elif not isinstance(filters, list):
        filters = [filters]
    data = raw
    for name in filters:
        if name != "FlateDecode":
            raise MalformedError(
                f"object {number}: expected no filter or /FlateDecode, got /{name} "
                "(extract the file with a PDF tool such as pdfdetach)"
            )
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(data, MAX_FILE_BYTES + 1)
        except zlib.error as exc:
            raise MalformedError(f"object {number}: damaged compressed stream: {exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UnusableInputError(f"expected embedded files of at most {MAX_FILE_BYTES} bytes")
    return data


def _text(value: Any) -> str:
    """A PDF text string (section 7.9.2.2): UTF-16BE with a byte order mark, UTF-8 with one,
    else PDFDocEncoding (read as Latin-1, which agrees on every character of a file name)."""
    if not isinstance(value, bytes):
        raise MalformedError(f"expected a file name as a PDF string, got {value!r}")
    if value.startswith(b"\xfe\xff"):
        return value[2:].decode("utf-16-be", "replace")
    if value.startswith(b"\xef\xbb\xbf"):
        return value[3:].decode("utf-8", "replace")
    return value.decode("latin-1")


class _Parser:
    """Reads one PDF object (section 7.3) from ``data`` at ``at``: dictionaries, arrays,
    names, strings (as bytes), numbers, booleans, null and references."""

    def __init__(self, data: bytes, at: int) -> None:
        self.data = data
        self.at = at

    def skip_space(self) -> None:
        data = self.data
        while self.at < len(data):
            byte = data[self.at]
            if byte in _WHITESPACE:
                self.at += 1
            elif byte == ord("%"):
                end = data.find(b"\n", self.at)
                self.at = len(data) if end < 0 else end + 1
            else:
                return

    def token(self) -> bytes:
        self.skip_space()
        start = self.at
        data = self.data
        while self.at < len(data) and data[self.at] not in _WHITESPACE + _DELIMITERS:
            self.at += 1
        return data[start : self.at]

    def value(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise UnusableInputError(f"expected PDF objects nested at most {_MAX_DEPTH} deep")
        self.skip_space()
        data = self.data
        if self.at >= len(data):
            raise MalformedError("unexpected end of the PDF")
        if data.startswith(b"<<", self.at):
            self.at += 2
            result: dict[str, Any] = {}
            while True:
                self.skip_space()
                if data.startswith(b">>", self.at):
                    self.at += 2
                    return result
                key = self.value(depth + 1)
                if not isinstance(key, Name):
                    raise MalformedError(f"expected a name as a dictionary key at byte {self.at}")
                result[str(key)] = self.value(depth + 1)
        head = data[self.at]
        if head == ord("["):
            self.at += 1
            items: list[Any] = []
            while True:
                self.skip_space()
                if data.startswith(b"]", self.at):
                    self.at += 1
                    return items
                items.append(self.value(depth + 1))
        if head == ord("/"):
            self.at += 1
            return Name(_unescape_name(self.token()))
        if head == ord("("):
            return self.literal_string()
        if head == ord("<"):
            end = data.find(b">", self.at)
            if end < 0:
                raise MalformedError("unterminated hex string")
            digits = re.sub(rb"\s", b"", data[self.at + 1 : end])
            self.at = end + 1
            try:
                return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))
            except ValueError:
                raise MalformedError("bad hex string") from None
        word = self.token()
        if not word:
            raise MalformedError(f"unexpected byte {data[self.at : self.at + 1]!r}")
        if word in (b"true", b"false"):
            return word == b"true"
        if word == b"null":
            return None
        if re.fullmatch(rb"[+-]?\d+", word):
            saved = self.at
            generation = self.token()
            if re.fullmatch(rb"\d+", generation) and self.token() == b"R":
                return Ref(int(word), int(generation))
            self.at = saved
            return int(word)
        if re.fullmatch(rb"[+-]?(\d+\.\d*|\.\d+)", word):
            return word.decode("ascii")  # reals are never needed here; kept as text
        raise MalformedError(f"unexpected token {word[:20]!r}")

    def literal_string(self) -> bytes:
        data = self.data
        self.at += 1
        out = bytearray()
        nesting = 1
        escapes = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
        while self.at < len(data):
            byte = data[self.at]
            self.at += 1
            if byte == ord("\\"):
                if self.at >= len(data):
                    break
                nxt = data[self.at]
                self.at += 1
                if nxt in escapes:
                    out.append(escapes[nxt])
                elif ord("0") <= nxt <= ord("7"):
                    digits = bytes([nxt])
                    while len(digits) < 3 and self.at < len(data) and 48 <= data[self.at] <= 55:
                        digits += data[self.at : self.at + 1]
                        self.at += 1
                    out.append(int(digits, 8) & 0xFF)
                elif nxt == ord("\r"):
                    if data.startswith(b"\n", self.at):
                        self.at += 1
                elif nxt != ord("\n"):
                    out.append(nxt)
                continue
            if byte == ord("("):
                nesting += 1
            elif byte == ord(")"):
                nesting -= 1
                if nesting == 0:
                    return bytes(out)
            out.append(byte)
        raise MalformedError("unterminated string")


def _unescape_name(raw: bytes) -> str:
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw).decode(
        "latin-1"
    )


__all__ = ["embedded_files", "is_pdf"]
