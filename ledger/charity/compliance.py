"""A fund's standing under Indonesian rules, from its ``fund.classified`` and ``fund.permit``
entries (schemas.compliance): pure functions, shared by the rules (admission), the reports
and the public pages, so each reads the same log the same way.

* Restriction (ISAK 35): the newest ``fund.classified`` says; a fund never classified is
  ``with`` restriction when it is earmarked (a donor's purpose binds it) and ``without``
  otherwise.
* Permit (PUB): a donation is admitted when the fund has no permit entry at all (the
  ledger cannot know the fund needs one; pages then say "no permit recorded"), when its
  newest entry is an exemption, or when one of its permits covers the donation's value date.
  Otherwise it is refused, with the permit that lapsed named.
* Amil share (PSAK 109): what zakat funds transfer to amil funds stays within the
  organization's cap (``org.profile``, 1/8 by default) of the zakat they collected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from ledger.errors import NotFoundError
from ledger.store import charity as P
from ledger.store import compliance as S
from schemas.base import MAX_INDEX
from schemas.compliance import (
    DEFAULT_AMIL_CAP_BPS,
    FundClassifiedBody,
    FundCompliance,
    FundPermitBody,
    OrgProfileBody,
    OrgProfileView,
    PermitView,
    Restriction,
)
from schemas.statements import StatementPermit


@dataclass
class Standing:
    """One fund's classes and permits, as of some point of the log."""

    fund: str
    earmarked: bool = False
    classified: FundClassifiedBody | None = None
    classified_at: int | None = None
    permits: list[tuple[int, FundPermitBody]] = field(default_factory=list)

    @property
    def restriction(self) -> Restriction:
        if self.classified is not None:
            return self.classified.restriction
        return "with" if self.earmarked else "without"

    @property
    def zakat_class(self) -> str | None:
        return self.classified.zakat_class if self.classified is not None else None

    @property
    def tax_category(self) -> str | None:
        return self.classified.tax_category if self.classified is not None else None

    def add(self, index: int, body: FundClassifiedBody | FundPermitBody) -> None:
        """Take one more entry of the fund into account (entries in log order)."""
        if isinstance(body, FundClassifiedBody):
            self.classified, self.classified_at = body, index
        else:
            self.permits.append((index, body))

    @property
    def exempt(self) -> str | None:
        """The exemption the fund collects under now (its newest permit entry), or None."""
        return self.permits[-1][1].exemption if self.permits else None

    def permit_on(self, day: dt.date) -> FundPermitBody | None:
        """The newest permit whose validity covers ``day``, or None."""
        for _, p in reversed(self.permits):
            if p.valid_from is not None and p.valid_until is not None and (
                p.valid_from <= day <= p.valid_until
            ):
                return p
        return None

    def lapsed(self, day: dt.date) -> FundPermitBody | None:
        """The permit that fails a donation with value date ``day`` (the newest one), or
        None when the donation may be collected."""
        if not self.permits or self.exempt is not None or self.permit_on(day) is not None:
            return None
        return self.permits[-1][1]

    def view(self) -> FundCompliance:
        return FundCompliance(
            fund=self.fund,
            restriction=self.restriction,
            zakat_class=self.zakat_class,  # type: ignore[arg-type]
            tax_category=self.tax_category,  # type: ignore[arg-type]
            classified_at_index=self.classified_at,
            permits=[
                PermitView(
                    entry_index=i,
                    number=p.number,
                    issuer=p.issuer,
                    valid_from=p.valid_from,
                    valid_until=p.valid_until,
                    exemption=p.exemption,
                )
                for i, p in self.permits
            ],
        )


def standings(
    funds: dict[str, Any], entries: Iterable[tuple[int, FundClassifiedBody | FundPermitBody]]
) -> dict[str, Standing]:
    """Every fund's standing: ``funds`` maps code to its earmark (or None), ``entries`` are
    the funds' compliance entries in log order."""
    found = {code: Standing(code, earmarked=bool(earmark)) for code, earmark in funds.items()}
    for index, body in entries:
        found.setdefault(body.fund, Standing(body.fund)).add(index, body)
    return found


