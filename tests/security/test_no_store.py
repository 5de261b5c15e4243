"""Every answer of the API concerns children (plans, names, links to their files): none may be kept by a
browser or a shared cache. One rule in the Lambda entry of every API function, so it holds
for successes, error envelopes, 304s and the body guard's refusals alike."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine

from eduautismo.domain import Role
from eduautismo_local.template_routes import http_routes
from tests.exports.conftest import s3 as s3  # the export bucket in moto: exports run inline
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Factory


def _path_of(route_path: str) -> str:
    """A concrete path for a template route: every {parameter} an unknown id."""
    parts = [str(uuid.uuid4()) if part.startswith("{") else part for part in route_path.split("/")]
    return "/".join(parts)


def test_every_route_answers_no_store_whatever_the_outcome(factory: Factory, db: Engine, s3: Any) -> None:
    # Given a coordinator, and every route of every API function in template.yaml
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    answers: dict[str, ApiResponse] = {}
    for route in http_routes():
        path = _path_of(route.path)
        # When each is called as a coordinator, without claims, and with a body the guard refuses
        body = {} if route.method in {"POST", "PATCH"} else None
        answers[f"{route.route_key} as a coordinator"] = call_api(
            route.method, path, claims=coordinator.claims, json_body=body
        )
        answers[f"{route.route_key} without claims"] = call_api(route.method, path)
        answers[f"{route.route_key} with a body over 1 MiB"] = call_api(
            route.method, path, claims=coordinator.claims, raw_body='"' + "x" * (1024 * 1024) + '"'
        )
    # Then the answers are of every kind (success, errors, refusals) and none may be stored
    statuses = {answer.status for answer in answers.values()}
    assert {200, 401, 404, 413}.issubset(statuses), statuses
    unmarked = [name for name, answer in answers.items() if answer.header("Cache-Control") != "no-store"]
    assert unmarked == []
