"""Review-date rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from eduautismo.domain import ReviewFrequency, add_months, days_overdue, next_review_due

SP = "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        (ReviewFrequency.DAILY, date(2026, 1, 31)),
        (ReviewFrequency.WEEKLY, date(2026, 2, 6)),
        (ReviewFrequency.BIWEEKLY, date(2026, 2, 13)),
        (ReviewFrequency.MONTHLY, date(2026, 2, 28)),
        (ReviewFrequency.QUARTERLY, date(2026, 4, 30)),
    ],
)
def test_next_review_due_from_start_date(frequency: ReviewFrequency, expected: date) -> None:
    # Given a plan started on 30 January and never reviewed
    start = date(2026, 1, 30)
    # When the due date is derived
    due = next_review_due(frequency, start, None, SP)
    # Then the interval is added in days or calendar months (clamped to the month's end)
    assert due == expected


def test_last_review_counts_in_the_organization_timezone() -> None:
    # Given a review at 01:30 UTC on 10 March, which is still 9 March in São Paulo (UTC-3)
    reviewed = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)
    # When a weekly plan's due date is derived
    due = next_review_due(ReviewFrequency.WEEKLY, date(2026, 1, 1), reviewed, SP)
    # Then the base date is the local date, 9 March
    assert due == date(2026, 3, 16)


def test_add_months_clamps_and_rolls_over_years() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_days_overdue_is_zero_when_not_overdue() -> None:
    assert days_overdue(date(2026, 11, 25), date(2026, 11, 25)) == 0
    assert days_overdue(date(2026, 11, 26), date(2026, 11, 25)) == 0
    assert days_overdue(date(2026, 11, 20), date(2026, 11, 25)) == 5
