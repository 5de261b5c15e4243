"""Exports take the list's skip and limit and the clock through its dependency."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine

from eduautismo.clock import FixedClock
from eduautismo.domain import MAX_PAGE_OFFSET, Role
from eduautismo.exports.rows import MAX_EXPORT_ROWS
from eduautismo.exports.writers import DATA_SHEET_TITLE
from tests.exports.conftest import export, jobs_of, read_csv, stored_bytes, wait_for_job
from tests.support.api import call_api
from tests.support.factories import Actor, Factory

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 13, 30, 45, tzinfo=UTC)  # 10:30:45 in São Paulo


def _coordinator_with_ordered_plans(factory: Factory, count: int) -> tuple[Actor, list[str]]:
    """A coordinator and ``count`` pending plans; their ids in the list's order (most overdue first)."""
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR)
    professional = factory.user(organization, Role.PROFESSIONAL, name="Ana Souza")
    plans = [
        factory.plan(professional, start_date=TODAY - timedelta(days=60 - index)) for index in range(count)
    ]
    return coordinator, [str(plan.id) for plan in plans]


@pytest.fixture
def today(set_now: Callable[[datetime], FixedClock]) -> FixedClock:
    return set_now(NOW)


def test_csv_holds_the_rows_of_skip_and_limit(
    factory: Factory, db: Engine, s3: Any, today: FixedClock
) -> None:
    # Given five pending plans in the list's order
    coordinator, ordered = _coordinator_with_ordered_plans(factory, 5)
    # When the coordinator exports CSV with skip=1 and limit=3
    response = export(coordinator, "csv", skip=1, limit=3)
    # Then the file holds the second to fourth plans, and says so
    assert response.status == 200, response.json
    lines = read_csv(stored_bytes(s3, db, coordinator))
    assert [line[1] for line in lines[1:]] == ordered[1:4]
    assert response.json["row_count"] == 3
    # And the audit row records the range asked for (beside the scope captured for the worker)
    assert jobs_of(db, coordinator)[-1].filters == {
        "filters": {},
        "include_student": False,
        "delimiter": ",",
        "skip": 1,
        "limit": 3,
        "asynchronous": False,
        "scope": {"role": "coordinator"},
    }


def test_xlsx_holds_the_rows_of_skip_and_limit_and_its_summary_counts_them(
    factory: Factory, db: Engine, s3: Any, today: FixedClock
) -> None:
    coordinator, ordered = _coordinator_with_ordered_plans(factory, 4)
    response = export(coordinator, "excel", skip=2, limit=10)
    assert response.status == 200, response.json
    workbook = openpyxl.load_workbook(io.BytesIO(stored_bytes(s3, db, coordinator)))
    data = list(workbook[DATA_SHEET_TITLE].iter_rows(min_row=2, values_only=True))
    assert [line[1] for line in data] == ordered[2:]
    assert response.json["row_count"] == 2


def test_without_limit_every_matching_row_is_exported_and_limit_1000_as_the_seed_front_end_sends(
    factory: Factory, db: Engine, s3: Any, today: FixedClock
) -> None:
    coordinator, ordered = _coordinator_with_ordered_plans(factory, 3)
    assert export(coordinator, "csv").json["row_count"] == 3
    response = export(coordinator, "csv", skip=0, limit=1000, priority="medium", include_student=True)
    assert response.status == 200, response.json
    assert [line[1] for line in read_csv(stored_bytes(s3, db, coordinator))[1:]] == ordered


def test_skip_beyond_the_list_is_an_empty_file(
    factory: Factory, db: Engine, s3: Any, today: FixedClock
) -> None:
    coordinator, _ = _coordinator_with_ordered_plans(factory, 2)
    response = export(coordinator, "csv", skip=2)
    assert (response.status, response.json["row_count"]) == (200, 0)


