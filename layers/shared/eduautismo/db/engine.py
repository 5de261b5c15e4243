"""One SQLAlchemy engine per container, created on first use."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from eduautismo import resettable
from eduautismo.db.credentials import database_secret
from eduautismo.db.fast_types import register_fast_decoders
from eduautismo.settings import Settings, get_settings

# A unit-of-work factory: what services take instead of reaching for a module global.
SessionScope = Callable[[], AbstractContextManager[Session]]


def _url_from_secret(settings: Settings) -> str:
    """Build the URL from the secret, through RDS Proxy (DATABASE_HOST) when it is set."""
    secret = database_secret(settings)
    host = settings.database_host or secret["host"]
    port = secret.get("port", 5432)
    database = secret.get("dbname", settings.database_name)
    return (
        f"postgresql+pg8000://{quote_plus(secret['username'])}:{quote_plus(secret['password'])}"
        f"@{host}:{port}/{database}"
    )


def normalize_database_url(raw: str) -> tuple[URL, dict[str, Any]]:
    """Force the pg8000 driver and turn a libpq socket directory (?host=/dir) into pg8000's unix_sock."""
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        url = url.set(drivername="postgresql+pg8000")
    connect_args: dict[str, Any] = {}
    socket_dir = url.query.get("host")
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        port = url.port or 5432
        connect_args["unix_sock"] = f"{socket_dir}/.s.PGSQL.{port}"
        url = url.difference_update_query(["host"]).set(host=None, port=None)
    return url, connect_args


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    if settings.database_secret_arn:
        return _url_from_secret(settings)
    raise RuntimeError("DATABASE_URL or DATABASE_SECRET_ARN must be set")


def leaves_connection_in_sync(exc: BaseException) -> bool:
    """True only for an ordinary error the server reported (an ErrorResponse of severity ERROR, with its
    SQLSTATE): the server then answers ReadyForQuery and the connection is usable after the rollback.
    Anything else - a value the driver could not encode (a lone surrogate), a socket error, a protocol
    surprise, a FATAL - may have left a half-sent message on the wire, and the next request on that
    connection would read someone else's answer."""
    details = exc.args[0] if exc.args else None
    return (
        isinstance(exc, Exception)
        and type(exc).__module__.startswith("pg8000")
        and isinstance(details, dict)
        and "C" in details
        and details.get("S") == "ERROR"
    )


# SQLSTATEs of a connection the server or a proxy gives up on, though reported as an ordinary ERROR:
# class 08 (connection exception: PgBouncer's query_wait_timeout, RDS Proxy's borrow timeout), 53300
# too_many_connections, 57P01-57P03 (shutdown, cannot connect now).
_CONNECTION_LOST = re.compile(r"^(08...|53300|57P0[1-3])$")


def connection_lost(exc: BaseException) -> bool:
    details = exc.args[0] if exc.args else None
    return isinstance(details, dict) and bool(_CONNECTION_LOST.match(str(details.get("C", ""))))


def discard_unsafe_connections(context: ExceptionContext) -> None:
    """``handle_error`` listener: after any error that may leave the connection unusable, SQLAlchemy
    treats it as a disconnect and the pool throws the connection away instead of lending it again (and
    the API answers 503)."""
    error = context.original_exception
    if not leaves_connection_in_sync(error) or connection_lost(error):
        context.is_disconnect = True


def close_idle_connections(engine: Engine, max_idle_seconds: float) -> None:
    """Instead of ``pool_pre_ping`` (a round trip, an empty query, on every checkout): a connection that sat
    in the pool longer than ``max_idle_seconds`` is closed and replaced when it is next checked out,
    which costs no round trip on a warm container. One that broke while lent is discarded by
    ``discard_unsafe_connections``, and the request answers 503 (the client retries)."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is not None and time.monotonic() - returned_at > max_idle_seconds:
            # The pool closes this connection and opens a fresh one for the same checkout.
            raise DisconnectionError("idle longer than the proxy keeps a client connection")


def own_statement_timeout(engine: Engine, timeout_ms: int) -> None:
    """A function whose statement timeout differs from the logins' default (the daily job, the export
    worker) sets it at the start of every transaction with ``SET LOCAL``: it ends with the transaction,
    so the connection goes back to the proxy as it came."""
    statement = f"SET LOCAL statement_timeout = {int(timeout_ms)}"

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql(statement)


def build_engine(settings: Settings) -> Engine:
    url, connect_args = normalize_database_url(database_url(settings))
    connect_args["timeout"] = settings.database_socket_timeout_seconds
    if settings.database_ssl:
        import ssl

        connect_args["ssl_context"] = ssl.create_default_context()
    engine = create_engine(
        url,
        connect_args=connect_args,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        hide_parameters=True,  # errors and logs never carry row values (children's data)
    )
    event.listen(engine, "handle_error", discard_unsafe_connections)
    close_idle_connections(engine, settings.db_idle_seconds)
    if settings.database_statement_timeout_ms != settings.database_default_statement_timeout_ms:
        own_statement_timeout(engine, settings.database_statement_timeout_ms)
    if not settings.database_url and settings.database_secret_arn:

        @event.listens_for(engine, "do_connect")
        def _current_credentials(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
            # Every new connection reads the secret (cached briefly): after a rotation the pool's next
            # connections use the new password instead of the one the engine was built with.
            secret = database_secret(settings)
            cparams["user"], cparams["password"] = secret["username"], secret["password"]

    # Client-side only: nothing is sent. The statement timeout and time zone are the login's defaults
    # (eduautismo.db.session_defaults): a SET here would pin the connection behind RDS Proxy.
    event.listen(
        engine, "connect", lambda dbapi_connection, _record: register_fast_decoders(dbapi_connection)
    )

    return engine


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return build_engine(get_settings())


@lru_cache(maxsize=1)
def _session_factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commits when the block succeeds, rolls back when it raises."""
    session = _session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def warm_up() -> None:
    """Before a SnapStart snapshot: configure the mappers and initialise the engine's dialect (it reads the
    server's version and settings once per engine), then close every connection: none may be in the
    snapshot, since every restored copy would share it."""
    configure_mappers()
    engine = get_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def drop_pooled_connections() -> None:
    """Forget the pool's connections without closing them (a SnapStart copy must not use or close the
    snapshot's sockets); the engine, its dialect and compiled-statement cache stay."""
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)


def reset_engine() -> None:
    """Drop the cached engine (tests and the local server switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _session_factory.cache_clear()


# A SnapStart copy keeps the engine (its dialect and compiled statements) but none of the snapshot's sockets.
resettable.register(
    __name__, reset_engine, covers=(get_engine, _session_factory), restore=drop_pooled_connections
)
