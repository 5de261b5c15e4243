"""When no database connection comes in time - this container's pool is all lent, or the proxy has no
server connection to lend - the API answers 503 with Retry-After and the error envelope, never 500
(docs/DEPLOY.md, "Database connections"). And the pool costs no round trip on a warm checkout."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text

from eduautismo.db.engine import build_engine
from eduautismo.settings import Settings
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory
from tests.support.pgbouncer import start_pgbouncer
from tests.support.pinning import count_statements

STUDENTS = "/api/v1/students"


@pytest.fixture
def coordinator(factory: Factory) -> Actor:
    from eduautismo.domain import Role

    return factory.user(factory.organization(), Role.COORDINATOR)


def _assert_retry_later(response: ApiResponse) -> None:
    assert response.status == 503, response.json
    assert response.json["error"]["code"] == "service_unavailable"
    assert {name.lower(): value for name, value in response.headers.items()}["retry-after"] == "1"


def test_a_request_that_gets_no_pooled_connection_in_time_is_503_with_retry_after(
    coordinator: Actor, override_settings: Callable[..., None]
) -> None:
    # Given a container whose pool has one connection, no overflow, and waits 0.2 s for it
    override_settings(db_pool_size="1", db_max_overflow="0", db_pool_timeout_seconds="0.2")
    from eduautismo.db.engine import get_engine

    # and that connection lent to another request
    with get_engine().connect() as busy:
        busy.execute(text("SELECT 1"))
        # When a request needs the database
        response = call_api("GET", STUDENTS, claims=coordinator.claims)
    # Then it is told to retry shortly, in the envelope
    _assert_retry_later(response)
    # and once the connection is back the same request succeeds
    assert call_api("GET", STUDENTS, claims=coordinator.claims).status == 200


def test_a_request_the_proxy_cannot_serve_in_time_is_503_with_retry_after(
    coordinator: Actor, override_settings: Callable[..., None], service_urls: dict[str, str]
) -> None:
    # Given PgBouncer with one server connection that lends it for at most 1 s of waiting
    proxy = start_pgbouncer(service_urls["server"], pool_size=1, query_wait_timeout=1)
    through_proxy = proxy.url(service_urls["direct_database"])
    hog = build_engine(Settings(database_url=through_proxy))
    try:
        # and another client holding that server connection in an open transaction
        with hog.connect() as holder:
            holder.execute(text("SELECT 1"))
            override_settings(database_url=through_proxy)
            # When a request needs the database through the proxy
            response = call_api("GET", STUDENTS, claims=coordinator.claims)
            holder.rollback()
        # Then it is told to retry shortly, in the envelope
        _assert_retry_later(response)
        # and once the server connection is free the same request succeeds through the proxy
        assert call_api("GET", STUDENTS, claims=coordinator.claims).status == 200
    finally:
        hog.dispose()
        proxy.stop()


@pytest.fixture
def counted_engine(migrated_engine: Engine) -> Iterator[tuple[Engine, list[str]]]:
    """An application engine (build_engine) whose every statement sent to the server is recorded."""
    engine = build_engine(Settings(database_url=migrated_engine.url.render_as_string(hide_password=False)))
    sent = count_statements(engine)
    yield engine, sent
    engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_warm_checkout_sends_nothing_before_the_request_statement(
    counted_engine: tuple[Engine, list[str]],
) -> None:
    # Given an application engine whose connection was used once (so it is pooled and warm)
    engine, sent = counted_engine
    first = _backend_pid(engine)
    sent.clear()
    # When the next request checks it out and runs one statement
    second = _backend_pid(engine)
    # Then the same connection served it and nothing but the transaction and the statement was sent
    # (pool_pre_ping would add a SELECT 1 per checkout)
    assert second == first
    assert [statement.split()[0].lower() for statement in sent] == ["begin", "select", "rollback"]


def test_a_connection_idle_longer_than_db_idle_seconds_is_replaced(migrated_engine: Engine) -> None:
    # Given an application engine that keeps idle connections 0.2 s at most
    engine = build_engine(
        Settings(database_url=migrated_engine.url.render_as_string(hide_password=False), db_idle_seconds=0.2)
    )
    try:
        first = _backend_pid(engine)
        # When its connection sits in the pool longer than that
        time.sleep(0.4)
        # Then the next checkout gets a new server session (the old one is closed, not pinged)
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()
