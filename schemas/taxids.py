"""Indonesian tax identities: the NPWP (Nomor Pokok Wajib Pajak) and the NIK (Nomor Induk
Kependudukan), as people write them and as the ledger keeps them (digits only).

* NPWP: 15 digits in the older form (``01.234.567.8-901.000``), 16 digits since 2024
  (PMK 112/2022: the NIK serves as the NPWP of resident individuals, and other taxpayers got
  a 16-digit NPWP).
* NIK: the 16 digits of the KTP (identity card).

Dots, dashes and spaces are ignored on input; the ledger keeps the digits. The patterns
count the digits, so a request the schema accepts is never refused for its length. The
organization's NPWP is public (``org.profile``); a donor's is personal data and never enters
the log (``ledger.charity.donors``).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

NpwpText = Annotated[
    str,
    msgspec.Meta(
        max_length=32,
        pattern=r"^(?:[ .-]*[0-9]){15,16}[ .-]*$",
        description="NPWP: 15 or 16 digits; dots, dashes and spaces are ignored "
        "(01.234.567.8-901.000 is 012345678901000)",
    ),
]
NikText = Annotated[
    str,
    msgspec.Meta(
        max_length=32,
        pattern=r"^(?:[ .-]*[0-9]){16}[ .-]*$",
        description="NIK (the KTP number): 16 digits; dots, dashes and spaces are ignored",
    ),
]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def npwp_digits(text: str) -> str:
    """The NPWP's digits (what the ledger keeps), or ``ValueError`` saying the form."""
    digits = _digits(text)
    if len(digits) not in (15, 16):
        raise ValueError(
            f"npwp: expected 15 digits (e.g. 01.234.567.8-901.000) or 16 digits (since 2024); "
            f"got {len(digits)} digits"
        )
    return digits


def nik_digits(text: str) -> str:
    """The NIK's 16 digits, or ``ValueError`` saying the form."""
    digits = _digits(text)
    if len(digits) != 16:
        raise ValueError(
            f"nik: expected the 16 digits of the KTP number (e.g. 3273012345670001); "
            f"got {len(digits)} digits"
        )
    return digits


def format_npwp(digits: str) -> str:
    """An NPWP as printed: the 15-digit form grouped ``01.234.567.8-901.000``; 16 digits
    (NIK-based or new-form NPWP) as they are."""
    if len(digits) == 15:
        d = digits
        return f"{d[0:2]}.{d[2:5]}.{d[5:8]}.{d[8]}-{d[9:12]}.{d[12:15]}"
    return digits
