"""Value dates and the organization's calendar (docs/FORMAT.md section 6, ``org.settings``).

Every money entry has a value date, when the money moved, as a local date of the
organization: ``received_on`` (donation), ``paid_on`` (disbursement), ``transferred_on``
(transfer), ``charged_on`` (fee) and ``effective_on`` (correction). Its recording time is
the entry's ``time``. Periods, statements and annual receipts follow value dates; the log's
order and its proofs follow recording.

The calendar is recorded in the log by ``org.settings`` entries (an admin's): the IANA time
zone and the books-open date. A log with none uses :data:`DEFAULT_TIME_ZONE` and opens its
books :data:`BOOKS_OPEN_YEARS` years before its ``log.created`` entry's date (in that zone). A value date
is accepted from books-open to one day after today in the organization's zone: later ones
are typos (9999-12-31), earlier ones belong to books that are not in this ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ledger.errors import RuleError
from schemas import kinds

DEFAULT_TIME_ZONE = "Asia/Jakarta"
"""The zone of a log that recorded none (WIB)."""

BOOKS_OPEN_YEARS = 5
"""A log that recorded no books-open date accepts value dates from this many years before
its creation date."""

DAYS_AHEAD = 1
"""How far past today (in the organization's zone) a value date may be: a gift received
late in the evening in Jayapura (WIT) is already tomorrow for a server in Jakarta."""

VALUE_DATE_FIELDS = {
    kinds.DONATION: "received_on",
    kinds.DISBURSEMENT: "paid_on",
    kinds.TRANSFER: "transferred_on",
    kinds.FEE: "charged_on",
    kinds.CORRECTION: "effective_on",
}
"""The body member that holds each money entry kind's value date."""


class ValueDateError(RuleError):
    """A value date outside the organization's books (422)."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a RuleError naming the field when it does not exist."""
    try:
        if name in available_timezones():
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise RuleError(
        f"time_zone: expected an IANA time zone name such as 'Asia/Jakarta', 'Asia/Makassar' "
        f"or 'Asia/Jayapura', got {name!r}"
    )


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Calendar:
    """An organization's time zone and books-open date, as its log records them."""

    time_zone: str
    """IANA zone name: periods are ``[from, to)`` of its local dates."""
    books_open: dt.date
    """The earliest value date the organization records."""

    @classmethod
    def default(cls, created_at: dt.datetime) -> Calendar:
        """The calendar of a log that recorded no ``org.settings``; ``created_at`` is the
        time of its ``log.created`` entry (entry 0)."""
        created = created_at.astimezone(ZoneInfo(DEFAULT_TIME_ZONE)).date()
        return cls(DEFAULT_TIME_ZONE, _years_before(created, BOOKS_OPEN_YEARS))

    def today(self, now: dt.datetime) -> dt.date:
        """The local date at ``now``."""
        return now.astimezone(ZoneInfo(self.time_zone)).date()

    def midnight(self, day: dt.date) -> dt.datetime:
        """The moment ``day`` begins in the organization's zone."""
        return dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.time_zone))

    def check(self, field: str, value: dt.date, now: dt.datetime) -> None:
        """Raise :class:`ValueDateError` unless books-open <= ``value`` <= tomorrow."""
        latest = self.today(now) + dt.timedelta(days=DAYS_AHEAD)
        if not self.books_open <= value <= latest:
            raise ValueDateError(
                f"{field}: expected a date from {self.books_open.isoformat()} to "
                f"{latest.isoformat()} (books open {self.books_open.isoformat()}; at most one "
                f"day ahead), got {value.isoformat()}"
            )


def check_entry(kind: str, body: dict[str, Any], calendar: Calendar, now: dt.datetime) -> None:
    """Check a money entry's value date; complete a correction's ``effective_on`` (today in
    the organization's zone when the request gave none). Other kinds pass untouched."""
    field = VALUE_DATE_FIELDS.get(kind)
    if field is None:
        return
    value = body.get(field)
    if value is None:
        if kind != kinds.CORRECTION:
            raise ValueDateError(f"{field}: expected a date as YYYY-MM-DD, got nothing")
        body[field] = value = calendar.today(now).isoformat()
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    calendar.check(field, day, now)


def correction_effective_on(body: dict[str, Any], recorded: dt.datetime | str) -> dt.date:
    """A correction's value date (the day its reversal counts from, shown wherever the
    reversal is): its ``effective_on``; a correction written before value dates existed has
    none, and its value date is the day it was recorded (``recorded``: the entry's time) in
    Asia/Jakarta (docs/FORMAT.md "Value dates")."""
    effective = body.get("effective_on")
    if isinstance(effective, str):
        return dt.date.fromisoformat(effective)
    if isinstance(effective, dt.date):
        return effective
    if isinstance(recorded, str):
        recorded = dt.datetime.fromisoformat(recorded.replace("Z", "+00:00"))
    return recorded.astimezone(ZoneInfo(DEFAULT_TIME_ZONE)).date()


SETTINGS_KIND = kinds.ORG_SETTINGS
"""The entry kind that records an organization's calendar."""


def admit(kind: str, body: dict[str, Any], calendar: Calendar, now: dt.datetime) -> Calendar:
    """The rule for one intent, in batch order: a money entry's value date must be in the
    books; an ``org.settings`` entry is completed with the current values it leaves out and
    checked (a known zone; books open no later than today). Returns the calendar in force
    after the intent."""
    if kind != SETTINGS_KIND:
        check_entry(kind, body, calendar, now)
        return calendar
    body.setdefault("time_zone", calendar.time_zone)
    body.setdefault("books_open", calendar.books_open.isoformat())
    if body["time_zone"] is None:
        body["time_zone"] = calendar.time_zone
    if body["books_open"] is None:
        body["books_open"] = calendar.books_open.isoformat()
    zone(body["time_zone"])
    opened = body["books_open"]
    opened = opened if isinstance(opened, dt.date) else dt.date.fromisoformat(opened)
    new = Calendar(body["time_zone"], opened)
    if opened > new.today(now):
        raise ValueDateError(
            f"books_open: expected a date no later than today ({new.today(now).isoformat()}), "
            f"got {opened.isoformat()}"
        )
    body["books_open"] = opened.isoformat()
    return new


def needs_calendar(names: Any) -> bool:
    """Whether admitting entries of these kinds (``names``) reads the calendar."""
    return any(k in VALUE_DATE_FIELDS or k == SETTINGS_KIND for k in names)


def period_label_end(to: dt.date) -> dt.date:
    """The last day of a period ``[from, to)``: what people read as its end."""
    return to - dt.timedelta(days=1)


__all__ = [
    "BOOKS_OPEN_YEARS",
    "DAYS_AHEAD",
    "DEFAULT_TIME_ZONE",
    "SETTINGS_KIND",
    "VALUE_DATE_FIELDS",
    "Calendar",
    "ValueDateError",
    "admit",
    "check_entry",
    "needs_calendar",
    "period_label_end",
    "zone",
]
