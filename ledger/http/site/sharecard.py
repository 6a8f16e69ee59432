"""A fund's share card: the PNG (1200×630, the size Open Graph and Twitter's
``summary_large_image`` show) that a shared link to the fund page displays, so a post on
WhatsApp, Instagram or X carries the numbers anyone can check.

The card's text is the page's own ``og:description``, split at its `` · ``: "Rp X terkumpul",
"Rp Y tersalurkan ke N panti asuhan", "diperiksa [tanggal]" and, with a target, "62% dari
target Rp Z". It is drawn into the image and also written into the PNG as an ``iTXt``
``Description`` chunk (with the fund and organization names as ``Title``), so a machine can
compare the picture's words with the API's numbers without OCR. No personal data: only the
organization's and fund's names and the fund's totals.

Rendering takes tens of milliseconds of one core: the page handler runs it in a thread and
keeps the bytes by entity tag (``caching.PageCache``). Same card text, same bytes.

Fonts: DejaVu Sans from ``FONT_DIR`` (Debian/Ubuntu ``fonts-dejavu-core``, installed by CI).
Without them the card is refused with ``ConfigurationError`` naming the package, not drawn
with a bitmap font that cannot write "·" or "Rp" legibly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from ledger.errors import ConfigurationError

WIDTH, HEIGHT = 1200, 630
"""Open Graph's recommended 1.91:1 image."""
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
SEPARATOR = " · "
"""What separates the parts of the card text (``f_card``)."""

PAPER = (253, 251, 247)
INK = (23, 33, 43)
MUTED = (75, 85, 99)
ACCENT = (11, 93, 75)
"""Dark green on near-white: the bar reads by contrast (and its written percent), not hue."""
MARGIN = 64


@dataclass(frozen=True)
class Card:
    """What a share card says (already in the page's language)."""

    org: str
    fund: str
    text: str
    """The page's ``og:description``: the parts of the card, joined by `` · ``."""
    percent: int | None = None
    """Share of the target raised (whole percent, may exceed 100); None without a target."""
    site: str | None = None
    """The public site's host (``LEDGER_PUBLIC_URL``), written in the footer."""


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path = FONT_DIR / name
    if not path.is_file():
        raise ConfigurationError(
            f"the share card needs the DejaVu fonts, expected {path}: install them "
            "(Debian/Ubuntu: apt-get install fonts-dejavu-core)"
        )
    return ImageFont.truetype(str(path), size)


def _fit(
    draw: ImageDraw.ImageDraw, text: str, name: str, size: int, width: int
) -> ImageFont.FreeTypeFont:
    """The largest font of ``name`` up to ``size`` in which ``text`` fits ``width`` (down to
    ``size // 2``: longer text is wrapped by the caller)."""
    while size > 12 and draw.textlength(text, font=_font(name, size)) > width:
        size -= 2
    return _font(name, size)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """``text`` broken at spaces into lines that fit ``width``."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def render(card: Card) -> bytes:
    """The card as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    draw.rectangle((0, 0, WIDTH, 14), fill=ACCENT)
    y = 48
    org_font = _fit(draw, card.org, REGULAR, 30, inner)
    draw.text((MARGIN, y), card.org, font=org_font, fill=MUTED)
    y += 48
    title = _font(BOLD, 52)
    for line in _wrap(draw, card.fund, title, inner)[:2]:
        draw.text((MARGIN, y), line, font=title, fill=INK)
        y += 64
    y += 14
    parts = card.text.split(SEPARATOR)
    raised, rest = parts[0], parts[1:]
    draw.text((MARGIN, y), raised, font=_fit(draw, raised, BOLD, 60, inner), fill=ACCENT)
    y += 80
    checked = rest.pop(1) if len(rest) >= 2 else None  # "diperiksa …" goes to the footer
    for part in rest:
        draw.text((MARGIN, y), part, font=_fit(draw, part, REGULAR, 34, inner), fill=INK)
        y += 50
    if card.percent is not None:
        bar_y = min(y + 6, HEIGHT - 120)
        filled = inner * min(card.percent, 100) // 100
        draw.rectangle((MARGIN, bar_y, MARGIN + inner, bar_y + 26), outline=INK, width=3)
        if filled:
            draw.rectangle((MARGIN, bar_y, MARGIN + filled, bar_y + 26), fill=ACCENT)
    if checked is not None:
        draw.line((MARGIN, HEIGHT - 72, WIDTH - MARGIN, HEIGHT - 72), fill=MUTED, width=1)
        draw.text(
            (MARGIN, HEIGHT - 58), checked, font=_fit(draw, checked, REGULAR, 28, inner), fill=MUTED
        )
    if card.site:
        font = _font(REGULAR, 28)
        x = WIDTH - MARGIN - draw.textlength(card.site, font=font)
        draw.text((x, HEIGHT - 58), card.site, font=font, fill=MUTED)
    info = PngInfo()
    info.add_itxt("Title", f"{card.fund} · {card.org}")
    info.add_itxt("Description", card.text)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


__all__ = ["HEIGHT", "WIDTH", "Card", "render"]
