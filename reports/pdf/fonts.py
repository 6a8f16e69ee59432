"""The typefaces reports are set in, with a clean fallback.

Receipts carry Indonesian names, "—" (the signed-note signature line starts
with U+2014) and arbitrary donor-supplied text, so they are set in DejaVu Sans,
a TrueType font with wide Unicode coverage, embedded as a subset. DejaVu comes
from Debian's ``fonts-dejavu-core`` package (``/usr/share/fonts/truetype/dejavu``).

When the font files are missing, reports fall back to the PDF standard fonts
(Helvetica, Courier), which need no file but only cover the Windows-1252
repertoire: the document still renders, characters outside that repertoire
are replaced by "?" (see :meth:`FontSet.printable`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

DEJAVU_DIRECTORY = Path("/usr/share/fonts/truetype/dejavu")
"""Where Debian's ``fonts-dejavu-core`` installs DejaVu."""

FONT_DIRECTORY_ENV = "REPORTS_FONT_DIR"
"""Environment variable naming another directory holding the DejaVu TTF files
(read when the font set is first requested)."""

_DEJAVU_FILES = {
    "regular": ("DejaVuSans", "DejaVuSans.ttf"),
    "bold": ("DejaVuSans-Bold", "DejaVuSans-Bold.ttf"),
    "mono": ("DejaVuSansMono", "DejaVuSansMono.ttf"),
}

_STANDARD_ENCODING = "cp1252"
"""The repertoire reportlab's standard fonts can show (WinAnsiEncoding)."""


@dataclass(frozen=True)
class FontSet:
    """Registered reportlab font names for one document family."""

    regular: str
    """Body text."""

    bold: str
    """Headings, labels, amounts."""

    mono: str
    """Hashes, checkpoints and other text a reader may compare character by character."""

    unicode: bool
    """True when the fonts are TrueType with wide coverage; False for the
    standard-font fallback, which shows only Windows-1252 characters."""

    def printable(self, text: str) -> str:
        """``text`` as this font set can show it: unchanged for TrueType fonts,
        with characters outside Windows-1252 replaced by "?" for the fallback."""
        if self.unicode:
            return text
        return text.encode(_STANDARD_ENCODING, errors="replace").decode(_STANDARD_ENCODING)


STANDARD_FONTS = FontSet(regular="Helvetica", bold="Helvetica-Bold", mono="Courier", unicode=False)
"""The fallback: PDF base-14 fonts, always available."""


def report_fonts(directory: Path | None = None) -> FontSet:
    """The font set to draw with: DejaVu when its files are present, else
    :data:`STANDARD_FONTS`.

    ``directory`` overrides the search (tests use it to force the fallback);
    otherwise ``$REPORTS_FONT_DIR`` then :data:`DEJAVU_DIRECTORY` are tried.
    Registration with reportlab happens once per directory and process.
    """
    if directory is None:
        override = os.environ.get(FONT_DIRECTORY_ENV)
        directory = Path(override) if override else DEJAVU_DIRECTORY
    return _register(directory.resolve())


@cache
def _register(directory: Path) -> FontSet:
    """Register the DejaVu faces found in ``directory`` under their face names."""
    names: dict[str, str] = {}
    for role, (face, filename) in _DEJAVU_FILES.items():
        path = directory / filename
        if not path.is_file():
            return STANDARD_FONTS
        try:
            pdfmetrics.registerFont(TTFont(face, str(path)))
        except (TTFError, OSError):
            return STANDARD_FONTS
        names[role] = face
    return FontSet(regular=names["regular"], bold=names["bold"], mono=names["mono"], unicode=True)


__all__ = ["DEJAVU_DIRECTORY", "FONT_DIRECTORY_ENV", "STANDARD_FONTS", "FontSet", "report_fonts"]
