"""The console's bank-import screen: upload a statement (*mutasi rekening*) CSV, see every line
as it would be recorded, confirm, and see what was recorded and what was skipped.

The same use case as ``ledger import-bank`` and ``POST …/bank-imports``
(``ledger.ingest.bankimports``): credits become anonymous donations to the chosen fund, in one
transaction, all or nothing; a credit whose reference the ledger already holds is skipped;
the same file again records nothing (its SHA-256 is kept in ``bank_imports``); debits are
listed and never booked. Only recorders may import (as the API: ``contract.RECORDER``).

Between the preview and the confirmation the file travels with the page, base64 in a hidden
field beside its SHA-256, instead of being stored on the server: nothing of it (the bank's
descriptions name people) is kept anywhere until the clerk confirms, so no import is ever
pending, and the confirmation records exactly the file the clerk saw (its hash is checked).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request, Response, get, post
from litestar.di import NamedDependency

from ledger.errors import InvalidInputError, LedgerError
from ledger.http.console import views
from ledger.http.console.session import (
    ROLES_OPT,
    ConsoleController,
    Translator,
    current,
    organization_of,
    posted,
    render,
)
from ledger.http.services import Services
from ledger.http.site.display import Money
from ledger.ingest import bankimports
from ledger.ingest.bankstatements import LAYOUTS
from ledger.store.log import Organization
from schemas.bankstatements import ImportCommitted

RECORDER = {ROLES_OPT: ("recorder",)}
MAX_STATEMENT_BYTES = 2 * 1024 * 1024
"""Largest statement file the console takes (a year of a busy account is far smaller)."""
SHOWN_LINES = 1000
"""Lines listed on the preview and the result (the totals always count every line)."""
BANKS = {
    "bca": "BCA (KlikBCA)",
    "mandiri": "Mandiri (Livin')",
    "bri": "BRI (BRImo / internet banking)",
}
"""The built-in layouts (``ledger.ingest.bankstatements.LAYOUTS``) as the clerk knows them."""
assert set(BANKS) == set(LAYOUTS)

Status = Literal["new", "recorded", "already", "debit", "bad"]


@dataclass(frozen=True)
class ImportLine:
    """One line of the file as the screen shows it."""

    line: int
    """Its line number in the file."""
    day: dt.date | None
    """Value date (None: the line could not be read)."""
    money: Money | None
    reference: str
    description: str
    """The bank's text (names people: shown here, never logged)."""
    status: Status
    """new: a donation a confirmation records; recorded: recorded now (``index``); already:
    the ledger held its reference; debit: money out, never booked; bad: left out or refused."""
    problem: str | None = None
    """Why the line is bad, in the clerk's language."""
    index: int | None = None
    """The donation recorded for it."""


@dataclass(frozen=True)
class Summary:
    lines: int
    new: int
    new_total: Money
    already: int
    debits: int
    debit_total: Money
    bad: int
    first: dt.date | None
    last: dt.date | None
    imported_before: bool


def _lines(
    checked: bankimports.Checked, t: Translator, done: ImportCommitted | None = None
) -> list[ImportLine]:
    """Every line, in file order: as a confirmation would record it, or (``done``) as it was."""
    fund = checked.fund
    problems = {b.line: t.error(b.problem) if b.problem else b.reason for b in checked.bad}
    indexes = _recorded_lines(checked, done) if done is not None else {}
    shown: list[ImportLine] = []
    for line in checked.lines:
        status: Status
        if line.line in problems:
            status = "bad"
        elif not line.credit:
            status = "debit"
        elif line.reference in checked.recorded or (done is not None and done.replayed):
            status = "already"
        else:
            status = "new" if done is None else "recorded"
        shown.append(
            ImportLine(
                line.line,
                line.value_date,
                Money(line.amount, fund.currency, fund.minor_units),
                line.reference,
                line.description,
                status,
                problems.get(line.line),
                indexes.get(line.line),
            )
        )
    read = {line.line for line in checked.lines}
    for number, problem in problems.items():
        if number not in read:  # a line that could not be read at all
            shown.append(ImportLine(number, None, None, "", "", "bad", problem))
    return sorted(shown, key=lambda s: s.line)


def _summary(checked: bankimports.Checked, imported_before: bool) -> Summary:
    fund = checked.fund
    bad = {b.line for b in checked.bad}
    good = [line for line in checked.lines if line.line not in bad]
    credits = [line for line in good if line.credit]
    new = [line for line in credits if line.reference not in checked.recorded]
    debits = [line for line in good if not line.credit]
    days = sorted(line.value_date for line in checked.lines)
    return Summary(
        len(checked.lines) + len(bad - {line.line for line in checked.lines}),
        len(new),
        Money(sum(line.amount for line in new), fund.currency, fund.minor_units),
        len(credits) - len(new),
        len(debits),
        Money(sum(line.amount for line in debits), fund.currency, fund.minor_units),
        len(bad),
        days[0] if days else None,
        days[-1] if days else None,
        imported_before,
    )


