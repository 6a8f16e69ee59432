"""What the console's pages show, read through the same use cases as the API and the public
site (``ledger.charity.reads``, ``ledger.http.site.views``), plus the console's own reads
(``ledger.store.staff``: donations by value date, the newest money entries)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from dataclasses import dataclass

from ledger.charity import reads
from ledger.formats.note import SIGNATURE_LINE_PREFIX
from ledger.http.services import Services
from ledger.http.site.display import Money
from ledger.http.site.views import CheckpointInfo, FundRow, _all
from ledger.journal import witnessing
from ledger.store import bankimports as B
from ledger.store import charity as P
from ledger.store import recipients as R
from ledger.store import staff as S
from ledger.store.log import Organization
from schemas import kinds
from schemas.charity import BeneficiaryView, FundView

NEAR_CAP_PERCENT = 80
"""A fund whose overhead uses this much of its cap is flagged on the dashboard."""
RECENT = 10
"""Money entries listed on the dashboard."""
FOLLOW_UP = 10
"""Disbursements awaiting acknowledgment, or disputed, listed on the dashboard (the rest are
counted)."""
IMPORTS = 5
"""Bank statement files listed on the dashboard."""


async def funds(services: Services, org: Organization) -> list[FundView]:
    """Every fund, from the primary (a clerk sees what they just recorded)."""
    return await _all(
        lambda after, limit: reads.fund_views(services.store, org, after, limit), lambda f: f.code
    )


async def beneficiaries(services: Services, org: Organization) -> list[BeneficiaryView]:
    return await _all(
        lambda after, limit: reads.beneficiary_views(services.store, org, after, limit),
        lambda b: b.code,
    )


async def today(services: Services, org: Organization) -> dt.date:
    """Today in the organization's time zone (its ``org.settings``), by the service's clock."""
    async with services.store.connection() as conn:
        calendar = await P.org_calendar(conn, org)
    return calendar.today(services.clock())


@dataclass(frozen=True)
class DonationLine:
    """A fund's donations today and this month (value dates, reversed ones left out)."""

    fund: str
    today: Money
    today_count: int
    month: Money
    month_count: int


@dataclass(frozen=True)
class MoneyLine:
    """A money entry in a list."""

    index: int
    kind: str
    fund: str
    counterparty: str | None
    amount: Money
    reference: str | None
    corrected_by: int | None


@dataclass(frozen=True)
class FollowUp:
    """A disbursement to follow up: its recipient has not acknowledged it, or disputed it."""

    index: int
    fund: str
    beneficiary: str
    amount: Money
    paid_on: dt.date
    days: int
    """Days since its value date."""
    received: Money | None = None
    """Disputed: what the recipient says arrived."""
    dispute: int | None = None
    """Disputed: the dispute entry."""


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    funds: list[FundRow]
    donations: list[DonationLine]
    recent: list[MoneyLine]
    checkpoint: CheckpointInfo | None
    size: int
    """Entries in the log."""
    near_cap: list[FundRow]
    """Funds whose overhead is near or over their cap."""
    ack_days: int
    """An unacknowledged disbursement is listed once more than this many days passed since
    its value date."""
    awaiting: list[FollowUp]
    """Oldest disbursements unacknowledged for more than ``ack_days`` days."""
    awaiting_count: int
    disputed: list[FollowUp]
    """Newest disputed disbursements (unreversed)."""
    disputed_count: int
    imports: list[B.ImportListed]
    """Newest imported bank statement files."""

    @property
    def warnings(self) -> bool:
        return bool(self.near_cap or self.awaiting or self.disputed)


def money_line(row: S.MoneyListed, exponents: dict[str, int]) -> MoneyLine:
    exponent = exponents.get(row.fund)
    if exponent is None:  # a fund created after the list was read: ISO 4217's
        from schemas.money import minor_units

        exponent = minor_units(row.currency)
    return MoneyLine(
        row.index,
        row.kind,
        row.fund,
        row.counterparty,
        Money(row.amount, row.currency, exponent),
        row.reference,
        row.corrected_by,
    )


async def _checkpoint(services: Services, org: Organization) -> CheckpointInfo | None:
    """The latest checkpoint with its witness cosignatures (None before the first: the
    console never signs one just to show it)."""
    cp = await services.store.latest_checkpoint(org.id)
    if cp is None:
        return None
    note = await witnessing.cosigned_note(services.store, org.id, cp)
    signatures = note.count("\n" + SIGNATURE_LINE_PREFIX)
    own = cp.note.count("\n" + SIGNATURE_LINE_PREFIX)
    return CheckpointInfo(cp.size, base64.b64encode(cp.root).decode(), note, signatures - own)


