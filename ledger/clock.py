"""The service's clock: the one seam through which "now" enters the ledger.

Entry times, the value-date window ("at most one day ahead") and statement issue times all
read the same clock, so a test can play a month of a charity's life (gifts recorded on
2 December, a statement issued on 3 December) against the real database by handing the app
a :class:`ManualClock`. Production uses :func:`system_clock`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC)."""


def system_clock() -> datetime:
    """The machine's time, in UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until moved (tests and demos)."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError(f"expected a timezone-aware moment, got {moment!r}")
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        """Move to ``moment`` (entry times never go backwards: the appender keeps them
        monotonic whatever the clock says)."""
        self.moment = moment

    def advance(self, by: timedelta) -> None:
        self.moment += by
