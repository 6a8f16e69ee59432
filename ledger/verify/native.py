"""The C parts of ``ledger verify`` (``ledger/verify/_entrywalk.c``), where they were built.

``module`` is the compiled extension, or None where it could not be built (no compiler):
verification then runs its Python loops alone, with the same checks and results.
``LEDGER_VERIFY_LOOP=python`` switches the C parts off (tests run every tampering case both
ways; ``enabled`` is what the verifier asks).
"""

from __future__ import annotations

import os
from types import ModuleType

try:
    from ledger.verify import _entrywalk as _built
except ImportError:  # pragma: no cover - only where the extension could not be compiled
    _built = None

module: ModuleType | None = _built
"""``ledger.verify._entrywalk``, or None."""

FAST = os.environ.get("LEDGER_VERIFY_LOOP", "c") != "python"
"""False to verify with the Python loops only."""


def enabled() -> bool:
    return module is not None and FAST
