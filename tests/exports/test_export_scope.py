"""An asynchronous export runs with the scope captured when it was asked, and the role a
token carries is written back on every change: the attack of issue 12 (professional -> coordinator ->
professional in one warm container, then a large export and the daily job) leaks nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from eduautismo.db.models import User
from eduautismo.domain import Role
from eduautismo.exports.dispatch import worker_event
from eduautismo_local.events import LocalLambdaContext
from tests.exports.conftest import REGION, jobs_of, read_csv, stored_bytes
from tests.notifications.support import notification_rows
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory
from tests.support.jobs import run_daily_job_at

PENDING = "/api/v1/intervention-plans/pending-review"
CSV_EXPORT = "/api/v1/export/pending-review/csv"
XLSX_EXPORT = "/api/v1/export/pending-review/excel"
OVERDUE_START = datetime.now(UTC).date() - timedelta(days=30)


def _as(actor: Actor, role: Role) -> dict[str, Any]:
    """The actor's claims with the groups of ``role`` in API Gateway's string form."""
    return actor.claims | {"cognito:groups": f"[{role.value}]"}


def _team_with_plans(factory: Factory) -> tuple[Actor, Actor, Actor]:
    """A coordinator, a professional with two overdue plans and another with two, titled by owner."""
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR)
    mine = factory.user(organization, Role.PROFESSIONAL, name="Paula Própria")
    other = factory.user(organization, Role.PROFESSIONAL, name="Otávio Outro")
    for owner, label in ((mine, "Meu"), (other, "Alheio")):
        for index in range(2):
            factory.plan(owner, start_date=OVERDUE_START, title=f"{label} {index}")
    return coordinator, mine, other


def _stored_role(db: Engine, actor: Actor) -> str:
    with Session(db) as session:
        return session.get_one(User, actor.user_id).role


def _large_export(actor: Actor, role: Role) -> ApiResponse:
    """A CSV export asked with ``role`` in the token, accepted for the worker (202)."""
    accepted = call_api("GET", CSV_EXPORT, claims=_as(actor, role))
    assert accepted.status == 202, accepted.json
    return accepted


def _store_role(db: Engine, actor: Actor, role: Role) -> None:
    with Session(db) as session:
        session.execute(update(User).where(User.id == actor.user_id).values(role=role.value))
        session.commit()


def _run_worker(accepted: ApiResponse) -> dict[str, str]:
    from export_worker_handler import lambda_handler as worker_handler

    event = worker_event(uuid.UUID(accepted.json["job_id"]))
    return worker_handler(event, LocalLambdaContext("ExportWorkerFunction"))  # type: ignore[no-any-return]


def _exported_titles(db: Engine, actor: Actor) -> set[str]:
    header, *rows = read_csv(stored_bytes(boto3.client("s3", region_name=REGION), db, actor))
    title = header.index("Título")
    return {row[title] for row in rows}


def test_promotion_then_demotion_in_one_warm_container_leaks_nothing(
    factory: Factory, db: Engine, aws: None
) -> None:
    # Given a professional whose token turns coordinator and back, in one warm process
    coordinator, mine, _ = _team_with_plans(factory)
    for role in (Role.PROFESSIONAL, Role.COORDINATOR):
        assert call_api("GET", PENDING, claims=_as(mine, role)).status == 200
        assert _stored_role(db, mine) == role.value
    # When the demoted professional asks for a large (asynchronous) export, and the worker runs it
    accepted = _large_export(mine, Role.PROFESSIONAL)
    # Then the demotion was written back
    assert _stored_role(db, mine) == Role.PROFESSIONAL.value
    # And the export holds the professional's own plans only
    assert _run_worker(accepted)["status"] == "succeeded"
    assert _exported_titles(db, mine) == {"Meu 0", "Meu 1"}
    # And the daily job escalates to the coordinator (one summary naming the other professional's late
    # plans), never to the demoted user, who is reminded of their own plans only
    run_daily_job_at(datetime.now(UTC))
    [escalation] = notification_rows(db, user_id=coordinator.user_id)
    assert "Otávio Outro (2)" in escalation.message and "escalation" in str(escalation.dedupe_key)
    own = notification_rows(db, user_id=mine.user_id)
    assert own and not any("escalation" in str(row.dedupe_key) or "Alheio" in row.message for row in own)


def test_worker_keeps_the_scope_captured_at_request_even_if_the_stored_role_widens(
    factory: Factory, db: Engine, aws: None
) -> None:
    # Given a professional's large export accepted
    _, mine, _ = _team_with_plans(factory)
    accepted = _large_export(mine, Role.PROFESSIONAL)
    # And the stored role becomes coordinator before the worker runs (a promotion seen elsewhere)
    _store_role(db, mine, Role.COORDINATOR)
    # When the worker runs the job
    assert _run_worker(accepted)["status"] == "succeeded"
    # Then it holds the scope asked for: the professional's own plans
    assert _exported_titles(db, mine) == {"Meu 0", "Meu 1"}


def test_worker_narrows_the_scope_when_the_requester_was_demoted_since(
    factory: Factory, db: Engine, aws: None
) -> None:
    # Given a coordinator's organization-wide export accepted (four plans of others)
    coordinator, _, _ = _team_with_plans(factory)
    accepted = _large_export(coordinator, Role.COORDINATOR)
    # And the coordinator is demoted before the worker runs
    assert call_api("GET", PENDING, claims=_as(coordinator, Role.PROFESSIONAL)).status == 200
    # When the worker runs the job
    assert _run_worker(accepted)["status"] == "succeeded"
    # Then it holds the professional scope (no plan of theirs): nobody else's plan
    assert _exported_titles(db, coordinator) == set()
    assert jobs_of(db, coordinator)[-1].row_count == 0


def test_a_second_asynchronous_export_while_one_runs_is_429(factory: Factory, db: Engine, aws: None) -> None:
    # Given a coordinator with a large export still pending
    coordinator, _, _ = _team_with_plans(factory)
    first = _large_export(coordinator, Role.COORDINATOR)
    # When they ask for another large export
    second = call_api("GET", XLSX_EXPORT, claims=coordinator.claims)
    # Then it is refused with the envelope and nothing is recorded
    assert second.status == 429, second.json
    assert second.json["error"]["code"] == "quota_exceeded"
    assert len(jobs_of(db, coordinator)) == 1
    # And once the first has finished, a new one is accepted
    assert _run_worker(first)["status"] == "succeeded"
    assert call_api("GET", XLSX_EXPORT, claims=coordinator.claims).status == 202
