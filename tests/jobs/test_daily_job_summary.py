"""The daily job says how many of the notifications it created were already expired when written (a run
for a time long gone, as `eduautismo-local daily-job --time` allows): those reach no inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from eduautismo.domain import Role
from eduautismo_local.cli import daily_job_summary
from tests.support.api import call_api
from tests.support.factories import Factory
from tests.support.jobs import run_daily_job_at


def _overdue_plans(factory: Factory, count: int) -> tuple[Factory, dict[str, str]]:
    organization = factory.organization()
    professional = factory.user(organization, Role.PROFESSIONAL)
    for _ in range(count):
        factory.plan(professional, start_date=datetime.now(UTC).date() - timedelta(days=200))
    return factory, professional.claims


def test_a_run_for_a_time_long_gone_says_its_notifications_are_already_expired(
    factory: Factory, db: Engine
) -> None:
    # Given three plans overdue for months
    _, claims = _overdue_plans(factory, 3)
    # When the job runs for a time 90 days ago (its reminders expire before today)
    long_ago = datetime.now(UTC) - timedelta(days=90)
    result = {"time": long_ago.isoformat(), **run_daily_job_at(long_ago).as_dict()}
    # Then it created them, all already expired, and says so; the inbox shows none of them
    created = sum(result["created_by_type"].values())
    assert created == 3 and result["already_expired"] == 3
    printed = daily_job_summary(result)
    assert "notifications created:  3" in printed
    assert (
        "already expired:        3 (created with a --time so far back that they are in no inbox)" in printed
    )
    inbox = call_api("GET", "/api/v1/notifications", claims=claims)
    assert inbox.json["total"] == 0


def test_a_run_for_now_has_nothing_already_expired(factory: Factory, db: Engine) -> None:
    # Given the same plans
    _, claims = _overdue_plans(factory, 3)
    # When the job runs now
    now = datetime.now(UTC)
    result = {"time": now.isoformat(), **run_daily_job_at(now).as_dict()}
    # Then nothing it created is expired, and the inbox holds them all
    assert sum(result["created_by_type"].values()) == 3 and result["already_expired"] == 0
    assert "already expired:        0\n" in daily_job_summary(result)
    assert call_api("GET", "/api/v1/notifications", claims=claims).json["total"] == 3
