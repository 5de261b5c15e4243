"""The clock is an adapter so that tests and the daily job control "now"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


def local_today(now: datetime, timezone: str) -> date:
    """The calendar date of ``now`` in an organization's timezone."""
    return now.astimezone(ZoneInfo(timezone)).date()


def start_of(day: date, timezone: str) -> datetime:
    """The first instant of ``day`` in ``timezone``."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone))
