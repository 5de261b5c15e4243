"""The migrations custom resource creates the production logins on real PostgreSQL: the application's can
read and write the application's tables (also those a later migration adds) and can run no DDL; the
health check's can connect and can write nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from eduautismo.db.engine import normalize_database_url
from tests.infra.conftest import CloudFormationEndpoint
from tests.infra.test_migrations_resource import _event, _invoke


@dataclass(frozen=True)
class Logins:
    database_url: str
    application: str
    health: str

    def engine(self, username: str) -> Engine:
        url, connect_args = normalize_database_url(self.database_url)
        return create_engine(url.set(username=username, password=None), connect_args=connect_args)


def _secret(client: Any, username: str) -> str:
    value = {"username": username, "password": f"pw-{uuid.uuid4().hex}%'x"}
    return str(client.create_secret(Name=f"eduautismo/{username}", SecretString=json.dumps(value))["ARN"])


@pytest.fixture
def logins(
    override_settings: Callable[..., None], empty_database: str, cloudformation: CloudFormationEndpoint
) -> Iterator[Logins]:
    """The custom resource run on an empty database with both login secrets in Secrets Manager (moto);
    the roles are dropped afterwards (they belong to the whole server)."""
    suffix = uuid.uuid4().hex[:8]
    names = Logins(empty_database, f"eduautismo_app_{suffix}", f"eduautismo_health_{suffix}")
    parameters.clear_caches()
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="sa-east-1")
        override_settings(
            database_url=empty_database,
            application_database_secret_arn=_secret(client, names.application),
            health_database_secret_arn=_secret(client, names.health),
        )
        _invoke(_event("Create", cloudformation.url))
    parameters.clear_caches()
    assert [answer["Status"] for answer in cloudformation.responses] == ["SUCCESS"]
    yield names
    url, connect_args = normalize_database_url(empty_database)
    admin = create_engine(url, connect_args=connect_args, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP OWNED BY {names.application}, {names.health}")
        connection.exec_driver_sql(f"DROP ROLE {names.application}, {names.health}")
    admin.dispose()


def _run(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(statement)


def _refused(engine: Engine, statement: str) -> bool:
    try:
        _run(engine, statement)
    except DBAPIError:
        return True
    return False


ORGANIZATION = "INSERT INTO organizations (id, name) VALUES ('{id}', 'Escola')"


def test_the_application_login_writes_rows_but_runs_no_ddl(logins: Logins) -> None:
    app = logins.engine(logins.application)
    try:
        # Given the application's login
        organization_id = uuid.uuid4()
        # Then it inserts, reads, updates and deletes rows of the application's tables
        _run(app, ORGANIZATION.format(id=organization_id))
        _run(app, f"UPDATE organizations SET name = 'Outra' WHERE id = '{organization_id}'")
        with app.connect() as connection:
            assert connection.scalar(text("SELECT name FROM organizations")) == "Outra"
        _run(app, f"DELETE FROM organizations WHERE id = '{organization_id}'")
        # And every kind of DDL, and a rewrite of the schema revision, is refused
        for statement in (
            "CREATE TABLE intruder (id int)",
            "ALTER TABLE users ADD COLUMN intruder text",
            "DROP TABLE notifications",
            "TRUNCATE students",
            "CREATE INDEX intruder ON users (email)",
            "UPDATE alembic_version SET version_num = 'x'",
            "CREATE SCHEMA intruder",
            "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        ):
            assert _refused(app, statement), statement
        with app.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        app.dispose()


def test_a_table_added_by_a_later_migration_is_writable_by_the_application(logins: Logins) -> None:
    # Given a table the owner creates after the logins were granted (a later migration)
    url, connect_args = normalize_database_url(logins.database_url)
    owner = create_engine(url, connect_args=connect_args)
    _run(owner, "CREATE TABLE later_feature (id serial PRIMARY KEY, note text)")
    owner.dispose()
    app = logins.engine(logins.application)
    try:
        # Then the application writes and reads it without a new grant (default privileges)
        _run(app, "INSERT INTO later_feature (note) VALUES ('ok')")
        with app.connect() as connection:
            assert connection.scalar(text("SELECT note FROM later_feature")) == "ok"
        assert _refused(app, "DROP TABLE later_feature")
    finally:
        app.dispose()


def test_the_health_login_connects_and_writes_nothing(logins: Logins) -> None:
    health = logins.engine(logins.health)
    try:
        # Given the health check's login: it answers the check
        with health.connect() as connection:
            assert connection.scalar(text("SELECT 1")) == 1
            assert connection.scalar(text("SHOW default_transaction_read_only")) == "on"
        # And it can neither write nor read the application's data, nor create anything
        for statement in (
            ORGANIZATION.format(id=uuid.uuid4()),
            "SELECT * FROM students",
            "CREATE TABLE intruder (id int)",
            "CREATE TEMP TABLE intruder (id int)",
        ):
            assert _refused(health, statement), statement
    finally:
        health.dispose()


def test_secrets_with_unsafe_names_are_refused() -> None:
    from eduautismo.db.roles import DatabaseLogin

    for name in ('app"; DROP ROLE postgres; --', "App", "", "a" * 64):
        with pytest.raises(ValueError, match="lower-case identifiers"):
            DatabaseLogin(name, "password")
