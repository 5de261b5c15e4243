"""GET /reports/review-compliance: the on-time rule at its edges, the period, the scope, the input bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, update

from eduautismo.db.models import InterventionPlan
from eduautismo.domain import Role
from tests.reports.conftest import record_reviews, report
from tests.support.factories import Actor, Factory

TIMEZONE = "America/Sao_Paulo"


def _team(factory: Factory) -> tuple[Actor, Actor, Actor]:
    organization = factory.organization(timezone=TIMEZONE)
    return (
        factory.user(organization, Role.COORDINATOR, name="Coordenação"),
        factory.user(organization, Role.PROFESSIONAL, name="Ana Souza"),
        factory.user(organization, Role.PROFESSIONAL, name="Bruno Lima"),
    )


def _team_on(factory: Factory, set_now: Any, now: datetime) -> tuple[Actor, Actor, Actor]:
    """The team, the clock set to ``now`` (the report's default period and "today" follow it)."""
    set_now(now)
    return _team(factory)


def _item(body: dict[str, Any], actor: Actor) -> dict[str, Any]:
    return next(item for item in body["items"] if item["professional_id"] == str(actor.user_id))


def test_a_review_at_2330_local_on_its_due_date_is_on_time_and_0030_the_next_day_is_late(
    factory: Factory, db: Engine, set_now: Any
) -> None:
    # Given two weekly plans started on 1 Nov 2026 (due 8 Nov), one reviewed at 23:30 on 8 Nov in São
    # Paulo (02:30 UTC on the 9th), the other at 00:30 on 9 Nov (03:30 UTC)
    coordinator, ana, bruno = _team_on(factory, set_now, datetime(2026, 11, 20, 15, tzinfo=UTC))
    for professional, reviewed_at in (
        (ana, datetime(2026, 11, 9, 2, 30, tzinfo=UTC)),
        (bruno, datetime(2026, 11, 9, 3, 30, tzinfo=UTC)),
    ):
        plan = factory.plan(professional, review_frequency="weekly", start_date=date(2026, 11, 1))
        record_reviews(db, plan, professional, [reviewed_at])
    # When the coordinator asks for November
    body = report(coordinator, date_from="2026-11-01", date_to="2026-11-30").json
    # Then Ana's review is on time and Bruno's is one day late
    assert (_item(body, ana)["on_time_reviews"], _item(body, ana)["late_reviews"]) == (1, 0)
    assert (_item(body, bruno)["late_reviews"], _item(body, bruno)["average_days_late"]) == (1, 1.0)
    assert _item(body, ana)["on_time_rate"] == 1.0
    assert _item(body, bruno)["on_time_rate"] == 0.0


def test_a_monthly_plan_started_on_31_january_is_due_on_the_last_day_of_february(
    factory: Factory, db: Engine, set_now: Any
) -> None:
    # Given monthly plans started on 31 Jan 2024 (leap year) and 31 Jan 2025
    coordinator, ana, bruno = _team_on(factory, set_now, datetime(2025, 6, 1, 15, tzinfo=UTC))
    leap = factory.plan(ana, review_frequency="monthly", start_date=date(2024, 1, 31))
    common = factory.plan(bruno, review_frequency="monthly", start_date=date(2025, 1, 31))
    # When the leap-year plan is reviewed on 29 Feb and then 30 Mar (due 29 Mar: one day late), and the
    # other on 28 Feb and then 29 Mar (due 28 Mar: one day late), at noon in São Paulo
    record_reviews(
        db, leap, ana, [datetime(2024, 2, 29, 15, tzinfo=UTC), datetime(2024, 3, 30, 15, tzinfo=UTC)]
    )
    record_reviews(
        db, common, bruno, [datetime(2025, 2, 28, 15, tzinfo=UTC), datetime(2025, 3, 29, 15, tzinfo=UTC)]
    )
    body = report(coordinator, date_from="2024-01-01", date_to="2025-05-31").json
    # Then each February review is on time and each March review one day late
    for actor in (ana, bruno):
        item = _item(body, actor)
        assert (item["on_time_reviews"], item["late_reviews"], item["average_days_late"]) == (1, 1, 1.0)
        assert item["on_time_rate"] == 0.5


def test_a_review_before_the_period_sets_the_due_date_of_the_first_one_in_it(
    factory: Factory, db: Engine, set_now: Any
) -> None:
    # Given a weekly plan reviewed on 25 Oct and then 3 Nov (due 1 Nov: two days late), and on 10 Nov
    coordinator, ana, _ = _team_on(factory, set_now, datetime(2026, 11, 20, 15, tzinfo=UTC))
    plan = factory.plan(ana, review_frequency="weekly", start_date=date(2026, 10, 18))
    moments = [datetime(2026, 10, 25, 15, tzinfo=UTC), datetime(2026, 11, 3, 15, tzinfo=UTC)]
    record_reviews(db, plan, ana, [*moments, datetime(2026, 11, 10, 15, tzinfo=UTC)])
    # When the period starts on 1 Nov
    item = _item(report(coordinator, date_from="2026-11-01", date_to="2026-11-30").json, ana)
    # Then both November reviews count: the first late by two days (from the October review), the second
    # on time (from the first)
    assert (item["reviews_in_period"], item["on_time_reviews"], item["late_reviews"]) == (2, 1, 1)
    assert item["average_days_late"] == 2.0


def test_counters_of_plans_today_and_null_rates_without_reviews(factory: Factory, set_now: Any) -> None:
    # Given today 20 Nov 2026 and Ana's plans: active overdue, active due in 2 days, paused overdue
    coordinator, ana, _ = _team_on(factory, set_now, datetime(2026, 11, 20, 15, tzinfo=UTC))
    factory.plan(ana, review_frequency="weekly", start_date=date(2026, 11, 1), timezone=TIMEZONE)
    factory.plan(ana, review_frequency="weekly", start_date=date(2026, 11, 15), timezone=TIMEZONE)
    factory.plan(ana, review_frequency="weekly", start_date=date(2026, 11, 1), status="paused")
    # When the coordinator asks for the default period
    body = report(coordinator).json
    # Then only active plans are counted, and the rates are null without reviews
    assert body["items"] == [
        {
            "professional_id": str(ana.user_id),
            "professional_name": "Ana Souza",
            "active_plans": 2,
            "overdue_now": 1,
            "due_soon": 1,
            "reviews_in_period": 0,
            "on_time_reviews": 0,
            "late_reviews": 0,
            "on_time_rate": None,
            "average_days_late": None,
        }
    ]
    assert body["totals"]["on_time_rate"] is None and body["totals"]["average_days_late"] is None


def test_the_default_period_is_the_90_local_days_up_to_today(factory: Factory, set_now: Any) -> None:
    # Given 02:00 UTC on 1 Dec 2026: still 30 Nov in São Paulo
    coordinator, _, _ = _team_on(factory, set_now, datetime(2026, 12, 1, 2, tzinfo=UTC))
    # When the report is asked without a period, with only date_to, and with a future date_from alone
    default = report(coordinator)
    ending = report(coordinator, date_to="2026-03-31")
    future = report(coordinator, date_from="2026-12-01")
    # Then the period is today and the 89 days before it, or the 90 days ending at date_to
    assert default.json["period"] == {
        "date_from": "2026-09-02",
        "date_to": "2026-11-30",
        "timezone": TIMEZONE,
    }
    assert ending.json["period"]["date_from"] == "2026-01-01"
    # And a date_from after the default date_to is refused, naming it
    assert future.status == 422
    assert future.json["error"]["details"][0]["field"] == "date_from"


def test_bad_periods_are_422_naming_the_field(factory: Factory) -> None:
    coordinator, _, _ = _team(factory)
    cases = [
        ({"date_from": "2026-11-30", "date_to": "2026-11-01"}, "date_to"),
        ({"date_from": "1899-12-31"}, "date_from"),
        ({"date_to": "2101-01-01"}, "date_to"),
        ({"date_to": "not-a-date"}, "date_to"),
    ]
    for query, field in cases:
        response = report(coordinator, **query)
        assert response.status == 422, query
        assert [detail["field"] for detail in response.json["error"]["details"]] == [field], query


def test_a_professional_sees_only_their_own_row_and_no_other_organization_appears(
    factory: Factory, db: Engine, set_now: Any
) -> None:
    # Given two professionals with reviewed plans, another organization's professional, and a professional
    # without plans
    coordinator, ana, bruno = _team_on(factory, set_now, datetime(2026, 11, 20, 15, tzinfo=UTC))
    idle = factory.user(coordinator.organization_id, Role.PROFESSIONAL, name="Carla Dias")
    stranger = factory.user(factory.organization(name="Outra Escola"), Role.PROFESSIONAL, name="Ana Externa")
    for actor in (ana, bruno, stranger):
        plan = factory.plan(actor, review_frequency="weekly", start_date=date(2026, 11, 1))
        record_reviews(db, plan, actor, [datetime(2026, 11, 8, 15, tzinfo=UTC)])
    # When each asks for the report
    as_coordinator = report(coordinator).json
    as_ana = report(ana).json
    as_idle = report(idle).json
    # Then the coordinator sees the organization's two responsible professionals, by name
    assert [item["professional_name"] for item in as_coordinator["items"]] == ["Ana Souza", "Bruno Lima"]
    assert as_coordinator["totals"]["reviews_in_period"] == 2
    # And Ana sees exactly her row of the coordinator's report, and totals of her own
    assert as_ana["items"] == [_item(as_coordinator, ana)]
    assert as_ana["totals"]["reviews_in_period"] == 1
    # And a professional without plans gets no row and zero totals
    assert as_idle["items"] == []
    assert as_idle["totals"]["active_plans"] == 0 and as_idle["totals"]["on_time_rate"] is None


def test_reviews_count_for_the_plan_s_current_responsible_professional(
    factory: Factory, db: Engine, set_now: Any
) -> None:
    # Given a plan reviewed by Ana, then handed to Bruno
    coordinator, ana, bruno = _team_on(factory, set_now, datetime(2026, 11, 20, 15, tzinfo=UTC))
    plan = factory.plan(ana, review_frequency="weekly", start_date=date(2026, 11, 1), created_by=coordinator)
    record_reviews(db, plan, ana, [datetime(2026, 11, 8, 15, tzinfo=UTC)])
    with db.begin() as connection:
        connection.execute(
            update(InterventionPlan)
            .where(InterventionPlan.id == plan.id)
            .values(professional_id=bruno.user_id)
        )
    # When the coordinator asks for the report
    body = report(coordinator).json
    # Then the review counts for Bruno, and Ana holds no plan any more
    assert [item["professional_name"] for item in body["items"]] == ["Bruno Lima"]
    assert body["items"][0]["on_time_reviews"] == 1
