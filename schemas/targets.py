"""A fund's (campaign's) fundraising target: the entry kind ``fund.target`` (docs/FORMAT.md
section 6), its request and its public view.

The newest ``fund.target`` entry of a fund is its target from then on; an entry whose
``amount`` is ``null`` clears it (the fund has no target again, and ``deadline`` must be
``null`` too). The amount is in minor units of the fund's own recorded exponent
(``fund.created`` ``minor_units``) and the currency must be the fund's: a target is compared
with what the fund raised, never converted.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec

from schemas import kinds
from schemas.base import Body, Document
from schemas.charity import Code, Text
from schemas.money import MAX_AMOUNT, CurrencyCode, check_currency

TargetAmount = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=MAX_AMOUNT,
        description="positive minor units in the fund's exponent (IDR 2: Rp 50.000.000 is "
        "5000000000); null clears the target",
    ),
]
"""``schemas.money.Amount``, written ``ge=1``: the OpenAPI of an optional member keeps a
minimum of 1 (Litestar leaves out a bound of 0)."""

CLEARED_WITH_DEADLINE = (
    "a cleared target (amount null) has no deadline: leave out deadline, or give an amount"
)


def target_problem(amount: int | None, deadline: datetime.date | None) -> str | None:
    """Why ``amount`` and ``deadline`` do not make a target or its removal (None: they do)."""
    if amount is None and deadline is not None:
        return CLEARED_WITH_DEADLINE
    return None


# --- entry body (hashed and public) -------------------------------------------------------


class FundTargetBody(Body, frozen=True, tag=kinds.FUND_TARGET):
    """``fund.target``: fund ``fund`` aims to raise ``amount`` by ``deadline`` (newest wins;
    ``amount`` null clears the target)."""

    fund: Code
    amount: TargetAmount | None
    """Minor units in the fund's recorded exponent; None: the fund has no target any more."""
    currency: CurrencyCode
    """The fund's currency (a target in another currency is refused)."""
    deadline: datetime.date | None = None
    """Last day of the campaign, a local date of the organization (None: open-ended)."""
    note: Text | None = None
    """Public words about the target (e.g. "renovasi asrama LKSA Harapan")."""


# --- request ------------------------------------------------------------------------------


class FundTargetSet(Document, frozen=True):
    """A fund's new target (``amount`` null: clear it). Every member is set anew."""

    amount: TargetAmount | None
    currency: CurrencyCode
    deadline: datetime.date | None = None
    note: Text | None = None

    def __post_init__(self) -> None:
        check_currency(self.currency)  # a deadline without an amount: the rules refuse it

    def body(self, fund: str) -> FundTargetBody:
        return FundTargetBody(
            fund=fund,
            amount=self.amount,
            currency=self.currency,
            deadline=self.deadline,
            note=self.note,
        )


# --- response -----------------------------------------------------------------------------


class FundTargetView(Document, frozen=True):
    """A fund's target now, against what it raised (the fund view's ``raised``)."""

    fund: str
    currency: str
    minor_units: int
    """The fund's recorded exponent: the unit of ``amount`` and ``raised``."""
    amount: int | None
    """The target in minor units (None: the fund has no target)."""
    deadline: datetime.date | None
    note: str | None
    raised: int
    """Donations to the fund net of corrections (``GET …/funds/{code}`` ``raised``)."""
    percent: int | None
    """``raised`` / ``amount`` in whole percent, rounded down (may exceed 100); None
    without a target."""
    days_left: int | None
    """Days from today (the organization's calendar) to the deadline: 0 on its last day;
    None without a deadline or once it has passed."""
    ended: bool
    """True once the deadline has passed (the page says "berakhir")."""
    entry_index: int | None
    """The ``fund.target`` entry in force (None: the fund never recorded one)."""
