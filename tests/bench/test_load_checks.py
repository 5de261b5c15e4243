"""`make load` trusts two helpers: the mix follows template.yaml, and lost writes are found afterwards."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from benchmarks.load import MIX, WriteLog, available_mix, missing_writes
from eduautismo.domain import Role
from tests.support.factories import Factory


def test_the_mix_keeps_only_declared_routes_whatever_their_parameter_names() -> None:
    # Given a template with health and a plan PATCH route named with another parameter
    declared = {"GET /api/v1/health", "PATCH /api/v1/intervention-plans/{some_id}"}
    # When the mix is chosen
    chosen = [operation.__name__ for _, operation in available_mix(declared)]
    # Then exactly those two operations remain
    assert chosen == ["_health", "_patch_plan"]
    assert len(MIX) > len(chosen)


def test_missing_or_changed_writes_are_reported(db: Engine, factory: Factory) -> None:
    # Given a stored plan with one review, and a log claiming another title, two reviews and a lost plan
    professional = factory.user(factory.organization(), Role.PROFESSIONAL)
    stored = factory.plan(professional, title="Plano gravado")
    lost = uuid.uuid4()
    log = WriteLog()
    log.created = {stored.id: professional.user_id, lost: professional.user_id}
    log.titles = {stored.id: "Outro título", lost: "Perdido"}
    log.reviews[stored.id] = 2
    # When the database is checked against the log
    problems = missing_writes(db, [log])
    # Then the lost plan, the changed title and the review count are all reported
    assert problems == [
        f"plan {stored.id} differs from the last acknowledged write",
        f"plan {lost} missing",
        f"plan {stored.id}: 0 reviews stored, 2 acknowledged",
    ]


def test_writes_that_are_all_there_report_nothing(db: Engine, factory: Factory) -> None:
    # Given a stored plan and a log that matches it
    professional = factory.user(factory.organization(), Role.PROFESSIONAL)
    stored = factory.plan(professional, title="Plano gravado")
    log = WriteLog()
    log.created = {stored.id: professional.user_id}
    log.titles = {stored.id: "Plano gravado"}
    # When checked / Then nothing is missing
    assert missing_writes(db, [log]) == []
