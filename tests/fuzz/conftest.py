"""The live local server the contract tests (schemathesis, the generated client) call."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from eduautismo.runtime import reset_runtime
from eduautismo_local.embedded import LOCAL_BUCKET, start_s3_server
from tests.support.live_server import running_server


@pytest.fixture(scope="package")
def base_url(migrated_engine: Engine) -> Iterator[str]:
    """The local server with every dependency up: PostgreSQL, Redis, and S3 (moto's server) for exports.
    One for the package: moto keeps its buckets in the process, a second server could not make its own."""
    s3_server, endpoint = start_s3_server()
    saved = dict(os.environ)
    os.environ.update(
        {"S3_ENDPOINT_URL": endpoint, "EXPORT_BUCKET": LOCAL_BUCKET, "EXPORT_DISPATCH": "thread"}
    )
    reset_runtime()
    try:
        with running_server() as url:
            yield url
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_runtime()
        s3_server.stop()
