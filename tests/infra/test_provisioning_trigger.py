"""The Cognito post-confirmation trigger provisions the organization and user, and never blocks a sign-in."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from eduautismo.db.models import Organization, User
from eduautismo.domain import Role
from eduautismo_local.events import LocalLambdaContext
from eduautismo_local.template_routes import function_source, load_handler
from tests.support.factories import Factory

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _trigger() -> Handler:
    return load_handler(*function_source("ProvisioningFunction"))


def _confirmation(
    attributes: dict[str, str], source: str = "PostConfirmation_ConfirmSignUp"
) -> dict[str, Any]:
    """A post-confirmation event as Cognito sends it."""
    return {
        "version": "1",
        "triggerSource": source,
        "region": "sa-east-1",
        "userPoolId": "sa-east-1_TestPool",
        "userName": attributes.get("sub", "unknown"),
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "test-client"},
        "request": {"userAttributes": {"cognito:user_status": "CONFIRMED", **attributes}},
        "response": {},
    }


def _users(engine: Engine, user_id: uuid.UUID) -> list[User]:
    with Session(engine) as session:
        return list(session.scalars(select(User).where(User.id == user_id)))


def test_a_confirmed_account_gets_its_organization_and_a_least_privilege_user(db: Engine) -> None:
    # Given a newly confirmed account of an organization the database has never seen
    user_id, organization_id = uuid.uuid4(), uuid.uuid4()
    event = _confirmation(
        {
            "sub": str(user_id),
            "email": "ana@escola.example",
            "name": "Ana Souza",
            "custom:organization_id": str(organization_id),
            "custom:organization_name": "Escola Girassol",
        }
    )
    # When Cognito runs the trigger
    answer = _trigger()(event, LocalLambdaContext(function_name="provisioning"))
    # Then the event goes back unchanged and the organization and user exist
    assert answer == event
    with Session(db) as session:
        organization = session.get(Organization, organization_id)
        user = session.get(User, user_id)
    assert organization is not None and organization.name == "Escola Girassol"
    assert user is not None
    assert (user.organization_id, user.email, user.name, user.role) == (
        organization_id,
        "ana@escola.example",
        "Ana Souza",
        Role.PROFESSIONAL.value,
    )


def test_a_password_reset_confirmation_never_demotes_a_coordinator(db: Engine, factory: Factory) -> None:
    # Given a coordinator already provisioned by an earlier request
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    event = _confirmation(
        {
            "sub": str(coordinator.user_id),
            "email": coordinator.email,
            "name": coordinator.name,
            "custom:organization_id": str(coordinator.organization_id),
        },
        source="PostConfirmation_ConfirmForgotPassword",
    )
    # When the confirmation of a password reset runs the trigger
    _trigger()(event, LocalLambdaContext(function_name="provisioning"))
    # Then the user keeps the coordinator role
    [user] = _users(db, coordinator.user_id)
    assert user.role == Role.COORDINATOR.value


def test_an_account_without_organization_is_confirmed_without_writing_anything(db: Engine) -> None:
    # Given an account whose organization attribute is missing or not a UUID
    for organization in (None, "escola-girassol"):
        user_id = uuid.uuid4()
        attributes = {"sub": str(user_id), "email": "x@escola.example"}
        if organization is not None:
            attributes["custom:organization_id"] = organization
        event = _confirmation(attributes)
        # When the trigger runs
        answer = _trigger()(event, LocalLambdaContext(function_name="provisioning"))
        # Then the confirmation goes on and no row is written
        assert answer == event
        assert _users(db, user_id) == []
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Organization)) == 0


def test_a_user_of_another_organization_is_left_in_their_own(db: Engine, factory: Factory) -> None:
    # Given a user of one organization and a confirmation naming another one
    professional = factory.user(factory.organization(), Role.PROFESSIONAL)
    other_organization = uuid.uuid4()
    event = _confirmation(
        {
            "sub": str(professional.user_id),
            "email": professional.email,
            "custom:organization_id": str(other_organization),
        }
    )
    # When the trigger runs
    answer = _trigger()(event, LocalLambdaContext(function_name="provisioning"))
    # Then the user stays in their organization and the other organization is not created
    assert answer == event
    [user] = _users(db, professional.user_id)
    assert user.organization_id == professional.organization_id
    with Session(db) as session:
        assert session.get(Organization, other_organization) is None


def test_an_unreachable_database_defers_provisioning_to_the_first_request(
    override_settings: Callable[..., None],
) -> None:
    # Given a database that does not answer
    override_settings(database_url="postgresql://nobody@127.0.0.1:1/eduautismo")
    event = _confirmation(
        {"sub": str(uuid.uuid4()), "email": "b@escola.example", "custom:organization_id": str(uuid.uuid4())}
    )
    # When the trigger runs
    answer = _trigger()(event, LocalLambdaContext(function_name="provisioning"))
    # Then the confirmation still succeeds (the first authenticated request provisions the user)
    assert answer == event


def test_odd_attributes_are_cleaned_before_they_reach_the_database(db: Engine) -> None:
    # Given a confirmed account whose name is over-long and holds a NUL and a lone surrogate
    user_id, organization_id = uuid.uuid4(), uuid.uuid4()
    event = _confirmation(
        {
            "sub": str(user_id),
            "email": "ana@escola.example",
            "name": "Ana\x00\ud800 " + "x" * 300,
            "custom:organization_id": str(organization_id),
            "custom:organization_name": "Escola\ud800 Azul",
        }
    )
    # When the trigger runs
    _trigger()(event, LocalLambdaContext(function_name="provisioning"))
    # Then the user and organization are stored with the cleaned text (cut to the column)
    [user] = _users(db, user_id)
    assert user.name == ("Ana " + "x" * 300)[:200]
    with Session(db) as session:
        assert session.get_one(Organization, organization_id).name == "Escola Azul"
