"""Claims are untrusted input: group names match exactly, text claims are cleaned or refused
before they reach SQL, and no request, however odd, leaves a broken pooled connection behind."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from eduautismo.db.engine import get_engine
from eduautismo.db.models import User
from eduautismo.domain import Role
from eduautismo.errors import Forbidden
from eduautismo.identity.principal import (
    MAX_NAME_CHARS,
    clean_text_claim,
    parse_groups,
    principal_from_claims,
)
from tests.support.api import call_api
from tests.support.factories import Factory

PENDING = "/api/v1/intervention-plans/pending-review"


def _claims(**overrides: object) -> dict[str, object]:
    return {
        "sub": str(uuid.uuid4()),
        "email": "ana@escola.example",
        "name": "Ana Souza",
        "custom:organization_id": str(uuid.uuid4()),
        "cognito:groups": "[professional]",
        **overrides,
    }


@pytest.mark.parametrize(
    "groups",
    [
        ["teachers,coordinator"],
        "[teachers,coordinator]",
        "[coordinators]",
        ["coordinators"],
        "coordinator,",
        "[coordinator,]",
        "[Coordinator]",
        ["COORDINATOR"],
        [" coordinator"],
        '["coordinator-x"]',
        "[coordinator\u200b]",
    ],
)
def test_group_names_must_match_exactly_for_coordinator_scope(groups: object) -> None:
    # Given a token whose groups only resemble "coordinator" (and also name a professional)
    claims = _claims(**{"cognito:groups": groups})
    # When the principal is built
    # Then it is never a coordinator: without an exact role group it is refused
    with pytest.raises(Forbidden):
        principal_from_claims(claims)
    assert parse_groups(groups).count("coordinator") == 0


@pytest.mark.parametrize(
    "groups", ["[coordinator professional]", ["professional", "coordinator"], "coordinator"]
)
def test_exact_coordinator_group_in_either_form_is_a_coordinator(groups: object) -> None:
    assert principal_from_claims(_claims(**{"cognito:groups": groups})).role is Role.COORDINATOR


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Ana\x00 Souza", "Ana Souza"),
        ("a\ud800b", "ab"),
        ("  Ana\t\nSouza\r ", "Ana Souza"),
        ("Ana\x1b[31m", "Ana[31m"),
        ("José\u0301 Ñandú", "José\u0301 Ñandú"),
        ("x" * 300, "x" * MAX_NAME_CHARS),
        (12345, "12345"),
        (["a", "b"], ""),
    ],
)
def test_name_claims_are_cleaned_to_what_the_users_column_holds(raw: object, cleaned: str) -> None:
    assert clean_text_claim(raw, MAX_NAME_CHARS) == cleaned


def _stored_user(db: Engine, claims: dict[str, object]) -> User:
    with Session(db) as session:
        return session.get_one(User, uuid.UUID(str(claims["sub"])))


@pytest.mark.parametrize(
    ("name", "stored"),
    [("n" * 300, "n" * MAX_NAME_CHARS), ("a\ud800b", "ab"), ("x\x00y", "xy"), ("\ud800", None)],
)
def test_odd_name_claims_are_cleaned_and_answer_200(db: Engine, name: str, stored: str | None) -> None:
    # Given a token whose name claim is over-long or malformed
    claims = _claims(name=name)
    # When it calls the API
    response = call_api("GET", PENDING, claims=claims)
    # Then it is served, and the stored name is the cleaned one (the e-mail when nothing is left)
    assert response.status == 200, response.json
    assert _stored_user(db, claims).name == (stored or claims["email"])


@pytest.mark.parametrize(
    "email",
    [
        "e" * 400 + "@escola.example",
        "a\ud800b@escola.example",
        "ana\x00@escola.example",
        "no-at-sign",
        "a@b",
        "@x.y",
    ],
)
def test_malformed_email_claims_are_401_with_the_envelope(db: Engine, email: str) -> None:
    response = call_api("GET", PENDING, claims=_claims(email=email))
    assert response.status == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_bad_claims_never_poison_the_next_requests_of_other_users(
    factory: Factory, override_settings: Callable[..., None]
) -> None:
    # Given a pool of two connections and a professional of another organization
    override_settings(db_pool_size="2")
    other = factory.user(factory.organization())
    # When requests with every kind of bad claim arrive
    for bad in (
        {"name": "a\ud800b"},
        {"email": "a\ud800b@escola.example"},
        {"name": "x" * 300},
        {"email": "e" * 400 + "@x.example"},
        {"name": "x\x00y"},
        {"custom:organization_name": "Escola\ud800"},
    ):
        assert call_api("GET", PENDING, claims=_claims(**bad)).status < 500
    # Then the next twenty requests of the other user all answer 200
    statuses = [call_api("GET", PENDING, claims=other.claims).status for _ in range(20)]
    assert statuses == [200] * 20


def test_a_driver_error_discards_the_connection_instead_of_lending_it_again(
    db: Engine, override_settings: Callable[..., None], factory: Factory
) -> None:
    # Given the application's engine with a pool of two connections
    override_settings(db_pool_size="2")
    engine = get_engine()
    other = factory.user(factory.organization())
    # When a value the driver cannot encode reaches it (it fails half-way through sending the statement)
    for value in ("a\ud800b", "\udfff"):
        with Session(engine) as session, pytest.raises(UnicodeEncodeError):
            session.execute(text("SELECT :value"), {"value": value})
    # Then every next statement and request gets a working connection
    with Session(engine) as session:
        assert [
            session.execute(text("SELECT CAST(:n AS integer)"), {"n": n}).scalar() for n in range(20)
        ] == list(range(20))
    statuses = [call_api("GET", PENDING, claims=other.claims).status for _ in range(20)]
    assert statuses == [200] * 20


def test_a_server_reported_error_keeps_the_connection(
    db: Engine, override_settings: Callable[..., None]
) -> None:
    # Given the application's engine with one connection checked out and a plain SQL error on it
    override_settings(db_pool_size="2")
    engine = get_engine()
    with engine.connect() as connection:
        first = connection.connection.dbapi_connection
        with pytest.raises(Exception, match="division by zero"):
            connection.execute(text("SELECT 1 / 0"))
    # When the next unit of work starts
    with engine.connect() as connection:
        # Then it reuses the same, healthy connection (an ordinary error costs no reconnection)
        assert connection.connection.dbapi_connection is first
        assert connection.execute(text("SELECT 1")).scalar() == 1
