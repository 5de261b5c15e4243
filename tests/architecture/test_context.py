"""The one context of a use case: immutable, built per request by one provider that tests can override,
and built the same way by jobs and workers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from eduautismo.api.dependencies import get_context
from eduautismo.clock import FixedClock
from eduautismo.context import Context, NoCaller, build_context
from eduautismo.domain import Role
from eduautismo.exports.storage import get_export_storage
from eduautismo.settings import get_settings
from eduautismo.users import service as users
from eduautismo.users.schemas import UserQuery
from tests.support.api import call_api, override_dependency
from tests.support.factories import Factory


def test_the_context_is_immutable_and_slotted(factory: Factory) -> None:
    # Given a job's context (no caller)
    ctx = build_context()
    # Then no field can be replaced and no attribute added
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[misc]
    assert not hasattr(ctx, "__dict__")
    # And it holds the container's one settings object and one export storage
    assert ctx.settings is get_settings()
    assert ctx.storage is get_export_storage() is build_context().storage


def test_a_use_case_needing_a_caller_refuses_a_context_without_one(factory: Factory) -> None:
    # Given a context built for a job, without a principal
    ctx = build_context(None)
    # When a use case that needs the caller runs in it
    # Then it refuses: a wiring mistake, not a query over everyone's data
    with pytest.raises(NoCaller):
        users.list_users(ctx, UserQuery())


def test_a_job_builds_the_same_context_with_a_captured_principal(factory: Factory) -> None:
    # Given a coordinator captured by a job, and a colleague
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR, name="Carla")
    colleague = factory.user(org, name="Bruno")
    # When the job runs the users use case with a context built from that principal
    page = users.list_users(build_context(coordinator.principal), UserQuery())
    # Then it sees what that coordinator sees through the API
    assert [user.id for user in page.items] == [colleague.user_id, coordinator.user_id]


def test_routes_receive_the_context_through_one_overridable_provider(factory: Factory) -> None:
    # Given a professional, and a context provider replaced for the test that answers for a coordinator
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR, name="Carla")
    professional = factory.user(org, name="Bia")
    replaced: Context = build_context(coordinator.principal)
    # When the professional lists users while the provider is replaced
    with override_dependency(get_context, replaced):
        response = call_api("GET", "/api/v1/users", claims=professional.claims)
    # Then the route ran with the replaced context (the coordinator's view), not one of its own
    assert response.status == 200
    assert {item["id"] for item in response.json["items"]} == {
        str(coordinator.user_id),
        str(professional.user_id),
    }
