"""Logs hold no personal data (issue 12): even with event logging switched on by the environment, a
request carrying a name and e-mail claim and a student's name leaves none of them in any log line."""

from __future__ import annotations

import json

import pytest

from eduautismo.api.app import lambda_entry
from eduautismo.domain import Role
from eduautismo_local.events import LocalLambdaContext, http_api_event
from eduautismo_local.template_routes import function_source, load_module
from tests.support.factories import Factory

STUDENT_NAME = "Joaquim Pereira Lustosa"
CLAIMED_NAME = "Coordenadora Marisa Vidigal"


@pytest.mark.parametrize(("body", "status"), [({}, 201), ({"intruder": 1}, 422)])
def test_requests_with_names_leave_no_name_in_the_logs(
    factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    body: dict[str, object],
    status: int,
) -> None:
    # Given the environment asks Powertools to log every event (read when a handler is built)
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    handler = lambda_entry(load_module(*function_source("PlansFunction")).app)
    # And a coordinator whose token names them, creating a student with a name
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    event = http_api_event(
        "POST",
        "/api/v1/students",
        route_key="POST /api/v1/students",
        headers={"content-type": "application/json"},
        body=json.dumps({"full_name": STUDENT_NAME, **body}),
        claims=coordinator.claims | {"name": CLAIMED_NAME},
    )
    # When the function handles the request, logging at the production level (POWERTOOLS_LOG_LEVEL)
    with caplog.at_level("INFO"):
        result = handler(event, LocalLambdaContext(function_name="PlansFunction"))
    assert result["statusCode"] == status, result
    # Then no log record holds the names or the e-mail address
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    for personal in (STUDENT_NAME, CLAIMED_NAME, coordinator.email):
        assert personal not in logged
