"""The database logins of production, created by the schema owner (the migrations custom resource).

- The application login: SELECT, INSERT, UPDATE and DELETE on the application's tables (and those later
  migrations add, through ``ALTER DEFAULT PRIVILEGES``), no DDL: it owns nothing and may create nothing
  in the schema, so a compromised function cannot drop, alter or add tables, nor rewrite
  ``alembic_version``.
- The health-check login: connects and reads nothing but ``SELECT 1``; every transaction is read-only.

Both passwords come from their Secrets Manager secrets (rotated there); setting them on every deploy
keeps the roles and the secrets in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

# PostgreSQL role names we accept from a secret: plain lower-case identifiers.
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APPLICATION_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
MIGRATIONS_TABLE = "alembic_version"


@dataclass(frozen=True)
class DatabaseLogin:
    username: str
    password: str

    def __post_init__(self) -> None:
        if not _ROLE_NAME.match(self.username):
            raise ValueError("database login names are lower-case identifiers")
        if not self.password:
            raise ValueError("database logins need a password")


def _set_login(connection: Connection, login: DatabaseLogin) -> None:
    """Create the role when missing; (re)set its password and attributes. The statement is built by
    PostgreSQL's format() so that the name and the password are quoted by the server's own rules."""
    exists = connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": login.username})
    verb = "ALTER" if exists else "CREATE"
    statement = connection.scalar(
        text(
            "SELECT format('%s ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
            "NOREPLICATION NOBYPASSRLS PASSWORD %L', CAST(:verb AS text), CAST(:name AS text), "
            "CAST(:password AS text))"
        ),
        {"verb": verb, "name": login.username, "password": login.password},
    )
    try:
        connection.exec_driver_sql(str(statement))
    except DBAPIError:
        # The driver's error quotes the statement, password included: raise without it (nor its cause).
        raise RuntimeError(f"could not {verb.lower()} the database login {login.username}") from None


def ensure_application_roles(engine: Engine, application: DatabaseLogin, health: DatabaseLogin) -> None:
    """Create or update both logins and their grants, as the schema owner, in one transaction."""
    with engine.begin() as connection:
        owner = str(connection.scalar(text("SELECT current_user")))
        database = str(connection.scalar(text("SELECT current_database()")))
        for login in (application, health):
            _set_login(connection, login)
        quoted = connection.dialect.identifier_preparer.quote
        app, check, db = quoted(application.username), quoted(health.username), quoted(database)
        for statement in (
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            f"GRANT CONNECT ON DATABASE {db} TO {app}, {check}",
            f"GRANT USAGE ON SCHEMA public TO {app}",
            f"REVOKE CREATE ON SCHEMA public FROM {app}, {check}",
            f"GRANT {APPLICATION_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {app}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
            # Tables and sequences the owner creates in later migrations get the same grants.
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quoted(owner)} IN SCHEMA public "
            f"GRANT {APPLICATION_PRIVILEGES} ON TABLES TO {app}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quoted(owner)} IN SCHEMA public "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {app}",
            f"ALTER ROLE {check} SET default_transaction_read_only = on",
        ):
            connection.exec_driver_sql(statement)
        if connection.scalar(text("SELECT to_regclass(:name)"), {"name": f"public.{MIGRATIONS_TABLE}"}):
            # The schema's revision is the owner's to write: the application may only read it.
            connection.exec_driver_sql(f"REVOKE INSERT, UPDATE, DELETE ON {MIGRATIONS_TABLE} FROM {app}")
