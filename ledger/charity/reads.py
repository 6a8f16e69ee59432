"""Read use cases: the views the API returns, built from projections in a few queries."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import NotFoundError
from ledger.formats.postings import beneficiary_account, fund_account
from ledger.store import charity as P
from ledger.store.log import Organization, Store
from schemas import kinds
from schemas.charity import Balance, BalancesView, BeneficiaryView, Earmark, FundView


def _fund_view(fund: P.FundRow, totals: dict[str, int], balance: int) -> FundView:
    raised, fees = totals.get(kinds.DONATION, 0), totals.get(kinds.FEE, 0)
    overhead = fees * 10_000 // raised if raised else 0
    return FundView(
        code=fund.code,
        name=fund.name,
        currency=fund.currency,
        minor_units=fund.minor_units,
        earmark=Earmark(**fund.earmark) if fund.earmark else None,
        fee_cap_bps=fund.fee_cap_bps,
        created_at_index=fund.entry_idx,
        raised=raised,
        disbursed=totals.get(kinds.DISBURSEMENT, 0),
        fees=fees,
        transferred_in=totals.get("transfer_in", 0),
        transferred_out=totals.get(kinds.TRANSFER, 0),
        balance=balance,
        overhead_bps=overhead,
        over_cap=overhead > fund.fee_cap_bps,
    )


async def fund_views(store: Store, org: Organization, after: str, limit: int) -> list[FundView]:
    async with store.connection() as conn:
        funds = await P.list_funds(conn, org.id, after, limit)
        codes = [f.code for f in funds]
        totals = await P.fund_totals(conn, org.id, codes)
        balances = await P.balances(conn, org.id, [fund_account(c) for c in codes])
    return [
        _fund_view(f, totals.get(f.code, {}), balances.get((fund_account(f.code), f.currency), 0))
        for f in funds
    ]


async def fund_view(store: Store, org: Organization, code: str) -> FundView:
    async with store.connection() as conn:
        fund = (await P.funds(conn, org.id, [code])).get(code)
        if fund is None:
            raise NotFoundError(f"no fund {code!r} in {org.slug}")
        totals = (await P.fund_totals(conn, org.id, [code])).get(code, {})
        balance = (await P.balances(conn, org.id, [fund_account(code)])).get(
            (fund_account(code), fund.currency), 0
        )
    return _fund_view(fund, totals, balance)


def _beneficiary_view(b: P.BeneficiaryRow, balances: dict[tuple[str, str], int]) -> BeneficiaryView:
    account = beneficiary_account(b.code)
    received = [
        Balance(account=a, currency=c, amount=v)
        for (a, c), v in sorted(balances.items())
        if a == account
    ]
    return BeneficiaryView(
        code=b.code,
        version=b.version,
        name=b.name,
        city=b.city,
        province=b.province,
        registration=b.registration,
        entry_index=b.entry_idx,
        received=received,
    )


async def beneficiary_views(
    store: Store, org: Organization, after: str, limit: int
) -> list[BeneficiaryView]:
    async with store.connection() as conn:
        rows = await P.list_beneficiaries(conn, org.id, after, limit)
        balances = await P.balances(conn, org.id, [beneficiary_account(b.code) for b in rows])
    return [_beneficiary_view(b, balances) for b in rows]


async def beneficiary_history(store: Store, org: Organization, code: str) -> list[BeneficiaryView]:
    async with store.connection() as conn:
        rows = await P.beneficiary_history(conn, org.id, code)
        if not rows:
            raise NotFoundError(f"no beneficiary {code!r} in {org.slug}")
        balances = await P.balances(conn, org.id, [beneficiary_account(code)])
    return [_beneficiary_view(b, balances) for b in rows]


async def balances_view(store: Store, org: Organization, as_of: int | None) -> BalancesView:
    """Balances of every account, now or as of a past tree size, from one consistent snapshot."""
    async with (
        store.connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        head = await store.read_head(conn, org.id)
        if as_of is None or as_of >= head.size:
            rows, size = await P.all_balances(conn, org.id), head.size
        else:
            rows, size = await P.balances_as_of(conn, org.id, as_of), as_of
    return BalancesView(
        as_of=size, balances=[Balance(account=a, currency=c, amount=v) for a, c, v in rows]
    )


@dataclass(frozen=True)
class FundActivity:
    """What a fund's public page charts, all from unreversed money entries by value date."""

    monthly: list[P.FundFlow]
    """(month, kind) → sum: donations in, disbursements out."""
    split: list[P.FundFlow]
    """(beneficiary, purpose) → sum of disbursements."""
    latest: list[P.FundMovement]
    """The newest disbursements (reversed ones included, marked)."""


async def fund_activity(store: Store, org: Organization, code: str, latest: int = 10) -> FundActivity:
    """The chart data of fund ``code`` (``NotFoundError`` when it does not exist)."""
    async with store.connection() as conn:
        if code not in await P.funds(conn, org.id, [code]):
            raise NotFoundError(f"no fund {code!r} in {org.slug}")
        monthly = await P.fund_monthly_flows(
            conn, org.id, code, [kinds.DONATION, kinds.DISBURSEMENT]
        )
        split = await P.fund_disbursement_split(conn, org.id, code, kinds.DISBURSEMENT)
        newest = await P.fund_latest_movements(conn, org.id, code, [kinds.DISBURSEMENT], latest)
    return FundActivity(monthly, split, newest)
