"""Per-session settings as defaults of the database roles, never as statements on a connection.

RDS Proxy (and PgBouncer in transaction mode) lends one server connection to many clients, one
transaction at a time. A session-level ``SET`` either pins the client to one server connection for its
whole life (RDS Proxy: no multiplexing) or leaks to whoever borrows that server connection next
(PgBouncer). So the statement timeout and the time zone are the roles' defaults, applied by the
migrations (``ALTER ROLE … IN DATABASE … SET``), which every server connection gets when it is opened;
inside a transaction only ``SET LOCAL`` / ``set_config(…, true)`` (docs/DEPLOY.md, "Database connections").
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from eduautismo.settings import Settings


def session_defaults(settings: Settings) -> dict[str, str]:
    """Parameter -> value every session of the application's logins starts with."""
    return {"statement_timeout": str(int(settings.database_default_statement_timeout_ms)), "TimeZone": "UTC"}


def _alter_role(connection: Connection, role: str, clause: str, parameters: dict[str, str]) -> None:
    """``ALTER ROLE <role> IN DATABASE <current> <clause>``, names and values quoted by the server's
    format() (%I identifiers, %L literals)."""
    statement = connection.scalar(
        text(
            "SELECT format('ALTER ROLE %I IN DATABASE %I ' || CAST(:clause AS text), "
            "CAST(:role AS text), current_database(), CAST(:value AS text))"
        ),
        {"clause": clause, "role": role, **parameters},
    )
    connection.exec_driver_sql(str(statement))


def apply_role_defaults(connection: Connection, roles: Iterable[str], settings: Settings) -> None:
    """Give each role this database's session defaults (scoped to the database: another database on
    the same server, such as a parallel test run's, keeps its own). New sessions only: connections
    already open keep what they started with."""
    for role in dict.fromkeys(roles):
        for name, value in session_defaults(settings).items():
            _alter_role(connection, role, f"SET {name} = %L", {"value": value})


def reset_role_defaults(connection: Connection, roles: Iterable[str], settings: Settings) -> None:
    for role in dict.fromkeys(roles):
        for name in session_defaults(settings):
            _alter_role(connection, role, f"RESET {name}", {"value": ""})
