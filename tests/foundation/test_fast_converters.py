"""The engine reads dates and timestamps with fromisoformat: the same values pg8000 would return."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from pg8000 import converters
from sqlalchemy import Engine, text

from eduautismo.db.engine import _fast_date, _fast_timestamptz


def test_dates_and_timestamps_read_back_exactly(migrated_engine: Engine) -> None:
    # Given values with and without fractions of a second, and a non-UTC offset
    with migrated_engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT DATE '2026-02-28', TIMESTAMPTZ '2026-11-25 12:00:00+00', "
                "TIMESTAMPTZ '2026-11-25 12:00:00.1234-03', TIMESTAMPTZ '1999-12-31 23:59:59.999999+00'"
            )
        ).one()
    # Then they are the same values (the session's time zone is UTC)
    assert row[0] == date(2026, 2, 28)
    assert row[1] == datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert row[2] == datetime(2026, 11, 25, 15, 0, 0, 123400, tzinfo=UTC)
    assert row[3] == datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_text_fromisoformat_cannot_read_falls_back_to_pg8000() -> None:
    for value in ("infinity", "-infinity", "0044-03-15 BC"):
        assert _fast_date(value) == converters.date_in(value)
    assert _fast_timestamptz("infinity") == converters.timestamptz_in("infinity")
    offset = _fast_timestamptz("2026-11-25 12:00:00+05:30")
    assert offset == converters.timestamptz_in("2026-11-25 12:00:00+05:30")
    assert offset.utcoffset() == timedelta(hours=5, minutes=30)
    assert offset.tzinfo == timezone(timedelta(hours=5, minutes=30))
