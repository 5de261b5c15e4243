"""One pg8000 connection without SQLAlchemy, for GET /health: importing the engine (SQLAlchemy core and
ORM) would cost the health function more than everything else it imports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pg8000.dbapi

from eduautismo.db.credentials import database_secret
from eduautismo.settings import Settings


def connection_parameters(settings: Settings) -> dict[str, Any]:
    """pg8000.connect() keywords for the configured database: the URL (a libpq socket directory,
    ``?host=/dir``, becomes ``unix_sock``), or in AWS the secret through the proxy host."""
    parameters: dict[str, Any] = {"timeout": settings.database_socket_timeout_seconds}
    if settings.database_url:
        url = urlsplit(settings.database_url)
        parameters.update(
            user=unquote(url.username or ""),
            password=unquote(url.password) if url.password is not None else None,
            database=unquote(url.path.lstrip("/")) or None,
        )
        socket_dir = parse_qs(url.query).get("host", [""])[0]
        if socket_dir.startswith("/"):
            parameters["unix_sock"] = f"{socket_dir}/.s.PGSQL.{url.port or 5432}"
        else:
            parameters.update(host=url.hostname or "localhost", port=url.port or 5432)
    elif settings.database_secret_arn:
        secret = database_secret(settings)
        parameters.update(
            user=secret["username"],
            password=secret["password"],
            host=settings.database_host or secret["host"],
            port=int(secret.get("port", 5432)),
            database=secret.get("dbname", settings.database_name),
        )
    else:
        raise RuntimeError("DATABASE_URL or DATABASE_SECRET_ARN must be set")
    if settings.database_ssl:
        import ssl

        parameters["ssl_context"] = ssl.create_default_context()
    return parameters


@contextmanager
def direct_connection(settings: Settings) -> Iterator[pg8000.dbapi.Connection]:
    """A connection of its own, closed afterwards: nothing outlives the request (nor a SnapStart snapshot)."""
    connection = pg8000.dbapi.connect(**connection_parameters(settings))
    try:
        yield connection
    finally:
        connection.close()
