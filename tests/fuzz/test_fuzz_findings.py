"""What fuzzing found, kept as regressions: bodies Powertools cannot read safely and offsets beyond
PostgreSQL's bigint are refused with the envelope, never a 500; a GET's body is not read at all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine

from eduautismo.domain import Role
from tests.support.api import call_api
from tests.support.factories import Factory

MARK_ALL_READ = ("POST", "/api/v1/notifications/mark-all-read")  # takes a body and ignores its content
HEALTH = ("GET", "/api/v1/health")


def _call_with_body(
    body: bytes | str, content_type: str, route: tuple[str, str] = MARK_ALL_READ, claims: Any = None
) -> tuple[int, dict[str, object]]:
    response = call_api(*route, raw_body=body, headers={"content-type": content_type}, claims=claims)
    return response.status, response.json


@pytest.fixture
def claims(factory: Factory) -> dict[str, Any]:
    """A professional's claims, for the POST that carries the bodies."""
    return factory.user(factory.organization(), Role.PROFESSIONAL).claims


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "application/x-www-form-urlencoded", "text/plain", "application/xml"],
)
def test_a_body_that_is_not_json_is_415(claims: dict[str, Any], content_type: str) -> None:
    # Given a body sent as something other than JSON (a multipart header even without its boundary)
    # When it reaches a function
    status, body = _call_with_body('{"a": 1}', content_type, claims=claims)
    # Then the function refuses it with the envelope
    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")  # type: ignore[index]


def test_a_body_that_is_not_utf8_is_422(claims: dict[str, Any]) -> None:
    # Given bytes that are not UTF-8 (the HTTP API passes them base64-encoded)
    # When they reach a function as a JSON body
    status, body = _call_with_body(b"\x9b\xff{", "application/json", claims=claims)
    # Then the function answers a validation error naming the body
    assert status == 422
    assert body["error"]["details"][0]["field"] == "body"  # type: ignore[index]


def test_a_json_body_still_reaches_the_route(claims: dict[str, Any]) -> None:
    # Given a JSON body on a route that ignores it
    # When it is sent with a JSON content type (with a charset)
    status, _ = _call_with_body('{"a": 1}', "application/json; charset=utf-8", claims=claims)
    # Then the route answers as usual
    assert status == 200


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"a": 1}', "multipart/form-data"),
        ('{"a": 1}', "text/plain"),
        (b"\x9b\xff{", "application/json"),
        ('{"a\\u0000": 1}', "application/json"),
        ("[" * 3_000 + "]" * 3_000, "application/json"),
        ('"' + "x" * (1024 * 1024) + '"', "application/json"),
    ],
    ids=["multipart without boundary", "text", "not UTF-8", "NUL", "3,000 levels deep", "over 1 MiB"],
)
def test_a_body_sent_with_a_get_is_ignored(db: Engine, body: bytes | str, content_type: str) -> None:
    # Given a body the guard would refuse on a POST (HTTP gives a GET's body no meaning)
    # When it is sent with GET /health
    status, answer = _call_with_body(body, content_type, HEALTH)
    # Then the body is not read at all: the health report, as without a body
    assert status == 200
    assert answer["status"] == "ok"


@pytest.mark.parametrize(
    "path", ["/api/v1/intervention-plans/pending-review", "/api/v1/students", "/api/v1/notifications"]
)
def test_an_offset_beyond_any_list_is_422_not_a_database_error(factory: Factory, path: str) -> None:
    # Given a coordinator
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    # When a list is asked with an offset larger than PostgreSQL's bigint
    response = call_api("GET", path, claims=coordinator.claims, query={"skip": str(10**20)})
    # Then the API refuses it as bad input, naming the field
    assert response.status == 422
    assert response.json["error"]["details"][0]["field"] == "skip"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": "Ana\x00"}, "full_name"),
        ({"notes": ["ok", "a\x00b"]}, "notes.1"),
        ({"a\x00": 1}, "body"),
    ],
)
def test_a_nul_character_in_body_text_is_422_naming_the_field(
    claims: dict[str, Any], body: object, field: str
) -> None:
    # Given JSON text with a NUL character (PostgreSQL text cannot store it)
    # When it reaches a function
    status, answer = _call_with_body(json.dumps(body), "application/json", claims=claims)
    # Then the function refuses it as bad input, naming where it was
    assert status == 422
    assert answer["error"]["details"][0]["field"] == field  # type: ignore[index]
