"""Cognito's user-pool administration events (CloudTrail via EventBridge) reach users.role and users.status
when they happen: the function template.yaml attaches to the rule is invoked with the event that
`eduautismo-local user ...` sends, exactly as in AWS."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.db.models import User
from eduautismo.domain import Role
from eduautismo.identity.cognito_events import change_of
from eduautismo_local.cli import cognito_event, run_identity_event_function
from tests.notifications.support import notification_rows
from tests.support.api import call_api
from tests.support.factories import Actor, Factory
from tests.support.jobs import run_daily_job_at

PLANS = "/api/v1/intervention-plans"
# 09:00 UTC is 06:00 in São Paulo: local date 2026-11-25.
DAILY_RUN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _cognito(action: str, actor: Actor, role: str | None = None, at: datetime | None = None) -> bool:
    event = cognito_event(action, actor.user_id, role, at or datetime.now(UTC))
    return bool(run_identity_event_function(event)["applied"])


def _stored(db: Engine, actor: Actor) -> tuple[str, str]:
    with Session(db) as session:
        user = session.get_one(User, actor.user_id)
        return user.role, user.status


def _types(db: Engine, actor: Actor) -> list[str]:
    return [row.type for row in notification_rows(db, user_id=actor.user_id)]


def _school(factory: Factory) -> tuple[Actor, Actor, Actor]:
    """A professional and two coordinators of one organization."""
    org = factory.organization()
    return factory.user(org), factory.user(org, Role.COORDINATOR), factory.user(org, Role.COORDINATOR)


def _high_priority_plan(author: Actor, professional: Actor, factory: Factory) -> Any:
    student_id = factory.student(author.organization_id)
    body = {
        "student_id": str(student_id),
        "professional_id": str(professional.user_id),
        "title": "Plano urgente",
        "review_frequency": "weekly",
        "priority": "high",
    }
    return call_api("POST", PLANS, claims=author.claims, json_body=body)


def test_removal_from_the_coordinator_group_stops_coordinator_notifications_at_once(
    factory: Factory, db: Engine
) -> None:
    # Given two coordinators, one of whom Cognito removes from the coordinator group
    professional, kept, removed = _school(factory)
    assert _cognito("set-role", removed, "professional")
    # When the other coordinator creates a high-priority plan (the removed user never called the API since)
    assert _high_priority_plan(kept, professional, factory).status == 201
    # Then the removed user is stored as professional and gets no coordinator notification
    assert _stored(db, removed) == ("professional", "active")
    assert _types(db, removed) == []
    assert _types(db, professional) == ["plan_created", "high_priority"]


def test_a_daily_run_after_the_removal_escalates_only_to_current_coordinators(
    factory: Factory, db: Engine
) -> None:
    # Given a plan overdue 10 days, and a coordinator Cognito removed from the group before the run
    professional, kept, removed = _school(factory)
    factory.plan(professional, start_date=date(2026, 11, 25) - timedelta(days=17))
    assert _cognito("set-role", removed, "professional", at=DAILY_RUN - timedelta(hours=1))
    # When the daily job runs
    run_daily_job_at(DAILY_RUN)
    # Then only the remaining coordinator is escalated to
    assert _types(db, removed) == []
    assert _types(db, kept) == ["review_overdue"]


def test_a_disabled_user_gets_401_and_nothing_until_enabled(factory: Factory, db: Engine) -> None:
    # Given a professional and a coordinator Cognito disables
    professional, author, disabled = _school(factory)
    factory.plan(professional, start_date=date(2026, 11, 25) - timedelta(days=17))
    assert _cognito("disable", disabled)
    # When the disabled user calls the API, a high-priority plan is created and the daily job runs
    refused = call_api("GET", "/api/v1/notifications", claims=disabled.claims)
    assert _high_priority_plan(author, professional, factory).status == 201
    run_daily_job_at(DAILY_RUN)
    # Then their token answers 401 and they received no notification, escalation or reminder
    assert refused.status == 401, refused.body
    assert refused.json["error"]["code"] == "unauthorized"
    assert _stored(db, disabled) == ("coordinator", "disabled")
    assert _types(db, disabled) == []
    # And once enabled, the same token is served again
    assert _cognito("enable", disabled)
    assert call_api("GET", "/api/v1/notifications", claims=disabled.claims).status == 200


def test_a_token_issued_before_the_demotion_acts_with_the_stored_role(factory: Factory, db: Engine) -> None:
    # Given a coordinator holding an ID token issued an hour ago, then removed from the group
    _, _, demoted = _school(factory)
    issued = datetime.now(UTC) - timedelta(hours=1)
    assert _cognito("set-role", demoted, "professional")
    old_token = demoted.claims | {"iat": str(int(issued.timestamp()))}
    # When they use the old token (still saying coordinator) for a coordinator-only action
    response = call_api("POST", "/api/v1/students", claims=old_token, json_body={"full_name": "Nova"})
    # Then they act as professional (403) and the stored role is not written back to coordinator
    assert response.status == 403, response.body
    assert _stored(db, demoted) == ("professional", "active")
    # And a token issued after the change (promoted again in Cognito meanwhile) is honoured
    assert _cognito("set-role", demoted, "coordinator", at=datetime.now(UTC))
    promoted = dataclasses.replace(demoted, role=Role.COORDINATOR)
    fresh = promoted.claims | {"iat": str(int(datetime.now(UTC).timestamp()) + 1)}
    assert call_api("POST", "/api/v1/students", claims=fresh, json_body={"full_name": "Nova"}).status == 201


def test_an_older_event_delivered_late_changes_nothing(factory: Factory, db: Engine) -> None:
    # Given a user added to the coordinator group at 10:00
    professional, _, _ = _school(factory)
    ten = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert _cognito("set-role", professional, "coordinator", at=ten)
    # When a removal made at 09:00 arrives afterwards (EventBridge may deliver late)
    applied = _cognito("set-role", professional, "professional", at=ten - timedelta(hours=1))
    # Then it is ignored: the role stays coordinator
    assert not applied
    assert _stored(db, professional) == ("coordinator", "active")


def test_events_that_change_nothing_we_store_are_ignored(factory: Factory) -> None:
    professional, _, _ = _school(factory)
    event = cognito_event("set-role", professional.user_id, "coordinator", DAILY_RUN)
    professional_group = {**event["detail"]["requestParameters"], "groupName": "professional"}
    failed = {**event["detail"], "errorCode": "UserNotFoundException"}
    hidden = {
        **event["detail"],
        "additionalEventData": {},
        "requestParameters": {"username": "HIDDEN_FOR_SECURITY_REASONS", "groupName": "coordinator"},
    }
    other_call = {**event["detail"], "eventName": "AdminUpdateUserAttributes"}
    for detail in ({**event["detail"], "requestParameters": professional_group}, failed, hidden, other_call):
        assert change_of({**event, "detail": detail}) is None
    unknown_user = cognito_event("disable", professional.user_id.__class__(int=1), None, DAILY_RUN)
    assert run_identity_event_function(unknown_user) == {"applied": False}


def test_the_local_user_commands_send_the_event_to_the_handler(
    factory: Factory,
    db: Engine,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    override_settings: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a coordinator, and the local command run against this database (the environment variables it
    # sets are restored, and the runtime rebuilt, after the test)
    from eduautismo_local.cli import main as cli_main

    _, coordinator, _ = _school(factory)
    for name in ("ENVIRONMENT", "POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_NAMESPACE", "DATABASE_URL"):
        present = os.environ.get(name)
        monkeypatch.setenv(name, present or "recorded")  # remembered as it was, restored afterwards
        if present is None:
            monkeypatch.delenv(name)
    override_settings(data_dir=str(tmp_path))
    sub = str(coordinator.user_id)
    # When an operator demotes, disables, then enables them, and names a user who does not exist
    outcomes = [
        cli_main(["user", "set-role", "--sub", sub, "--role", "professional"]),
        cli_main(["user", "disable", "--sub", sub]),
    ]
    after_disable = _stored(db, coordinator)
    outcomes.append(cli_main(["user", "enable", "--sub", sub]))
    unknown = cli_main(["user", "disable", "--sub", "00000000-0000-0000-0000-000000000001"])
    # Then each change is applied through the handler, and the unknown user is reported (exit status 1)
    assert (outcomes, unknown) == ([0, 0, 0], 1)
    assert after_disable == ("professional", "disabled")
    assert _stored(db, coordinator) == ("professional", "active")
    assert "AdminRemoveUserFromGroup" in capsys.readouterr().out
