"""`make smoke URL=... TOKEN=...` (infra/checks/smoke.py), run against the local server: the same
handlers, a real PostgreSQL, and an S3 endpoint whose presigned links really download."""

from __future__ import annotations

import importlib.util
import subprocess
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine

from eduautismo.domain import Role
from eduautismo_local.embedded import LOCAL_BUCKET, start_s3_server
from eduautismo_local.template_routes import PROJECT_ROOT
from tests.support.factories import Factory
from tests.support.live_server import running_server, token_for

SMOKE = PROJECT_ROOT / "infra/checks/smoke.py"


def _smoke_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smoke", SMOKE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def stack(db: Engine, override_settings: Callable[..., None]) -> Iterator[str]:
    """The local server with exports stored in the local S3 server."""
    server, endpoint = start_s3_server()
    try:
        override_settings(s3_endpoint_url=endpoint, export_bucket=LOCAL_BUCKET, export_dispatch="thread")
        with running_server() as base:
            yield base
    finally:
        server.stop()


def test_smoke_passes_against_a_working_stack(stack: str, factory: Factory) -> None:
    # Given a coordinator of a stack that works, and their token
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    # When the smoke check runs with the stack's URL and the token
    lines = _smoke_module().run(stack, token_for(coordinator))
    # Then health, one authenticated read and one fetched export link all passed
    assert [line.split(":")[0] for line in lines] == [
        "ok  health",
        "ok  authenticated read",
        "ok  export link fetched",
    ]


def test_smoke_fails_naming_the_check_that_failed(stack: str) -> None:
    smoke: Any = _smoke_module()
    # Given a token the stack does not accept
    # When the smoke check runs
    with pytest.raises(smoke.SmokeFailure, match=r"^authenticated read: HTTP 401"):
        smoke.run(stack, "not-a-token")


def test_make_smoke_needs_both_the_url_and_the_token() -> None:
    # When a person runs the target without the token
    result = subprocess.run(
        ["make", "--no-print-directory", "smoke", "URL=https://api.example"],  # noqa: S607
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # Then it says how to run it, and fails
    assert result.returncode == 2
    assert "usage: make smoke URL=" in result.stdout
