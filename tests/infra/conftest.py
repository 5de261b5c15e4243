"""Fixtures of the infrastructure tests: a stand-in for CloudFormation's response URL, an empty database,
and an empty database owned by an Aurora-like master login (tests/support/aurora.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

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
