"""GET /export/jobs/{id} mints a new link only while the caller's current scope covers the scope the export
was made with, and within EXPORT_RELINK_WINDOW_SECONDS of its success; otherwise 404 like a missing job."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from eduautismo.clock import FixedClock
from eduautismo.domain import Role
from tests.exports.conftest import export, jobs_of
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory

JOBS = "/api/v1/export/jobs"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _relink(actor: Actor, job_id: uuid.UUID) -> ApiResponse:
    return call_api("GET", f"{JOBS}/{job_id}", claims=actor.claims)


def _organization_export(factory: Factory, db: Engine) -> tuple[Actor, uuid.UUID]:
    """A coordinator of a school with plans of two professionals, and their organization-wide CSV."""
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    for name in ("Terapeuta Ana", "Terapeuta Beto"):
        professional = factory.user(org, name=name)
        factory.plan(professional, created_by=coordinator, start_date=NOW.date() - timedelta(days=10))
    response = export(coordinator, "csv", include_student=True)
    assert response.status == 200, response.body
    [job] = jobs_of(db, coordinator)
    return coordinator, job.id


def test_a_demoted_coordinator_gets_no_new_link_to_the_organization_export(
    factory: Factory, db: Engine, s3: Any, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given an organization-wide CSV a coordinator made, linked again while they are coordinator
    set_now(NOW)
    coordinator, job_id = _organization_export(factory, db)
    assert _relink(coordinator, job_id).status == 200
    # When the same user calls as a professional (demoted in Cognito)
    demoted = dataclasses.replace(coordinator, role=Role.PROFESSIONAL)
    response = _relink(demoted, job_id)
    # Then the job answers like a missing one, with no link
    assert response.status == 404, response.body
    assert "download_url" not in response.body.decode()
    # And promoted again, the link is back (the rule follows the current scope both ways)
    assert _relink(coordinator, job_id).status == 200


def test_a_promoted_professional_still_gets_their_own_caseload_export(
    factory: Factory, db: Engine, s3: Any, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given a professional's export of their caseload
    set_now(NOW)
    org = factory.organization()
    professional = factory.user(org)
    factory.plan(professional, start_date=NOW.date() - timedelta(days=10))
    assert export(professional, "csv").status == 200
    [job] = jobs_of(db, professional)
    # When they call as coordinator (promoted): the organization's scope covers their caseload's
    response = _relink(dataclasses.replace(professional, role=Role.COORDINATOR), job.id)
    # Then a new link
    assert response.status == 200, response.body
    assert response.json["download_url"]


def test_links_are_minted_only_within_the_relink_window(
    factory: Factory,
    db: Engine,
    s3: Any,
    set_now: Callable[[datetime], FixedClock],
    override_settings: Callable[..., None],
) -> None:
    # Given an export that succeeded at NOW, and a relink window of 600 s
    override_settings(export_relink_window_seconds="600")
    clock = set_now(NOW)
    coordinator, job_id = _organization_export(factory, db)
    # When it is asked again at the window's end, then a second after it
    clock.instant = NOW + timedelta(seconds=600)
    inside = _relink(coordinator, job_id)
    clock.instant = NOW + timedelta(seconds=601)
    outside = _relink(coordinator, job_id)
    # Then a link at the end of the window, 404 after it
    assert inside.status == 200, inside.body
    assert outside.status == 404, outside.body
    assert outside.json["error"]["code"] == "not_found"


def test_the_default_window_is_one_hour(
    factory: Factory, db: Engine, s3: Any, set_now: Callable[[datetime], FixedClock]
) -> None:
    clock = set_now(NOW)
    coordinator, job_id = _organization_export(factory, db)
    clock.instant = NOW + timedelta(seconds=3600)
    assert _relink(coordinator, job_id).status == 200
    clock.instant = NOW + timedelta(seconds=3601)
    assert _relink(coordinator, job_id).status == 404
