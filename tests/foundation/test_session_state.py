"""No connection carries session state (docs/DEPLOY.md, "Database connections"): the statement timeout
and time zone are the login's defaults in the database, and the suite-wide detector (tests/conftest.py)
flags any statement that would pin a connection behind RDS Proxy."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from eduautismo.db.engine import normalize_database_url
from tests.support.pinning import PinningDetector, pins_session


def _private_engine(url: str) -> Engine:
    database_url, connect_args = normalize_database_url(url)
    return create_engine(database_url, connect_args=connect_args)


@pytest.mark.parametrize(
    "statement",
    [
        "SET statement_timeout = 15000",
        "set time zone 'UTC'",
        "SET SESSION search_path TO public",
        "RESET ALL",
        "PREPARE plans_by_id (uuid) AS SELECT 1",
        "LISTEN plan_changes",
        "CREATE TEMP TABLE scratch (id int)",
        "CREATE TEMPORARY TABLE scratch (id int)",
        "DECLARE rows CURSOR WITH HOLD FOR SELECT 1",
        "SELECT pg_advisory_lock(42)",
        "SELECT pg_try_advisory_lock(42)",
        "SELECT set_config('statement_timeout', '0', false)",
        "SELECT set_config('TimeZone', %s, false), set_config('jit', 'off', true)",
    ],
)
def test_statements_that_leave_session_state_pin(statement: str) -> None:
    # Given a statement that outlives its transaction on the connection
    # When it is classified / Then it pins
    assert pins_session(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SET LOCAL statement_timeout = 0",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "SELECT set_config('TimeZone', %s, true), set_config('DateStyle', 'SQL, DMY', true)",
        "SELECT pg_advisory_xact_lock(42)",
        "SELECT settings FROM plans WHERE title = 'SET x'",
        "begin transaction",
        "SHOW statement_timeout",
    ],
)
def test_transaction_scoped_statements_do_not_pin(statement: str) -> None:
    # Given a statement whose effect ends with its transaction (or that has none)
    # When it is classified / Then it does not pin
    assert not pins_session(statement)


def test_the_old_connect_time_set_is_flagged(
    pinning_detector: PinningDetector, service_urls: dict[str, str]
) -> None:
    # Given a private engine that sets the session on connect, as engine.py did before
    engine = _private_engine(service_urls["database"])

    @event.listens_for(engine, "connect")
    def _old_on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET statement_timeout = 15000")
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.close()

    # When it connects, watched by the suite's detector
    with pinning_detector.caught() as caught, engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    # Then both statements are caught (outside this block, they would fail the run)
    assert caught == ["SET statement_timeout = 15000", "SET TIME ZONE 'UTC'"]


def test_a_session_set_through_sqlalchemy_is_flagged(
    pinning_detector: PinningDetector, migrated_engine: Engine
) -> None:
    # Given the application's engine
    # When a session SET goes through it, and the connection is then reset
    with pinning_detector.caught() as caught, migrated_engine.connect() as connection:
        connection.execute(text("SET jit = off"))
        connection.execute(text("RESET jit"))
    # Then both were seen
    assert caught == ["SET jit = off", "RESET jit"]


def test_new_sessions_get_the_timeout_and_time_zone_from_the_login_defaults(
    pinning_detector: PinningDetector, migrated_engine: Engine, service_urls: dict[str, str]
) -> None:
    # Given the migrated database and a connection of an engine that sends nothing when it connects
    engine = _private_engine(service_urls["database"])
    with pinning_detector.caught() as caught, engine.connect() as connection:
        # When the session's settings are read
        timeout = connection.execute(text("SHOW statement_timeout")).scalar()
        zone = connection.execute(text("SHOW TimeZone")).scalar()
    engine.dispose()
    # Then they are the settings' values, and nothing was SET to get them
    assert (timeout, zone) == ("15s", "UTC")
    assert caught == []


def test_the_login_defaults_are_set_in_this_database(
    migrated_engine: Engine, service_urls: dict[str, str]
) -> None:
    # Given the migrated database
    # When the role settings are read from the catalog
    with migrated_engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT d.datname, s.setconfig FROM pg_db_role_setting s "
                "JOIN pg_database d ON d.oid = s.setdatabase "
                "WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user) "
                "AND d.datname = current_database()"
            )
        ).all()
    # Then the login has them in this database (ALTER ROLE … IN DATABASE: a parallel run's database on
    # the same server is not touched)
    assert [(name, sorted(config)) for name, config in rows] == [
        (migrated_engine.url.database, ["TimeZone=UTC", "statement_timeout=15000"])
    ]


def test_a_function_with_its_own_timeout_sets_it_per_transaction_only(
    pinning_detector: PinningDetector, migrated_engine: Engine
) -> None:
    from eduautismo.db.engine import build_engine
    from eduautismo.settings import Settings

    # Given a function whose statement timeout (60 s) differs from the logins' default (15 s)
    engine = build_engine(
        Settings(
            database_url=migrated_engine.url.render_as_string(hide_password=False),
            database_statement_timeout_ms=60_000,
        )
    )
    try:
        with pinning_detector.caught() as caught, engine.connect() as connection:
            # When a transaction reads its timeout, and the session is read after it
            inside = connection.execute(text("SHOW statement_timeout")).scalar()
            connection.commit()
            dbapi = connection.connection.dbapi_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            cursor.execute("SELECT current_setting('statement_timeout')")
            after = cursor.fetchone()[0]
            cursor.close()
            dbapi.rollback()
    finally:
        engine.dispose()
    # Then the transaction had the function's timeout, the session kept the default, nothing pinned
    assert (inside, after) == ("1min", "15s")
    assert caught == []
