"""The database logins of production, created by the schema owner (the migrations custom resource).

- The application login: SELECT, INSERT, UPDATE and DELETE on the application's tables (and those later
  migrations add, through ``ALTER DEFAULT PRIVILEGES``), no DDL: it owns nothing and may create nothing
  in the schema, so a compromised function cannot drop, alter or add tables, nor rewrite
  ``alembic_version``.
- The health-check login: connects and runs ``SELECT 1``; it is read-only through its grants (no
  privilege on any table, sequence or schema, and no temporary tables), not through
  ``default_transaction_read_only``, because Secrets Manager's single-user rotation logs in as the login
  itself and changes its password in a transaction, which a read-only default would refuse.

Everything here runs as the Aurora master, which is not a superuser (``rds_superuser`` with CREATEROLE
and CREATEDB): no statement names SUPERUSER, REPLICATION or BYPASSRLS on an existing role, which
PostgreSQL refuses to anyone but a superuser. Both passwords come from their Secrets Manager secrets
(rotated there); setting them on every deploy keeps the roles and the secrets in step.
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


# A new role is created without what only a superuser may hold; an existing one is only given what a
# CREATEROLE, CREATEDB role may change (PostgreSQL refuses SUPERUSER, REPLICATION and BYPASSRLS clauses,
# even NO..., from anyone but a superuser), so a retried or later deploy can run it again.
_ATTRIBUTES = "LOGIN NOCREATEDB NOCREATEROLE NOINHERIT"
_CREATE = f"CREATE ROLE %I WITH {_ATTRIBUTES} NOSUPERUSER NOREPLICATION NOBYPASSRLS PASSWORD %L"
_ALTER = f"ALTER ROLE %I WITH {_ATTRIBUTES} PASSWORD %L"
# Attributes only a superuser can remove: a login holding one is refused, not silently kept.
_FORBIDDEN = {"rolsuper": "SUPERUSER", "rolreplication": "REPLICATION", "rolbypassrls": "BYPASSRLS"}


def _set_login(connection: Connection, login: DatabaseLogin) -> None:
    """Create the role when missing; (re)set its password and attributes. The statement is built by
    PostgreSQL's format() so that the name and the password are quoted by the server's own rules."""
    existing = connection.execute(
        text("SELECT rolsuper, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = :name"),
        {"name": login.username},
    ).first()
    if existing is not None:
        held = [attribute for column, attribute in _FORBIDDEN.items() if existing._mapping[column]]
        if held:
            raise RuntimeError(
                f"the database login {login.username} holds {', '.join(held)}; a superuser must remove it"
            )
    verb, template = ("ALTER", _ALTER) if existing is not None else ("CREATE", _CREATE)
    statement = connection.scalar(
        text("SELECT format(CAST(:template AS text), CAST(:name AS text), CAST(:password AS text))"),
        {"template": template, "name": login.username, "password": login.password},
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
            # No temporary tables for anyone: the health login stays read-only without a read-only
            # default, and the application needs none (they would pin RDS Proxy connections).
            f"REVOKE TEMPORARY ON DATABASE {db} FROM PUBLIC",
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
        ):
            connection.exec_driver_sql(statement)
        if connection.scalar(text("SELECT to_regclass(:name)"), {"name": f"public.{MIGRATIONS_TABLE}"}):
            # The schema's revision is the owner's to write: the application may only read it.
            connection.exec_driver_sql(f"REVOKE INSERT, UPDATE, DELETE ON {MIGRATIONS_TABLE} FROM {app}")
