"""The resolver every API function is built with: authentication and the error envelope.
A probe router stands in for a feature, so the mechanism is tested on its own."""

from __future__ import annotations

import io
import json
import logging
import uuid
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.api.dependencies import CurrentPrincipal
from eduautismo.db.models import User
from eduautismo.errors import NotFound
from eduautismo.observability import logger
from eduautismo_local.events import LocalLambdaContext, http_api_event
from tests.support.api import ApiResponse, lambda_result_to_response

probe = APIGatewayHttpRouter()


class ProbeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str


@probe.get("/probe")
def read_probe(
    principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict[str, Any]:
    return {"user_id": str(principal.user_id), "role": principal.role.value, "limit": limit}


@probe.post("/probe")
def write_probe(body: ProbeBody) -> dict[str, Any]:
    return {"title": body.title}


@probe.get("/probe/missing")
def missing_probe() -> dict[str, Any]:
    raise NotFound("plan")


@probe.get("/probe/crash")
def crash_probe() -> dict[str, Any]:
    raise RuntimeError("secret detail that must not leak")


handler = lambda_entry(create_app(probe))


def _claims(role: str = "professional") -> dict[str, Any]:
    return {
        "sub": str(uuid.uuid4()),
        "email": "bia@escola.example",
        "name": "Bia",
        "custom:organization_id": str(uuid.uuid4()),
        "cognito:groups": f"[{role}]",
    }


def _call(method: str, path: str, claims: dict[str, Any] | None, **kwargs: Any) -> ApiResponse:
    event = http_api_event(method, "/api/v1" + path, claims=claims, **kwargs)
    return lambda_result_to_response(handler(event, LocalLambdaContext()))


def _assert_envelope(response: ApiResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status == status
    error = response.json["error"]
    assert error["code"] == code and isinstance(error["message"], str) and isinstance(error["details"], list)
    assert "Traceback" not in response.body.decode()
    return error  # type: ignore[no-any-return]


def _user_count(db: Engine) -> int:
    with Session(db) as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def test_authenticated_call_reaches_the_route_with_the_principal(db: Engine) -> None:
    claims = _claims("coordinator")
    response = _call("GET", "/probe", claims)
    assert response.status == 200
    assert response.json == {"user_id": claims["sub"], "role": "coordinator", "limit": 50}


def test_no_claims_is_401_and_nothing_is_written(db: Engine) -> None:
    _assert_envelope(_call("GET", "/probe", None), 401, "unauthorized")
    assert _user_count(db) == 0


@pytest.mark.parametrize("missing", ["custom:organization_id", "cognito:groups"])
def test_token_without_organization_or_role_is_403_and_nothing_is_written(db: Engine, missing: str) -> None:
    claims = _claims()
    del claims[missing]
    _assert_envelope(_call("GET", "/probe", claims), 403, "forbidden")
    assert _user_count(db) == 0


def test_query_out_of_range_is_422_naming_the_field(db: Engine) -> None:
    error = _assert_envelope(_call("GET", "/probe", _claims(), query={"limit": 500}), 422, "validation_error")
    assert [detail["field"] for detail in error["details"]] == ["limit"]


def test_malformed_json_is_422(db: Engine) -> None:
    _assert_envelope(_call("POST", "/probe", _claims(), body="{not json"), 422, "validation_error")


def test_unknown_body_field_is_422_naming_it(db: Engine) -> None:
    body = json.dumps({"title": "x", "organization_id": str(uuid.uuid4())})
    error = _assert_envelope(_call("POST", "/probe", _claims(), body=body), 422, "validation_error")
    assert any("organization_id" in detail["field"] for detail in error["details"])


def test_domain_not_found_maps_to_404_envelope(db: Engine) -> None:
    _assert_envelope(_call("GET", "/probe/missing", _claims()), 404, "not_found")


def test_unexpected_error_is_a_500_envelope_without_details(db: Engine) -> None:
    error = _assert_envelope(_call("GET", "/probe/crash", _claims()), 500, "internal_error")
    assert "secret detail" not in json.dumps(error)


def test_unknown_route_is_404_envelope(db: Engine) -> None:
    _assert_envelope(_call("GET", "/nowhere", _claims()), 404, "not_found")


def test_an_unexpected_error_logs_its_type_and_place_but_not_its_message(db: Engine) -> None:
    # Given the function's log captured, and a route whose error message carries data
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(capture)
    try:
        # When it fails
        _call("GET", "/probe/crash", _claims())
    finally:
        logging.getLogger(logger.name).removeHandler(capture)
    # Then the log names the error type and where it happened, without the message
    logs = stream.getvalue()
    assert "RuntimeError" in logs and "crash_probe" in logs
    assert "secret detail" not in logs
