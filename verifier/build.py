"""Build ``ledger-verify`` as its own distribution, from the server's own source files.

The wheel holds exactly the modules the offline verifier imports (``MODULES``: the pure
formats, the errors, ``ledger/verify/offline.py`` and two import-free ``schemas`` modules) and
depends on ``cryptography`` alone, so a donor or auditor installs it without the server,
PostgreSQL, Litestar or msgspec::

    .venv/bin/python verifier/build.py dist/          # → dist/ledger_verify-<version>-py3-none-any.whl
    python3 -m venv v && v/bin/pip install dist/ledger_verify-*.whl
    v/bin/ledger-verify receipt tanda-terima.pdf --vkey yayasan.vkeys

The wheel is written with the standard library (PEP 427 layout: the files, then
``*.dist-info/METADATA``, ``WHEEL``, ``entry_points.txt`` and ``RECORD`` with each file's
SHA-256), with fixed timestamps so the same source gives the same bytes.
``tests/verify/test_standalone.py`` installs it into a bare virtual environment and verifies a
receipt PDF, a JSON receipt and a consistency proof with it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "ledger_verify"
MODULES = (
    "ledger/__init__.py",
    "ledger/errors.py",
    "ledger/formats/__init__.py",
    "ledger/formats/canonical.py",
    "ledger/formats/chain.py",
    "ledger/formats/checkpoint.py",
    "ledger/formats/merkle.py",
    "ledger/formats/note.py",
    "ledger/formats/pdffiles.py",
    "ledger/formats/pdfsignature.py",
    "ledger/formats/policy.py",
    "ledger/formats/tlogproof.py",
    "ledger/formats/valuedates.py",
    "ledger/verify/__init__.py",
    "ledger/verify/offline.py",
    "schemas/__init__.py",
    "schemas/iso4217.py",
    "schemas/kinds.py",
)
"""Every module ``ledger.verify.offline`` imports, transitively (the test checks the list)."""
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def version() -> str:
    """The verifier's version, read from ``ledger/verify/offline.py`` (``VERSION``)."""
    text = (ROOT / "ledger/verify/offline.py").read_text()
    found = re.search(r'^VERSION = "([^"]+)"', text, re.M)
    if found is None:
        raise SystemExit("ledger/verify/offline.py has no VERSION")
    return found.group(1)


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build(out_dir: Path) -> Path:
    """Write the wheel into ``out_dir``; its path."""
    v = version()
    info = f"{NAME}-{v}.dist-info"
    files: list[tuple[str, bytes]] = [(m, (ROOT / m).read_bytes()) for m in MODULES]
    files += [
        (
            f"{info}/METADATA",
            (
                "Metadata-Version: 2.1\n"
                f"Name: ledger-verify\nVersion: {v}\n"
                "Summary: Verify donation-ledger receipts (PDF, JSON, tlog-proof), checkpoints "
                "and exported logs offline\n"
                "Requires-Python: >=3.11\nRequires-Dist: cryptography>=42\n"
            ).encode(),
        ),
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: verifier/build.py\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n",
        ),
        (
            f"{info}/entry_points.txt",
            b"[console_scripts]\nledger-verify = ledger.verify.offline:main\n",
        ),
    ]
    record = "\n".join(_record_line(p, d) for p, d in files) + f"\n{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{NAME}-{v}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            z.writestr(zipfile.ZipInfo(path, FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    return wheel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the standalone ledger-verify wheel.")
    parser.add_argument("out_dir", nargs="?", default=str(ROOT / "dist"))
    print(build(Path(parser.parse_args(argv).out_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
