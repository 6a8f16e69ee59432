"""Every text of the console (templates, handlers, forms, the staff and amount modules) has a
Bahasa Indonesia translation in the gettext catalog that keeps every {field}."""

from __future__ import annotations

import re
import string
from pathlib import Path

from babel.messages.extract import extract_from_file
from jinja2.ext import babel_extract

from ledger.messages import catalog
from tests.conftest import REPO

PYTHON = [
    "ledger/http/console/pages.py",
    "ledger/http/console/forms.py",
    "ledger/http/console/imports.py",
    "ledger/http/console/gateways.py",
    "ledger/http/console/webhooks.py",
    "ledger/ingest/bankstatements.py",
    "ledger/ingest/bankimports.py",
    "ledger/http/console/session.py",
    "ledger/charity/staff.py",
    "ledger/formats/amounts.py",
    "ledger/store/staff.py",
]
TEMPLATES = REPO / "ledger" / "http" / "console" / "templates" / "console"
WORDS = (
    "admin",
    "recorder",
    "auditor",
    "donation",
    "disbursement",
    "transfer",
    "fee",
    "correction",
)
"""Values the templates translate with ``_(value)``: roles and entry kinds."""


def console_msgids() -> list[str]:
    found: list[str] = list(WORDS)
    keywords = {"of": None, "t": None, "_": None}
    for name in PYTHON:
        for _, message, _, _ in extract_from_file("python", REPO / name, keywords=keywords):
            found.append(message[0] if isinstance(message, tuple) else message)
    source = (REPO / "ledger/http/console/pages.py").read_text()
    for block in re.findall(r"(?:CHANNELS|PURPOSES): dict\[str, str\] = \{(.*?)\}", source, re.S):
        found.extend(re.findall(r'"[a-z_]+": "([^"]+)"', block))
    for name, table in (("gateways", "SECRET_NAMES"), ("webhooks", "EVENTS")):
        source = (REPO / f"ledger/http/console/{name}.py").read_text()
        for block in re.findall(table + r": dict\[str, str\] = \{(.*?)\n\}", source, re.S):
            found.extend(re.findall(r'"[a-z_.]+": "([^"]+)"', block))
    for path in sorted(TEMPLATES.glob("*.html")):
        with open(path, "rb") as f:
            for _, _, message, _ in babel_extract(f, ["_"], [], {}):
                found.append(message[0] if isinstance(message, tuple) else message)
    return list(dict.fromkeys(m for m in found if m))


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_console_text_is_translated() -> None:
    translations = catalog("id")
    ids = console_msgids()
    assert len(ids) > 200
    missing = [m for m in ids if m not in translations]
    assert missing == []
    dropped = [m for m in ids if fields(m) != fields(translations[m])]
    assert dropped == []


def test_catalog_block_is_at_the_end() -> None:
    text = Path(REPO / "ledger/locale/id/LC_MESSAGES/messages.po").read_text()
    marker = text.index("# --- the staff console")
    assert 'msgid "Dashboard"' in text[marker:]
