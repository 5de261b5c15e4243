"""Fixtures of the infrastructure tests: a stand-in for CloudFormation's response URL, an empty database,
and an empty database owned by an Aurora-like master login (tests/support/aurora.py)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from eduautismo.db.engine import normalize_database_url
from tests.support import services
from tests.support.aurora import AuroraDatabase, aurora_database


class CloudFormationEndpoint:
    """Stands in for the presigned S3 ResponseURL: records every PUT body."""

    def __init__(self, status: int = 200) -> None:
        self.responses: list[dict[str, Any]] = []
        self.content_types: list[str | None] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers["Content-Length"])
                endpoint.content_types.append(self.headers.get("Content-Type"))
                endpoint.responses.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/response?X-Amz-Signature=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CloudFormationEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cloudformation() -> Iterator[CloudFormationEndpoint]:
    with CloudFormationEndpoint() as endpoint:
        yield endpoint


@pytest.fixture
def empty_database(service_urls: dict[str, str]) -> Iterator[str]:
    url = services.create_private_database(service_urls["server"], prefix="eduautismo_migrations")
    yield url
    services.drop_database(service_urls["server"], url)


@pytest.fixture
def aurora(service_urls: dict[str, str]) -> Iterator[AuroraDatabase]:
    with aurora_database(service_urls["server"]) as database:
        yield database


class ProxyNotYetRouting:
    """Stands in for RDS Proxy while its target is not yet available: it accepts the first connections
    and drops them (the proxy's borrow timeout), then forwards every later one to the real PostgreSQL."""

    def __init__(self, database_url: str, dropped: int) -> None:
        url, connect_args = normalize_database_url(database_url)
        self.upstream: str | tuple[str, int] = connect_args.get("unix_sock") or (
            url.host or "127.0.0.1",
            url.port or 5432,
        )
        self.dropped = dropped
        self.accepted = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = (
            make_url(database_url)
            .set(host="127.0.0.1", port=self.listener.getsockname()[1], query={})
            .render_as_string(hide_password=False)
        )
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.accepted <= self.dropped:
                client.close()
                continue
            family = socket.AF_UNIX if isinstance(self.upstream, str) else socket.AF_INET
            upstream = socket.socket(family, socket.SOCK_STREAM)
            upstream.connect(self.upstream)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, target), daemon=True).start()

    def __enter__(self) -> ProxyNotYetRouting:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.listener.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
