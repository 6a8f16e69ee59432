"""The translators' catalog stays one valid gettext file whoever adds to it."""

from __future__ import annotations

import collections
import re
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[2] / "ledger/locale/id/LC_MESSAGES/messages.po"


def test_every_message_is_defined_once() -> None:
    """msgfmt refuses a catalog that defines a message twice (two features adding the same
    string, e.g. "Reference"), and a translator editing one copy would change nothing."""
    seen: collections.Counter[tuple[str | None, str]] = collections.Counter()
    for block in CATALOG.read_text(encoding="utf-8").split("\n\n"):
        context = re.search(r'^msgctxt "(.*)"$', block, re.M)
        found = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if found and found.group(1).strip() != '""':
            seen[(context.group(1) if context else None, found.group(1))] += 1
    assert len(seen) > 100
    assert [key for key, n in seen.items() if n > 1] == []
