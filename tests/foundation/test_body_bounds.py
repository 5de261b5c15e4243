"""The bounds on a JSON body, on every function that takes one, before anything parses it: over 1 MiB is
413, nested deeper than 32 levels is 422 naming the body, base64-encoded bodies alike. A GET's body is
not read at all (HTTP gives it no meaning), so it meets no bound."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from eduautismo.api.app import MAX_BODY_BYTES, MAX_BODY_DEPTH
from eduautismo.db.models import InterventionPlan
from eduautismo.domain import Role
from eduautismo_local.template_routes import http_routes
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Factory

# Authenticated, takes a body and ignores its content: any body within the bounds is answered 200.
MARK_ALL_READ = ("POST", "/api/v1/notifications/mark-all-read")
UNSUBSCRIBE = ("POST", "/api/v1/email/unsubscribe")  # without login
CREATE_PLAN = ("POST", "/api/v1/intervention-plans")


def _send(
    route: tuple[str, str], body: str | None, *, base64_encoded: bool = False, claims: Any = None
) -> ApiResponse:
    """The event API Gateway would send to the function template.yaml routes ``route`` to."""
    return call_api(*route, raw_body=body, base64_encoded=base64_encoded, claims=claims)


def _sized(size: int, filler: str = "x") -> str:
    """A JSON object of exactly ``size`` UTF-8 bytes."""
    frame = '{"padding": ""}'
    count, remainder = divmod(size - len(frame), len(filler.encode()))
    text = frame[:-2] + filler * count + "x" * remainder + frame[-2:]
    assert len(text.encode()) == size
    return text


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.fixture
def claims(factory: Factory) -> dict[str, Any]:
    """A professional's claims, for the route that carries the bodies."""
    return factory.user(factory.organization(), Role.PROFESSIONAL).claims


def _assert_too_deep(response: ApiResponse) -> None:
    assert response.status == 422, response.body[:200]
    detail = response.json["error"]["details"][0]
    assert (detail["field"], detail["type"]) == ("body", "json_too_deep")


@pytest.mark.parametrize("base64_encoded", [False, True])
def test_a_body_over_one_mebibyte_is_413_and_one_of_exactly_that_size_is_read(
    claims: dict[str, Any], base64_encoded: bool
) -> None:
    # Given JSON bodies of exactly 1 MiB and of one byte more
    # When each reaches a function (as text, or base64-encoded as the HTTP API sends binary)
    exact = _send(MARK_ALL_READ, _sized(MAX_BODY_BYTES), base64_encoded=base64_encoded, claims=claims)
    over = _send(MARK_ALL_READ, _sized(MAX_BODY_BYTES + 1), base64_encoded=base64_encoded, claims=claims)
    # Then the larger one is refused with the envelope, the other answered as usual
    assert exact.status == 200
    assert (over.status, over.json["error"]["code"]) == (413, "payload_too_large")


def test_the_size_bound_counts_bytes_not_characters(claims: dict[str, Any]) -> None:
    # Given a body under 1 MiB in characters but over it in UTF-8 bytes (two per "é")
    body = _sized(MAX_BODY_BYTES + 2, filler="é")
    assert len(body) < MAX_BODY_BYTES
    # When it reaches a function, Then it is 413
    assert _send(MARK_ALL_READ, body, claims=claims).status == 413


@pytest.mark.parametrize("base64_encoded", [False, True])
def test_nesting_deeper_than_32_levels_is_422_naming_the_body(
    claims: dict[str, Any], base64_encoded: bool
) -> None:
    # Given bodies nested exactly 32 and 33 levels deep
    # When each reaches a function
    at_limit = _send(MARK_ALL_READ, _nested(MAX_BODY_DEPTH), base64_encoded=base64_encoded, claims=claims)
    beyond = _send(MARK_ALL_READ, _nested(MAX_BODY_DEPTH + 1), base64_encoded=base64_encoded, claims=claims)
    # Then only the deeper one is refused, as a validation error of the body
    assert at_limit.status == 200
    _assert_too_deep(beyond)


def test_brackets_inside_strings_do_not_count_as_nesting(claims: dict[str, Any]) -> None:
    # Given a shallow body whose strings hold many brackets and escaped quotes
    body = json.dumps({"notes": "[{" * 100 + '\\"[' * 100, "list": ["]]", "{{"]})
    # When it reaches a function, Then it is read as usual
    assert _send(MARK_ALL_READ, body, claims=claims).status == 200


@pytest.mark.parametrize("base64_encoded", [False, True])
def test_a_body_three_thousand_levels_deep_is_422_on_a_route_without_login(
    db: Engine, base64_encoded: bool
) -> None:
    # Given a body nested 3,000 levels (a recursive parser fails past about 1,000)
    # When it reaches the unauthenticated unsubscribe function, Then it is 422, never a 500
    _assert_too_deep(_send(UNSUBSCRIBE, "[" * 3_000 + "]" * 3_000, base64_encoded=base64_encoded))


def test_a_body_three_thousand_levels_deep_is_422_on_an_authenticated_route_and_writes_nothing(
    factory: Factory, db: Engine
) -> None:
    # Given a professional creating a plan with a body nested 3,000 levels inside a field
    professional = factory.user(factory.organization(), Role.PROFESSIONAL)
    body = '{"title": "Plano", "description": ' + _nested(3_000) + "}"
    # When it reaches the plans function
    response = _send(CREATE_PLAN, body, claims=professional.claims)
    # Then it is 422 naming the body, and no plan exists
    _assert_too_deep(response)
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(InterventionPlan)) == 0


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def _one_route_per_function(*, body: bool) -> list[tuple[str, str]]:
    """Per function, one route that takes a body (``body``) or one GET."""
    routes: dict[str, tuple[str, str]] = {}
    for route in http_routes():
        if (route.method != "GET") is body:
            routes.setdefault(route.function, (route.method, _concrete(route.path)))
    return list(routes.values())


@pytest.mark.parametrize("route", _one_route_per_function(body=True), ids=lambda route: " ".join(route))
def test_every_api_function_refuses_a_deep_body_before_parsing_it(
    factory: Factory, route: tuple[str, str]
) -> None:
    # Given a coordinator's request whose body is nested 3,000 levels
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    # When it reaches any function of the API that takes a body, Then it is 422 naming the body
    _assert_too_deep(_send(route, "[" * 3_000 + "]" * 3_000, claims=coordinator.claims))


@pytest.mark.parametrize("route", _one_route_per_function(body=False), ids=lambda route: " ".join(route))
def test_every_api_function_ignores_the_body_of_a_get(factory: Factory, route: tuple[str, str]) -> None:
    # Given a coordinator's GET carrying a body no bound would let through (deep and over 1 MiB)
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    body = "[" * (MAX_BODY_BYTES + 1)
    # When it reaches any function of the API
    with_body = _send(route, body, claims=coordinator.claims)
    # Then the body is not read: the answer is the one the GET has without it, never 413 or 415
    without = _send(route, None, claims=coordinator.claims)
    assert (with_body.status, with_body.json) == (without.status, without.json)
    assert with_body.status not in (413, 415)


def test_a_mebibyte_of_opening_brackets_is_refused_quickly(claims: dict[str, Any]) -> None:
    # Given the deepest body the size bound lets through: 1 MiB of "["
    # When it reaches a function, Then it is 422 (the scan stops at level 33)
    _assert_too_deep(_send(MARK_ALL_READ, "[" * MAX_BODY_BYTES, claims=claims))