@dataclass(frozen=True)
class _Reads:
    """What the dashboard reads on one connection."""

    today: dt.date
    size: int
    sums: list[S.DonationSums]
    recent: list[S.MoneyListed]
    awaiting: tuple[list[R.Unacknowledged], int]
    disputed: tuple[list[R.Unacknowledged], int]
    imports: list[B.ImportListed]


async def _calendar_reads(services: Services, org: Organization) -> _Reads:
    """Today, the log's size, the donation sums, the newest money entries, the disbursements
    to follow up and the newest imports: one connection."""
    async with services.store.connection() as conn:
        calendar = await P.org_calendar(conn, org)
        day = calendar.today(services.clock())
        head = await services.store.read_head(conn, org.id)
        cutoff = day - dt.timedelta(days=services.settings.ack_warning_days)
        return _Reads(
            day,
            head.size,
            await S.donation_sums(conn, org.id, day, day.replace(day=1)),
            await S.recent_money(conn, org.id, head.size, RECENT),
            await R.awaiting_before(conn, org.id, cutoff, FOLLOW_UP),
            await R.disputed(conn, org.id, FOLLOW_UP),
            await B.recent_imports(conn, org.id, IMPORTS),
        )


def _follow_up(row: R.Unacknowledged, exponent: int, today: dt.date) -> FollowUp:
    received = None
    if row.received is not None:
        received = Money(row.received, row.currency, exponent)
    return FollowUp(
        row.index,
        row.fund,
        row.beneficiary,
        Money(row.amount, row.currency, exponent),
        row.paid_on,
        (today - row.paid_on).days,
        received,
        row.dispute,
    )


async def dashboard(services: Services, org: Organization) -> Dashboard:
    """The three groups of reads run side by side, each on its own pooled connection."""
    fund_views, reads_, checkpoint = await asyncio.gather(
        funds(services, org), _calendar_reads(services, org), _checkpoint(services, org)
    )
    day, size, sums, recent = reads_.today, reads_.size, reads_.sums, reads_.recent
    rows = [FundRow.of(f) for f in fund_views]
    exponents = {f.code: f.minor_units for f in fund_views}
    donations = [
        DonationLine(
            s.fund,
            Money(s.today, s.currency, exponents.get(s.fund, 0)),
            s.today_count,
            Money(s.month, s.currency, exponents.get(s.fund, 0)),
            s.month_count,
        )
        for s in sums
    ]
    near = [
        r
        for r in rows
        if r.view.over_cap
        or (
            r.view.fee_cap_bps
            and r.view.overhead_bps * 100 >= r.view.fee_cap_bps * NEAR_CAP_PERCENT
        )
    ]
    return Dashboard(
        day,
        rows,
        donations,
        [money_line(r, exponents) for r in recent],
        checkpoint,
        size,
        near,
        services.settings.ack_warning_days,
        [_follow_up(r, exponents.get(r.fund, 0), day) for r in reads_.awaiting[0]],
        reads_.awaiting[1],
        [_follow_up(r, exponents.get(r.fund, 0), day) for r in reads_.disputed[0]],
        reads_.disputed[1],
        reads_.imports,
    )


CORRECTABLE = 20
"""Newest money entries offered on the correction page."""


async def correctable(services: Services, org: Organization) -> list[MoneyLine]:
    """The newest money entries a correction may reverse (corrections themselves left out)."""
    async with services.store.connection() as conn:
        head = await services.store.read_head(conn, org.id)
        recent = await S.recent_money(conn, org.id, head.size, CORRECTABLE)
    exponents = {f.code: f.minor_units for f in await funds(services, org)}
    return [money_line(r, exponents) for r in recent if r.kind != kinds.CORRECTION]


async def money_entry(services: Services, org: Organization, index: int) -> MoneyLine | None:
    """One money entry (None if ``index`` is not one)."""
    async with services.store.connection() as conn:
        found = await P.money_entries(conn, org.id, [index])
    row = found.get(index)
    if row is None:
        return None
    fund_views = await funds(services, org)
    exponents = {f.code: f.minor_units for f in fund_views}
    listed = S.MoneyListed(
        row.entry_idx,
        row.kind,
        row.fund,
        row.counterparty,
        row.currency,
        row.amount,
        row.reference,
        row.corrected_by,
    )
    return money_line(listed, exponents)
