"""The live local server the contract tests call, a token for it, and the operations still untyped on this
branch (converted by other features in parallel): those are expected to fail the contract checks, strictly,
so each must be taken off NOT_YET_TYPED once its feature has landed."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from eduautismo.runtime import reset_runtime
from eduautismo.settings import get_settings
from eduautismo_local.embedded import LOCAL_BUCKET, start_s3_server
from eduautismo_local.tokens import issue_token
from tests.fuzz.test_openapi_document import NOT_YET_TYPED
from tests.support.factories import Actor
from tests.support.live_server import running_server

FUZZ_TEST = "test_every_operation_answers_within_its_schema_and_never_5xx"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.name.startswith(f"{FUZZ_TEST}[") and item.name.endswith("]"):
            method, path = item.name[len(FUZZ_TEST) + 1 : -1].split(" ", 1)
            if (method, path) in NOT_YET_TYPED:
                item.add_marker(pytest.mark.xfail(strict=True, reason="typed on its feature's branch"))


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


def bearer(actor: Actor) -> str:
    """A local token (as `eduautismo-local token` prints) for ``actor``."""
    token = issue_token(
        get_settings(),
        sub=actor.user_id,
        organization_id=actor.organization_id,
        role=actor.role.value,
        email=actor.email,
        name=actor.name,
    )
    return token
