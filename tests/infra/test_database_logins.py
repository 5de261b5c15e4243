"""The migrations custom resource creates the production logins on real PostgreSQL, connected as Aurora
connects it: as a master login that is not a superuser (tests/support/aurora.py). The application's
login can read and write the application's tables (also those a later migration adds) and can run no
DDL; the health check's can connect and can write nothing; a retried or later deploy creates them
again; every login rotates with Secrets Manager's single-user steps."""

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
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from tests.infra.conftest import CloudFormationEndpoint
from tests.infra.test_migrations_resource import _event, _invoke
from tests.support.aurora import AuroraDatabase, login_engine, password_matches, rotate_single_user


@dataclass(frozen=True)
class Logins:
    aurora: AuroraDatabase
    application: str
    health: str
    secrets: Any  # the Secrets Manager client (moto) holding both secrets
    secret_arns: dict[str, str]
    cloudformation: CloudFormationEndpoint

    @property
    def database_url(self) -> str:
        return self.aurora.url

    def engine(self, username: str) -> Engine:
        return login_engine(self.database_url, username)

    def password(self, username: str) -> str:
        value = self.secrets.get_secret_value(SecretId=self.secret_arns[username])["SecretString"]
        return str(json.loads(value)["password"])

    def deploy(self, request_type: str) -> str:
        """Run the custom resource as CloudFormation does; its answer's status."""
        parameters.clear_caches()
        physical_id = None if request_type == "Create" else "eduautismo-schema-migrations"
        _invoke(_event(request_type, self.cloudformation.url, physical_id=physical_id))
        parameters.clear_caches()
        return str(self.cloudformation.responses[-1]["Status"])


def _secret(client: Any, username: str) -> str:
    value = {"username": username, "password": f"pw-{uuid.uuid4().hex}%'x"}
    return str(client.create_secret(Name=f"eduautismo/{username}", SecretString=json.dumps(value))["ARN"])


@pytest.fixture
def logins(
    override_settings: Callable[..., None], aurora: AuroraDatabase, cloudformation: CloudFormationEndpoint
) -> Iterator[Logins]:
    """The custom resource run as the Aurora-like master on its empty database, with both login secrets
    in Secrets Manager (moto); the roles are dropped with the database afterwards."""
    suffix = aurora.master.rsplit("_", 1)[1]
    application, health = f"eduautismo_app_{suffix}", f"eduautismo_health_{suffix}"
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="sa-east-1")
        arns = {application: _secret(client, application), health: _secret(client, health)}
        override_settings(
            database_url=aurora.url,
            application_database_secret_arn=arns[application],
            health_database_secret_arn=arns[health],
        )
        names = Logins(aurora, application, health, client, arns, cloudformation)
        assert names.deploy("Create") == "SUCCESS"
        yield names


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
    owner = login_engine(logins.database_url, logins.aurora.master)
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
            # Read-only through its grants, not a read-only default (which would break its rotation)
            assert connection.scalar(text("SHOW default_transaction_read_only")) == "off"
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


def _attributes(logins: Logins, username: str) -> dict[str, Any]:
    admin = login_engine(logins.aurora.server_url, "postgres")
    with admin.connect() as connection:
        row = connection.execute(
            text(
                "SELECT rolsuper, rolreplication, rolbypassrls, rolcreaterole, rolcreatedb, rolinherit, "
                "rolcanlogin FROM pg_roles WHERE rolname = :name"
            ),
            {"name": username},
        ).one()
    admin.dispose()
    return dict(row._mapping)


def test_a_retry_and_a_later_deploy_create_the_logins_again_as_the_aurora_master(logins: Logins) -> None:
    # Given logins the first run created as the master (not a superuser), and a password the secret
    # got meanwhile (a rotation that the role has not seen)
    client, arn = logins.secrets, logins.secret_arns[logins.application]
    client.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": logins.application, "password": "nova-Senha-1"})
    )
    # When Lambda retries the Create and a later deploy sends an Update
    statuses = [logins.deploy("Create"), logins.deploy("Update")]
    # Then both succeed, the roles hold only what they should, and their passwords follow the secrets
    assert statuses == ["SUCCESS", "SUCCESS"], logins.cloudformation.responses[-1]["Reason"]
    for username in (logins.application, logins.health):
        assert _attributes(logins, username) == {
            "rolsuper": False,
            "rolreplication": False,
            "rolbypassrls": False,
            "rolcreaterole": False,
            "rolcreatedb": False,
            "rolinherit": False,
            "rolcanlogin": True,
        }
        assert password_matches(logins.aurora.server_url, username, logins.password(username))


def test_a_login_holding_what_only_a_superuser_can_remove_fails_the_deploy(logins: Logins) -> None:
    # Given someone gave the application's login BYPASSRLS (only a superuser can, and take it back)
    admin = login_engine(logins.aurora.server_url, "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"ALTER ROLE {logins.application} BYPASSRLS")
    admin.dispose()
    # When the next deploy runs the custom resource
    status = logins.deploy("Update")
    # Then it fails (the deploy rolls back) instead of keeping the attribute silently
    assert status == "FAILED"
    assert "RuntimeError" in logins.cloudformation.responses[-1]["Reason"]


def test_every_login_rotates_with_the_single_user_steps(logins: Logins) -> None:
    # Given the master's secret beside the two logins' (RDS rotates it; the steps are the same)
    client = logins.secrets
    master = {"username": logins.aurora.master, "password": "x"}
    master_arn = str(client.create_secret(Name="eduautismo/master", SecretString=json.dumps(master))["ARN"])
    for username, arn in (*logins.secret_arns.items(), (logins.aurora.master, master_arn)):
        # When Secrets Manager rotates the login (as the login itself, in a transaction)
        new_password = rotate_single_user(client, arn, logins.database_url)
        # Then the database holds the new password and the secret's current version carries it
        assert password_matches(logins.aurora.server_url, username, new_password), username
        current = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
        assert json.loads(current)["password"] == new_password
    # And a deploy after the rotations still creates the logins again
    assert logins.deploy("Update") == "SUCCESS"


def test_every_login_starts_its_sessions_with_the_timeout_and_time_zone(logins: Logins) -> None:
    # Given the logins the custom resource made (and the master that ran it), and an engine of each that
    # sends nothing on connect
    for username in (logins.application, logins.health, logins.aurora.master):
        engine = logins.engine(username)
        try:
            # When a session of that login reads its settings
            with engine.connect() as connection:
                settings = connection.execute(
                    text("SELECT current_setting('statement_timeout'), current_setting('TimeZone')")
                ).one()
        finally:
            engine.dispose()
        # Then they are the login's defaults in this database (no SET pins the connection)
        assert tuple(settings) == ("15s", "UTC"), username