def _recorded_lines(checked: bankimports.Checked, done: ImportCommitted) -> dict[int, int]:
    """Line number → donation index. A commit appends the new credits in file order, in one
    transaction under the head lock, so their indexes run from ``first_index`` without gaps;
    when the ledger changed between check and commit (the counts differ), none is claimed."""
    if done.replayed or done.first_index is None:
        return {}
    new = [line for line in checked.lines if line.credit and line.reference not in checked.recorded]
    if len(new) != done.recorded:
        return {}
    return {line.line: done.first_index + n for n, line in enumerate(new)}


class ConsoleImports(ConsoleController):
    """``/console/imports``: upload, preview, confirm (recorders)."""

    @get("/imports", opt=RECORDER)
    async def imports_page(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        values = {"fund": "", "layout": "bca", "year": ""}
        return await self._upload(request, services, org, values, None)

    async def _upload(
        self,
        request: Request,
        services: Services,
        org: Organization,
        values: dict[str, str],
        problem: str | None,
        status: int = 200,
    ) -> Response[Any]:
        funds = await views.funds(services, org)
        return render(
            request,
            "console/imports.html",
            status=status,
            active="imports",
            org=org,
            step="upload",
            values=values,
            problem=problem,
            fund_options=[(f.code, f"{f.name} ({f.currency})") for f in funds],
            bank_options=list(BANKS.items()),
        )

    @post("/imports", opt=RECORDER)
    async def import_statement(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        form, _, org, t = await posted(request, services)
        values = {k: str(form.get(k, "") or "").strip() for k in ("fund", "layout", "year")}
        step = str(form.get("step", "preview"))
        exclude: list[int] = []
        if step == "confirm" and form.get("leave_out"):
            exclude = [int(n) for n in str(form.get("exclude", "")).split(",") if n.isdigit()]
        try:
            data = await _statement(form, step)
            checked = await self._check(services, org, values, data, exclude)
        except LedgerError as exc:
            return await self._upload(request, services, org, values, t.error(exc), 422)
        fund_name = next(
            (f.name for f in await views.funds(services, org) if f.code == checked.fund.code),
            checked.fund.code,
        )
        page = {
            "active": "imports",
            "org": org,
            "values": values,
            "fund_name": fund_name,
            "statement": base64.b64encode(data).decode(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bank": BANKS.get(values["layout"], values["layout"]),
        }
        if step != "confirm":
            before = (await bankimports.preview(services.store, org, checked)).imported_before
            return render(
                request,
                "console/imports.html",
                step="preview",
                lines=_lines(checked, t)[:SHOWN_LINES],
                summary=_summary(checked, before),
                exclude=",".join(str(b.line) for b in checked.bad),
                problem=None,
                **page,
            )
        try:
            done = await bankimports.commit(services.store, services.clock, org, checked)
        except LedgerError as exc:
            return render(
                request,
                "console/imports.html",
                status=409,
                step="preview",
                lines=_lines(checked, t)[:SHOWN_LINES],
                summary=_summary(checked, False),
                exclude=",".join(str(b.line) for b in checked.bad),
                problem=t.error(exc),
                **page,
            )
        return render(
            request,
            "console/imports.html",
            step="done",
            done=done,
            lines=_lines(checked, t, done)[:SHOWN_LINES],
            summary=_summary(checked, done.replayed),
            left_out=len(exclude),
            problem=None,
            **page,
        )

    async def _check(
        self,
        services: Services,
        org: Organization,
        values: dict[str, str],
        data: bytes,
        exclude: list[int],
    ) -> bankimports.Checked:
        """The file read with the chosen bank's layout and checked against the ledger, without
        the lines the clerk agreed to leave out (``exclude``)."""
        if values["fund"] not in {f.code for f in await views.funds(services, org)}:
            raise InvalidInputError.of("choose the fund the gifts go to")
        layout = LAYOUTS.get(values["layout"])
        if layout is None:
            raise InvalidInputError.of("choose the bank the statement comes from")
        year = None
        if values["year"]:
            if not (values["year"].isdigit() and 2000 <= int(values["year"]) <= 2100):
                raise InvalidInputError.of(
                    "the year has four digits, for example {example}", example="2026"
                )
            year = int(values["year"])
        return await bankimports.check(
            services.store, services.clock, org, values["fund"], data, layout, year, exclude
        )


async def _statement(form: dict[str, Any], step: str) -> bytes:
    """The statement's bytes: the uploaded file, or on confirmation the copy the preview page
    carried (refused unless it still has the SHA-256 the preview showed)."""
    if step == "confirm":
        try:
            data = base64.b64decode(str(form.get("statement", "")), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if not data or hashlib.sha256(data).hexdigest() != str(form.get("sha256", "")):
            raise InvalidInputError.of(
                "the statement did not come back whole; choose the file again"
            )
        return data
    upload = form.get("statement_file")
    data = await upload.read() if hasattr(upload, "read") else b""
    if not data:
        raise InvalidInputError.of("choose the statement file (CSV) exported from internet banking")
    if len(data) > MAX_STATEMENT_BYTES:
        raise InvalidInputError.of(
            "the file is larger than {most} MB: export a shorter period",
            most=MAX_STATEMENT_BYTES // 2**20,
        )
    return data