def amil_cap_bps(profile: OrgProfileBody | None) -> int:
    """The organization's amil cap (the default 1/8 when it recorded no profile)."""
    return profile.amil_cap_bps if profile is not None else DEFAULT_AMIL_CAP_BPS


def amil_allowed(raised: int, cap_bps: int) -> int:
    """Most minor units an amil fund may take from ``raised`` zakat (rounded down)."""
    return raised * cap_bps // 10_000


def zakat_mismatch(c: FundClassifiedBody) -> bool:
    """True when a classification gives zakat receipts from a fund that is not a zakat fund,
    or gives a zakat fund's gifts another tax category."""
    if c.tax_category == "zakat":
        return c.zakat_class != "zakat"
    return c.zakat_class == "zakat" and c.tax_category is not None


@dataclass
class Compliance:
    """An organization's standing as of some tree size: every fund's, and its profile."""

    funds: dict[str, Standing]
    profile: OrgProfileBody | None
    profile_index: int | None


MAX_FUNDS = 100_000
"""More funds than any organization has (the reads list them all)."""


async def read(conn: asyncpg.Connection, org_id: int, size: int = MAX_INDEX) -> Compliance:
    """The organization's compliance as its first ``size`` entries record it (every fund,
    classified or not, with its defaults)."""
    found = await S.compliance_entries(conn, org_id, size)
    funds = await P.list_funds(conn, org_id, "", MAX_FUNDS)
    by_code = standings({f.code: f.earmark for f in funds if f.entry_idx < size}, found.funds)
    return Compliance(by_code, found.profile, found.profile_index)


def profile_view(profile: OrgProfileBody | None, index: int | None) -> OrgProfileView:
    return OrgProfileView(
        legal_name=profile.legal_name if profile else None,
        npwp=profile.npwp if profile else None,
        address=profile.address if profile else None,
        zakat_license=profile.zakat_license if profile else None,
        amil_cap_bps=amil_cap_bps(profile),
        entry_index=index,
    )


async def fund_view(store: Any, org_id: int, code: str) -> FundCompliance:
    """One fund's standing now (``NotFoundError`` for a fund the log does not have)."""
    async with store.connection() as conn:
        found = await read(conn, org_id)
    standing = found.funds.get(code)
    if standing is None:
        raise NotFoundError(f"no fund {code!r} in this organization")
    return standing.view()


async def org_view(store: Any, org_id: int) -> OrgProfileView:
    async with store.connection() as conn:
        found = await S.compliance_entries(conn, org_id)
    return profile_view(found.profile, found.profile_index)


def period_permit(standing: Standing, first: dt.date, last: dt.date) -> StatementPermit | None:
    """What a statement of the days ``first``..``last`` says of the fund's permit: its
    exemption, the newest permit overlapping the period (and how much of it it covers), or
    the newest permit, lapsed (None: the fund recorded none)."""
    if not standing.permits:
        return None
    index, newest = standing.permits[-1]
    if newest.exemption is not None:
        return _permit(index, newest, "period")
    for index, p in reversed(standing.permits):
        assert p.valid_from is not None and p.valid_until is not None
        if p.valid_from <= last and p.valid_until >= first:
            whole = p.valid_from <= first and p.valid_until >= last
            return _permit(index, p, "period" if whole else "part")
    return _permit(index, newest, "none")


def _permit(index: int, p: FundPermitBody, covers: str) -> StatementPermit:
    return StatementPermit(
        entry=index,
        number=p.number,
        issuer=p.issuer,
        valid_from=p.valid_from,
        valid_until=p.valid_until,
        exemption=p.exemption,
        covers=covers,  # type: ignore[arg-type]
    )


def permit_state(view: FundCompliance, today: dt.date) -> str:
    """What a page says of a fund's permit today: ``exempt`` (its newest entry is an
    exemption), ``valid`` (a permit covers today), ``lapsed`` (permits, none covering
    today), or ``none`` (no permit recorded)."""
    if not view.permits:
        return "none"
    if view.permits[-1].exemption is not None:
        return "exempt"
    for p in view.permits:
        if p.valid_from is not None and p.valid_until is not None and (
            p.valid_from <= today <= p.valid_until
        ):
            return "valid"
    return "lapsed"
