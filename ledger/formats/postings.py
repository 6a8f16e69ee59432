"""Double entry: the balanced lines every money entry posts.

Accounts: ``donors`` (the outside world giving), ``fund:<code>`` (money held for a fund),
``beneficiary:<code>`` (what an orphanage received), ``fees`` (overhead and operating costs).
The lines of one entry sum to zero in its currency, so the sum over every account is always
zero, and any balance can be recomputed from the public log alone (``postings_for`` is a
pure function of an entry's body).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from schemas import kinds

DONORS = "donors"
FEES = "fees"


def fund_account(code: str) -> str:
    return f"fund:{code}"


def beneficiary_account(code: str) -> str:
    return f"beneficiary:{code}"


class Line(NamedTuple):
    """One posting line (a named tuple: a batch makes thousands)."""

    account: str
    """Account name."""
    currency: str
    """ISO 4217 code."""
    amount: int
    """Signed minor units; positive adds to the account."""


def postings_for(
    kind: str, body: dict[str, Any], reversed_lines: list[Line] | None = None
) -> list[Line]:
    """The balanced lines of a money entry (empty for other kinds).

    A correction posts the negation of the lines of the entry it corrects, which the caller
    passes as ``reversed_lines`` (those lines are themselves ``postings_for`` the original).
    """
    if kind == kinds.CORRECTION:
        if reversed_lines is None:
            raise ValueError("a correction needs the lines of the entry it corrects")
        return [Line(x.account, x.currency, -x.amount) for x in reversed_lines]
    if kind not in kinds.MOVEMENTS:
        return []
    amount, currency = body["amount"], body["currency"]
    if kind == kinds.DONATION:
        pair = (DONORS, fund_account(body["fund"]))
    elif kind == kinds.DISBURSEMENT:
        pair = (fund_account(body["fund"]), beneficiary_account(body["beneficiary"]))
    elif kind == kinds.TRANSFER:
        pair = (fund_account(body["from_fund"]), fund_account(body["to_fund"]))
    else:  # fee
        pair = (fund_account(body["fund"]), FEES)
    return [Line(pair[0], currency, -amount), Line(pair[1], currency, amount)]
