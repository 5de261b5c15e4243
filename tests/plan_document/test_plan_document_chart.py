"""The chart of reviews per month agrees with the compliance report: for each of the 12 months, the
numbers printed under the month equal the report's on-time and late totals for that month, for the same
caller (the report is the oracle: both grade reviews with one rule)."""

from __future__ import annotations

import calendar
import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from eduautismo.domain import ReviewFrequency, add_months, review_interval
from tests.plan_document.conftest import (
    NOW,
    TIMEZONE,
    TODAY,
    School,
    page_texts,
    plan_document,
    record_reviews,
    school,
    stored_pdf,
)
from tests.reports.conftest import report
from tests.support.factories import Actor, Factory

MONTHS_PT = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")
CHART_LINE = re.compile(r"\b(jan|fev|mar|abr|mai|jun|jul|ago|set|out|nov|dez)/(\d\d)\s*\n(\d+) · (\d+)")


def _next_due(day: date, frequency: str) -> date:
    months, days = review_interval(ReviewFrequency(frequency))
    return add_months(day, months) + timedelta(days=days)


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(TIMEZONE))


def _chart(content: bytes) -> dict[tuple[int, int], tuple[int, int]]:
    """{(year, month): (on time, late)} as printed under the chart's bars."""
    found = CHART_LINE.findall(page_texts(content)[0])
    return {
        (2000 + int(year), MONTHS_PT.index(month) + 1): (int(on_time), int(late))
        for month, year, on_time, late in found
    }


def _report_by_month(actor: Actor) -> dict[tuple[int, int], tuple[int, int]]:
    counts = {}
    for month in range(1, 13):
        last = min(date(2026, month, calendar.monthrange(2026, month)[1]), TODAY)
        answer = report(actor, date_from=date(2026, month, 1).isoformat(), date_to=last.isoformat())
        assert answer.status == 200, answer.body
        totals = answer.json["totals"]
        counts[(2026, month)] = (totals["on_time_reviews"], totals["late_reviews"])
    return counts


@pytest.mark.usefixtures("clock_at_now")
def test_the_chart_numbers_equal_the_compliance_report_for_each_month(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given one student with plans of two professionals, of every frequency, reviewed on, near and past
    # their due dates over 2025-2026 (a review late in the evening: the next day in UTC), and another
    # school whose reviews must not count
    steps = {
        "daily": (0, 1, 0, 2, 0, 0, 5, 0, 1),
        "weekly": (0, 3, -2, 0, 9, 0, 1, -1, 0, 14, 2, 0, 0),
        "biweekly": (0, 1, 20, -3, 0, 0, 4, 30, 0),
        "monthly": (0, 2, 0, -5, 1, 0, 12, 0, 0, 3, 0),
        "quarterly": (0, 10, -20, 0, 1),
    }
    for index, (frequency, offsets) in enumerate(steps.items()):
        responsible = place.professional if index % 2 == 0 else place.other_professional
        start = date(2025, 11, 3) + timedelta(days=11 * index)
        plan = factory.plan(responsible, student_id=helena, review_frequency=frequency, start_date=start)
        moments, day = [], start
        for number, offset in enumerate(offsets):
            day = _next_due(day, frequency) + timedelta(days=offset)
            moments.append(_local(day, 23, 30) if number % 3 == 2 else _local(day, 9))
        record_reviews(db, plan, responsible, [moment for moment in moments if moment < NOW])
    elsewhere = school(factory, "Outra Escola")
    foreign = factory.plan(elsewhere.professional, start_date=date(2026, 1, 5))
    record_reviews(db, foreign, elsewhere.professional, [_local(date(2026, 3, d), 10) for d in (2, 20, 25)])
    # When the coordinator and one professional download the student's document
    assert plan_document(place.coordinator, helena).status == 200
    coordinator_chart = _chart(stored_pdf(s3, db, place.coordinator))
    assert plan_document(place.professional, helena).status == 200
    professional_chart = _chart(stored_pdf(s3, db, place.professional))
    # Then each chart has the 12 months up to this one, with the report's numbers for the same caller
    assert sorted(coordinator_chart) == [(2026, month) for month in range(1, 13)]
    assert coordinator_chart == _report_by_month(place.coordinator)
    assert professional_chart == _report_by_month(place.professional)
    # And the data is not trivial: both kinds of review occur, and the professional sees fewer
    assert sum(on_time for on_time, _ in coordinator_chart.values()) > 0
    assert sum(late for _, late in coordinator_chart.values()) > 0
    assert sum(map(sum, professional_chart.values())) < sum(map(sum, coordinator_chart.values()))
