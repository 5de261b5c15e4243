"""`make load` trusts three helpers: the mix follows template.yaml, lost writes are found afterwards, and
each answer is judged (a proper 503 asking to retry later, a failure reported with its error code)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from benchmarks.load import MIX, Answer, WriteLog, available_mix, missing_writes
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


def test_a_failed_answer_is_described_by_its_status_and_error_code() -> None:
    # Given an error envelope and a body without one
    envelope = {"error": {"code": "not_found", "message": "student not found"}}
    # When they are described
    described = Answer(404, {}, envelope).description, Answer(502, {}, b"Bad Gateway").description
    # Then the envelope's code and message follow the status, and a bare status stands alone
    assert described == ("404 not_found: student not found", "502")


def test_only_a_503_with_retry_after_and_the_envelope_counts_as_asked_to_retry_later() -> None:
    # Given the proper refusal, and the same answer without Retry-After, with another code, or as a 500
    envelope = {"error": {"code": "service_unavailable", "message": "try again"}}
    proper = Answer(503, {"Retry-After": "1"}, envelope)
    others = [
        Answer(503, {}, envelope),
        Answer(503, {"retry-after": "1"}, {"error": {"code": "internal_error", "message": "x"}}),
        Answer(500, {"retry-after": "1"}, envelope),
    ]
    # When each is judged / Then only the proper refusal (or health's own report) asks to retry later
    assert proper.asks_to_retry_later
    assert Answer(503, {"retry-after": "5"}, {"database": "down"}).asks_to_retry_later
    assert [answer.asks_to_retry_later for answer in others] == [False, False, False]
