"""An organization's day, as every feature that shows or filters by dates needs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from eduautismo.clock import local_today, start_of


@dataclass(frozen=True, slots=True)
class LocalDay:
    """An organization's "today", its timezone, and the last day of its due-soon window."""

    today: date
    timezone: str
    due_horizon: date

    @classmethod
    def at(cls, now: datetime, timezone: str, due_soon_days: int) -> LocalDay:
        today = local_today(now, timezone)
        return cls(today=today, timezone=timezone, due_horizon=today + timedelta(days=due_soon_days))

    def start_of(self, day: date) -> datetime:
        return start_of(day, self.timezone)
