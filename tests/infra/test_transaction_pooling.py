"""What a transaction-pooling proxy (PgBouncer here, RDS Proxy in AWS) does to session state: why no
connection may carry any (docs/DEPLOY.md, "Database connections")."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from eduautismo.db.engine import normalize_database_url
from tests.support.pgbouncer import PgBouncer, start_pgbouncer
from tests.support.pinning import PinningDetector


@pytest.fixture
def through_proxy(
    migrated_engine: Engine, service_urls: dict[str, str]
) -> Iterator[Callable[[int], Callable[[], Engine]]]:
    """``through_proxy(n)`` starts PgBouncer with ``n`` server connections in front of the migrated
    database and returns a maker of client engines (each like one Lambda container's)."""
    proxies: list[PgBouncer] = []
    engines: list[Engine] = []

    def start(pool_size: int) -> Callable[[], Engine]:
        proxy = start_pgbouncer(service_urls["server"], pool_size=pool_size)
        proxies.append(proxy)

        def client() -> Engine:
            url, connect_args = normalize_database_url(proxy.url(service_urls["direct_database"]))
            engine = create_engine(url, connect_args=connect_args, pool_size=1, max_overflow=0)
            engines.append(engine)
            return engine

        return client

    yield start
    for engine in engines:
        engine.dispose()
    for proxy in proxies:
        proxy.stop()


def _timeout(connection: Connection) -> str:
    """The session's statement_timeout, read in a transaction of its own (the server goes back after)."""
    value = str(connection.execute(text("SHOW statement_timeout")).scalar())
    connection.commit()
    return value


def test_a_session_set_leaks_to_another_client_and_is_lost_to_its_own(
    through_proxy: Callable[[int], Callable[[], Engine]], pinning_detector: PinningDetector
) -> None:
    # Given PgBouncer in transaction mode with two server connections, and two clients
    client = through_proxy(2)
    with client().connect() as first, client().connect() as second, pinning_detector.caught():
        # When the first client sets its session's statement timeout and commits
        first.execute(text("SET statement_timeout = 1234"))
        first.commit()
        # and the second client starts a transaction (it borrows the only idle server connection,
        # the one the first client just set)
        leaked = str(second.execute(text("SHOW statement_timeout")).scalar())
        # Then the first client's next transaction runs on another server connection without it
        own = _timeout(first)
        second.execute(text("RESET statement_timeout"))  # leave the server connection as found
        second.commit()
    # and the second client carries a setting it never asked for
    assert leaked == "1234ms"
    assert own == "15s"


def test_set_local_ends_with_its_transaction(
    through_proxy: Callable[[int], Callable[[], Engine]], pinning_detector: PinningDetector
) -> None:
    # Given PgBouncer with one server connection, shared by two clients
    client = through_proxy(1)
    with client().connect() as first, client().connect() as second, pinning_detector.caught() as caught:
        # When the first client sets the timeout for its transaction only, and commits
        first.execute(text("SET LOCAL statement_timeout = 1234"))
        inside = str(first.execute(text("SHOW statement_timeout")).scalar())
        first.commit()
        # Then the second client, on the same server connection, has the login's default
        after = _timeout(second)
    assert (inside, after) == ("1234ms", "15s")
    assert caught == []


def test_server_connections_the_proxy_opens_get_the_login_defaults(
    through_proxy: Callable[[int], Callable[[], Engine]],
) -> None:
    # Given PgBouncer, whose server connections the application never configures
    client = through_proxy(1)
    # When a client reads its session settings through it
    with client().connect() as connection:
        settings = connection.execute(
            text("SELECT current_setting('statement_timeout'), current_setting('TimeZone')")
        ).one()
    # Then they are the login's defaults in this database
    assert tuple(settings) == ("15s", "UTC")
