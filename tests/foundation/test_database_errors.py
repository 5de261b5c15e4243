"""Errors real PostgreSQL raises because of the request's data answer 4xx with the envelope, never 500:
a unique-constraint violation is 409, a value the database refuses is 422. A probe router
runs each statement through the same unit of work the features use."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.db.engine import session_scope
from eduautismo.db.models import Organization
from eduautismo_local.events import LocalLambdaContext, http_api_event
from tests.support.api import ApiResponse, lambda_result_to_response
from tests.support.factories import Factory

# Each statement fails in PostgreSQL with the SQLSTATE named.
STATEMENTS = {
    "unique": (
        "23505",
        "INSERT INTO organizations (id, name) VALUES (:org, 'Outra')",
    ),
    "foreign_key": (
        "23503",
        "INSERT INTO students (id, organization_id, full_name) "
        "VALUES (gen_random_uuid(), gen_random_uuid(), 'Ana')",
    ),
    "check": (
        "23514",
        "INSERT INTO users (id, organization_id, email, name, role) "
        "VALUES (gen_random_uuid(), :org, 'a@b.example', 'A', 'admin')",
    ),
    "not_null": ("23502", "INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), NULL)"),
    "datetime_overflow": ("22008", "SELECT CAST('294277-01-01' AS timestamp)"),
    "numeric_overflow": ("22003", "SELECT CAST(99999999999 AS integer)"),
    # Our own bug, not the request's data.
    "unknown_table": ("42P01", "SELECT * FROM no_such_table"),
}

probe = APIGatewayHttpRouter()


@probe.get("/probe/database/<case>")
def run_statement(case: str, org: Annotated[uuid.UUID, Query()]) -> dict[str, str]:
    with session_scope() as session:
        session.execute(text("INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'Escrita')"))
        session.execute(text(STATEMENTS[case][1]), {"org": org})
    return {"case": case}


handler = lambda_entry(create_app(probe, authenticated=False))


def _call(case: str, organization_id: uuid.UUID) -> ApiResponse:
    event = http_api_event("GET", f"/api/v1/probe/database/{case}", query={"org": str(organization_id)})
    return lambda_result_to_response(handler(event, LocalLambdaContext()))


def _organization_names(db: Engine) -> list[str]:
    with Session(db) as session:
        return list(session.scalars(select(Organization.name).order_by(Organization.name)))


@pytest.fixture
def existing_organization(factory: Factory) -> uuid.UUID:
    return factory.organization("Escola")


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unique", 409, "conflict"),
        ("foreign_key", 409, "conflict"),
        ("check", 422, "validation_error"),
        ("not_null", 422, "validation_error"),
        ("datetime_overflow", 422, "validation_error"),
        ("numeric_overflow", 422, "validation_error"),
    ],
)
def test_database_refusing_the_data_is_4xx_and_nothing_is_written(
    db: Engine, existing_organization: uuid.UUID, case: str, status: int, code: str
) -> None:
    # Given a unit of work that writes a row, then runs a statement PostgreSQL refuses for its values
    # When the route runs it
    response = _call(case, existing_organization)
    # Then the answer is the envelope with the 4xx status, without the values PostgreSQL quoted
    assert response.status == status, response.json
    error = response.json["error"]
    assert error["code"] == code and error["details"] == []
    assert "Outra" not in json.dumps(error) and "294277" not in json.dumps(error)
    # And the unit of work was rolled back: only the organization that existed before remains
    assert _organization_names(db) == ["Escola"]


def test_every_refused_statement_fails_with_the_sqlstate_it_stands_for(
    db: Engine, existing_organization: uuid.UUID
) -> None:
    # The cases above exercise what they claim: each statement fails with its SQLSTATE
    for case, (sqlstate, statement) in STATEMENTS.items():
        with db.connect() as connection, pytest.raises(DBAPIError) as failure:
            connection.execute(text(statement), {"org": existing_organization})
        assert failure.value.orig.args[0]["C"] == sqlstate, case  # type: ignore[attr-defined]


def test_other_database_errors_stay_500_without_details(db: Engine, existing_organization: uuid.UUID) -> None:
    # Given a statement that is our own bug (an unknown table), not the request's data
    response = _call("unknown_table", existing_organization)
    # Then it is the generic 500 envelope (a 4xx would blame the caller)
    assert (response.status, response.json["error"]["code"]) == (500, "internal_error")
    assert _organization_names(db) == ["Escola"]
