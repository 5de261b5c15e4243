"""Principal from API Gateway claims and just-in-time provisioning."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from eduautismo.db.models import Organization, User
from eduautismo.domain import Role
from eduautismo.errors import Forbidden, Unauthorized
from eduautismo.identity import provisioning
from eduautismo.identity.principal import parse_groups, principal_from_claims
from eduautismo.identity.provisioning import provision


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "sub": str(uuid.uuid4()),
        "email": "ana@escola.example",
        "name": "Ana Souza",
        "custom:organization_id": str(uuid.uuid4()),
        "cognito:groups": "[professional]",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _provision(db: Engine, claims: dict[str, object]) -> None:
    with Session(db) as session:
        provision(session, principal_from_claims(claims))


def _provisioned_claims(db: Engine) -> dict[str, object]:
    """Claims of a user provisioned once; the process's memo of provisioned users is then forgotten, so
    that the next provisioning reaches the database (as in a fresh Lambda container)."""
    claims = _claims()
    _provision(db, claims)
    provisioning._provisioned.clear()
    return claims


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[coordinator professional]", ["coordinator", "professional"]),
        ("[professional]", ["professional"]),
        (["coordinator"], ["coordinator"]),
        ('["coordinator","professional"]', ["coordinator", "professional"]),
        ("", []),
        (None, []),
    ],
)
def test_groups_are_parsed_from_api_gateway_string_and_list_forms(raw: object, expected: list[str]) -> None:
    assert parse_groups(raw) == expected


def test_coordinator_group_wins_when_both_are_present() -> None:
    principal = principal_from_claims(_claims(**{"cognito:groups": "[professional coordinator]"}))
    assert principal.role is Role.COORDINATOR


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        (None, Unauthorized),
        ({}, Unauthorized),
        (_claims(sub=None), Unauthorized),
        (_claims(sub="not-a-uuid"), Unauthorized),
        (_claims(**{"custom:organization_id": None}), Forbidden),
        (_claims(**{"custom:organization_id": "nope"}), Forbidden),
        (_claims(**{"cognito:groups": None}), Forbidden),
        (_claims(**{"cognito:groups": "[admins]"}), Forbidden),
    ],
)
def test_claims_without_identity_are_401_and_without_role_or_org_are_403(
    claims: dict[str, object] | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        principal_from_claims(claims)


def test_first_request_provisions_organization_and_user(db: Engine) -> None:
    # Given claims of a user never seen before
    principal = principal_from_claims(_claims())
    # When provisioning runs
    with Session(db) as session:
        provision(session, principal)
    # Then the organization (São Paulo timezone by default) and the user exist
    with Session(db) as session:
        org = session.get(Organization, principal.organization_id)
        user = session.get(User, principal.user_id)
    assert org is not None and org.timezone == "America/Sao_Paulo"
    assert user is not None and (user.email, user.role) == ("ana@escola.example", "professional")


def test_changed_role_and_name_are_kept_current(db: Engine) -> None:
    # Given a provisioned professional
    claims = _provisioned_claims(db)
    # When the same user comes back as a coordinator with another name
    claims.update({"cognito:groups": "[coordinator]", "name": "Ana S. Lima"})
    _provision(db, claims)
    # Then the stored user reflects the token
    with Session(db) as session:
        user = session.scalar(select(User).where(User.id == uuid.UUID(str(claims["sub"]))))
    assert user is not None and (user.role, user.name) == ("coordinator", "Ana S. Lima")


def test_a_user_id_never_moves_to_another_organization(db: Engine) -> None:
    # Given a user provisioned in one organization
    claims = _provisioned_claims(db)
    # When a token with the same sub names another organization
    claims["custom:organization_id"] = str(uuid.uuid4())
    # Then the request is refused and the user stays where it was
    with Session(db) as session, pytest.raises(Forbidden):
        provision(session, principal_from_claims(claims))
    with Session(db) as session:
        user = session.get(User, uuid.UUID(str(claims["sub"])))
    assert user is not None and str(user.organization_id) != claims["custom:organization_id"]