def test_summary_describes_the_same_range(factory: Factory, db: Engine, s3: Any, today: FixedClock) -> None:
    # Given four pending plans, in the list's order: high, medium, medium, low
    coordinator, _ = _coordinator_with_ordered_plans(factory, 2)
    professional = factory.user(coordinator.organization_id, Role.PROFESSIONAL)
    factory.plan(professional, start_date=TODAY - timedelta(days=10), priority="high")
    factory.plan(professional, start_date=TODAY - timedelta(days=10), priority="low")
    # When the summary is asked for the whole list and for a range of it
    whole = export(coordinator, "summary")
    sliced = export(coordinator, "summary", skip=1, limit=2)
    # Then each counts what the export with the same query would hold (high, medium, medium, low)
    assert whole.json == {
        "total": 4,
        "high_priority": 1,
        "medium_priority": 2,
        "low_priority": 1,
        "excel_available": True,
    }
    assert sliced.json == {
        "total": 2,
        "high_priority": 0,
        "medium_priority": 2,
        "low_priority": 0,
        "excel_available": True,
    }


def test_inline_or_background_is_decided_on_the_rows_after_skip_and_limit(
    factory: Factory, db: Engine, s3: Any, override_settings: Any, today: FixedClock
) -> None:
    # Given five pending plans and an inline limit of two rows
    coordinator, ordered = _coordinator_with_ordered_plans(factory, 5)
    override_settings(export_sync_max_rows="2")
    # When two rows are asked, the export is inline
    assert export(coordinator, "csv", limit=2).status == 200
    # When three rows are asked after skipping one, it runs in the background, and holds just them
    accepted = export(coordinator, "csv", skip=1, limit=3)
    assert accepted.status == 202, accepted.json
    done = wait_for_job(coordinator, accepted.json["status_url"])
    assert (done.json["status"], done.json["row_count"]) == ("succeeded", 3), done.json
    assert [line[1] for line in read_csv(stored_bytes(s3, db, coordinator))[1:]] == ordered[1:4]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": MAX_EXPORT_ROWS + 1}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"skip": -1}, "skip"),
        ({"skip": MAX_PAGE_OFFSET + 1}, "skip"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "1899-12-31"}, "date_from"),
        ({"date_to": "0"}, "date_to"),
    ],
)
@pytest.mark.parametrize("kind", ["summary", "csv", "excel"])
def test_out_of_range_selection_is_422_naming_the_field_and_records_nothing(
    factory: Factory, db: Engine, s3: Any, kind: str, query: dict[str, Any], field: str
) -> None:
    coordinator, _ = _coordinator_with_ordered_plans(factory, 1)
    response = export(coordinator, kind, **query)
    assert response.status == 422, response.json
    assert [detail["field"] for detail in response.json["error"]["details"]] == [field]
    assert jobs_of(db, coordinator) == []


def test_file_name_and_link_expiry_follow_the_clock_in_the_organization_timezone(
    factory: Factory, db: Engine, s3: Any, today: FixedClock
) -> None:
    # Given the clock at 13:30:45 UTC (10:30:45 in São Paulo)
    coordinator, _ = _coordinator_with_ordered_plans(factory, 1)
    # When the coordinator exports
    response = export(coordinator, "csv")
    # Then the file is named for the local time, and the link expires 900 s after now
    assert response.json["filename"] == "planos_pendentes_20261124_103045.csv"
    assert datetime.fromisoformat(response.json["expires_at"]) == NOW + timedelta(seconds=900)
    job = call_api("GET", f"/api/v1/export/jobs/{jobs_of(db, coordinator)[-1].id}", claims=coordinator.claims)
    assert job.json["created_at"] == "2026-11-24T13:30:45Z"


def test_unknown_query_parameters_are_ignored(
    factory: Factory, db: Engine, s3: Any, today: FixedClock
) -> None:
    coordinator, _ = _coordinator_with_ordered_plans(factory, 1)
    response = export(coordinator, "summary", page="2", sort="title")
    assert (response.status, response.json["total"]) == (200, 1)
