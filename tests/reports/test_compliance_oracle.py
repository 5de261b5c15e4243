"""The report agrees exactly with an oracle written independently in plain Python over random plans and
review histories: each review walked in time order, its due date from the review before it (or the
start date) and the plan's interval, months added by hand with the month-end clamp."""

from __future__ import annotations

import calendar
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from eduautismo.domain import Role
from tests.reports.conftest import record_reviews, report
from tests.support.factories import Factory

TIMEZONE = "America/Sao_Paulo"
NOW = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)  # 1 March 2026, 23:30 in São Paulo
TODAY = date(2026, 3, 1)
DUE_SOON_DAYS = 3
FREQUENCIES = ("daily", "weekly", "biweekly", "monthly", "quarterly")
STATUSES = ("active", "active", "paused", "completed")
# Accents and case, so the order by name is tested as people read it.
NAMES = ("Ávila Souza", "ana Lima", "Bruno Costa")


@dataclass(frozen=True)
class PlanCase:
    professional: int
    frequency: str
    status: str
    start: date
    # Each review: days after (or before) the due date in force, and the local hour it was recorded.
    review_steps: tuple[tuple[int, int], ...]

    def moments(self) -> list[datetime]:
        """When the reviews were recorded (aware instants); steps land on, near and past due dates."""
        moments, previous = [], self.start
        for days, hour in self.review_steps:
            day = max(_plus(previous, self.frequency) + timedelta(days=days), previous)
            moments.append(_local_midnight(day) + timedelta(hours=hour))
            previous = day
        return moments


def _plus(day: date, frequency: str) -> date:
    """The oracle's own interval arithmetic."""
    steps = {"daily": 1, "weekly": 7, "biweekly": 14}
    if frequency in steps:
        return day + timedelta(days=steps[frequency])
    months = 1 if frequency == "monthly" else 3
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(TIMEZONE))


def _oracle(
    cases: list[PlanCase], names: list[str], ids: list[Any], date_from: date, date_to: date
) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for case in cases:
        row = rows.setdefault(
            case.professional,
            dict.fromkeys(
                ("active_plans", "overdue_now", "due_soon", "reviews", "on_time", "late", "days_late"), 0
            ),
        )
        previous = case.start
        for moment in sorted(case.moments()):
            local = moment.astimezone(ZoneInfo(TIMEZONE)).date()
            due = _plus(previous, case.frequency)
            if date_from <= local <= date_to:
                row["reviews"] += 1
                if local <= due:
                    row["on_time"] += 1
                else:
                    row["late"] += 1
                    row["days_late"] += (local - due).days
            previous = local
        current_due = _plus(previous, case.frequency)
        if case.status == "active":
            row["active_plans"] += 1
            row["overdue_now"] += current_due < TODAY
            row["due_soon"] += TODAY <= current_due <= TODAY + timedelta(days=DUE_SOON_DAYS)
    items = []
    for index, row in rows.items():
        items.append(
            {
                "professional_id": str(ids[index]),
                "professional_name": names[index],
                "active_plans": row["active_plans"],
                "overdue_now": row["overdue_now"],
                "due_soon": row["due_soon"],
                "reviews_in_period": row["reviews"],
                "on_time_reviews": row["on_time"],
                "late_reviews": row["late"],
                "on_time_rate": round(row["on_time"] / row["reviews"], 4) if row["reviews"] else None,
                "average_days_late": round(row["days_late"] / row["late"], 2) if row["late"] else None,
            }
        )

    def reading_order(item: dict[str, Any]) -> tuple[str, str, str]:
        bare = "".join(
            c for c in unicodedata.normalize("NFD", item["professional_name"]) if not unicodedata.combining(c)
        )
        return bare.lower(), item["professional_name"], item["professional_id"]

    return sorted(items, key=reading_order)


plan_cases = st.builds(
    PlanCase,
    professional=st.integers(0, len(NAMES) - 1),
    frequency=st.sampled_from(FREQUENCIES),
    status=st.sampled_from(STATUSES),
    start=st.dates(date(2025, 6, 1), date(2026, 2, 28)),
    review_steps=st.lists(st.tuples(st.integers(-3, 4), st.sampled_from((0, 9, 23))), max_size=6).map(tuple),
)


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cases=st.lists(plan_cases, min_size=1, max_size=6),
    date_from=st.dates(date(2025, 6, 1), date(2026, 3, 1)),
    length=st.integers(0, 200),
)
def test_report_equals_the_oracle(
    factory: Factory, db: Engine, set_now: Any, cases: list[PlanCase], date_from: date, length: int
) -> None:
    # Given an organization whose professionals hold random plans with random review histories
    set_now(NOW)
    organization = factory.organization(timezone=TIMEZONE)
    coordinator = factory.user(organization, Role.COORDINATOR, name="Coordenação")
    professionals = [factory.user(organization, Role.PROFESSIONAL, name=name) for name in NAMES]
    for case in cases:
        owner = professionals[case.professional]
        plan = factory.plan(
            owner,
            review_frequency=case.frequency,
            status=case.status,
            start_date=case.start,
            timezone=TIMEZONE,
        )
        if case.review_steps:
            record_reviews(db, plan, owner, case.moments())
    date_to = date_from + timedelta(days=length)
    # When the coordinator asks for the period
    response = report(coordinator, date_from=date_from.isoformat(), date_to=date_to.isoformat())
    # Then every item equals the oracle's, in the oracle's order
    assert response.status == 200, response.json
    expected = _oracle(cases, list(NAMES), [actor.user_id for actor in professionals], date_from, date_to)
    assert response.json["items"] == expected
    # And the totals are the counters summed, the rates recomputed from them
    totals = response.json["totals"]
    reviews = sum(item["reviews_in_period"] for item in expected)
    on_time = sum(item["on_time_reviews"] for item in expected)
    assert totals["reviews_in_period"] == reviews
    assert totals["on_time_rate"] == (round(on_time / reviews, 4) if reviews else None)
    assert response.json["period"] == {
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "timezone": TIMEZONE,
    }
