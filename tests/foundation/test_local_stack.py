"""Local mode: tokens checked as the JWT authorizer would, and the HTTP server in front of the handlers."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from sqlalchemy import Engine

from eduautismo.settings import get_settings
from eduautismo_local.cli import main as cli_main
from eduautismo_local.embedded import free_port
from eduautismo_local.server import make_server
from eduautismo_local.tokens import issue_token, verify_token


def _token(**overrides: Any) -> str:
    settings = get_settings()
    claims = {
        "iss": settings.local_jwt_issuer,
        "sub": str(uuid.uuid4()),
        "custom:organization_id": str(uuid.uuid4()),
        "cognito:groups": ["coordinator"],
        "exp": int(time.time()) + 60,
    }
    claims.update(overrides)
    return jwt.encode(claims, settings.local_jwt_secret, algorithm="HS256")


def test_a_token_issued_locally_verifies() -> None:
    settings = get_settings()
    token = issue_token(
        settings,
        sub=uuid.uuid4(),
        organization_id=uuid.uuid4(),
        role="professional",
        email="a@b.example",
        name="A",
    )
    claims = verify_token(settings, f"Bearer {token}")
    assert claims is not None and claims["cognito:groups"] == ["professional"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Basic abc",
        "Bearer not-a-jwt",
        "Bearer " + _token(exp=int(time.time()) - 10),
        "Bearer " + _token(iss="someone-else"),
        "Bearer "
        + jwt.encode(
            {"sub": "x", "iss": "eduautismo-local", "exp": int(time.time()) + 60},
            "wrong-secret-of-sufficient-length-123",
            algorithm="HS256",
        ),
        "Bearer "
        + jwt.encode(
            {"sub": "x", "iss": "eduautismo-local", "exp": int(time.time()) + 60}, None, algorithm="none"
        ),
    ],
)
def test_missing_expired_badly_signed_and_alg_none_tokens_are_rejected(authorization: str | None) -> None:
    assert verify_token(get_settings(), authorization) is None


@pytest.fixture
def local_server(db: Engine) -> Iterator[str]:
    server = make_server(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_server_routes_health_to_its_function(local_server: str) -> None:
    status, body = _get(f"{local_server}/api/v1/health")
    assert status == 200 and body["database"] == "ok"


def test_server_answers_404_envelope_for_routes_not_in_the_template(local_server: str) -> None:
    status, body = _get(f"{local_server}/api/v1/not-a-route")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_server_serves_the_openapi_document_and_swagger_ui(local_server: str) -> None:
    status, document = _get(f"{local_server}/openapi.json")
    assert status == 200 and "/api/v1/health" in document["paths"]
    with urllib.request.urlopen(f"{local_server}/docs", timeout=10) as response:
        assert b"swagger-ui" in response.read()


def test_token_command_prints_a_verifiable_demo_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["token", "--role", "professional"]) == 0
    claims = verify_token(get_settings(), "Bearer " + capsys.readouterr().out.strip())
    assert claims is not None and claims["cognito:groups"] == ["professional"]
