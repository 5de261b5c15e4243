"""Every operation of openapi.json that takes a JSON body, generated from the document: media types are
compared case-insensitively with parameters allowed, anything but application/json is 415, and a number too
long to convert (a 4,301-digit integer) or out of any field's bounds is 422 naming the field. Never a 5xx."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from eduautismo.domain import Role
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Factory

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "openapi.json").read_text())
HUGE_INTEGER = "9" * 4301
# Media types that are JSON, written as clients may write them.
JSON_SPELLINGS = ["APPLICATION/JSON", "application/json; charset=utf-8", "Application/Json ; charset=UTF-8"]
# Media types that are not application/json, though they start like it.
NOT_JSON = ["application/jsonx", "application/json5", "application/json-patch+json", "text/plain"]


def _schema(reference: dict[str, Any]) -> dict[str, Any]:
    """The body's object schema, its reference (or a nullable reference) resolved."""
    for branch in [reference, *reference.get("anyOf", [])]:
        if "$ref" in branch:
            return dict(DOCUMENT["components"]["schemas"][branch["$ref"].rsplit("/", 1)[1]])
    return reference


def _body_operations() -> list[tuple[str, str, list[str]]]:
    """(method, path with ids filled in, the body's property names) of every operation taking a body."""
    found: list[tuple[str, str, list[str]]] = []
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            schema = _schema(operation["requestBody"]["content"]["application/json"]["schema"])
            concrete = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
            found.append((method.upper(), concrete, sorted(schema.get("properties", {}))))
    return found


BODY_OPERATIONS = _body_operations()
IDS = [
    f"{method.upper()} {path}"
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
    if "requestBody" in operation
]


@dataclass(frozen=True)
class BodyRoute:
    """One body operation, called by a coordinator of a new organization."""

    method: str
    path: str
    properties: list[str]
    claims: dict[str, Any]

    def send(self, body: str, content_type: str = "application/json") -> ApiResponse:
        return call_api(
            self.method, self.path, claims=self.claims, raw_body=body, headers={"content-type": content_type}
        )


@pytest.fixture(params=BODY_OPERATIONS, ids=IDS)
def route(request: pytest.FixtureRequest, factory: Factory, db: Engine) -> BodyRoute:
    method, path, properties = request.param
    return BodyRoute(method, path, properties, factory.user(factory.organization(), Role.COORDINATOR).claims)


def test_the_document_has_the_body_operations_of_every_feature() -> None:
    assert len(BODY_OPERATIONS) >= 7
    assert all(properties for _, _, properties in BODY_OPERATIONS)


def test_json_spelled_any_way_is_read_as_json_and_other_types_are_415(route: BodyRoute) -> None:
    for content_type in JSON_SPELLINGS:
        response = route.send("{}", content_type)
        assert response.status < 500 and response.status != 415, (content_type, response.body)
    for content_type in NOT_JSON:
        response = route.send("{}", content_type)
        assert response.status == 415, (content_type, response.body)
        assert response.json["error"]["code"] == "unsupported_media_type"


def test_a_4301_digit_integer_in_any_field_is_422_naming_it(route: BodyRoute) -> None:
    for field in route.properties:
        response = route.send(f'{{"{field}": {HUGE_INTEGER}}}')
        assert response.status == 422, (field, response.body)
        [detail] = response.json["error"]["details"]
        assert (detail["field"], detail["type"]) == (field, "number_too_long")


def test_integers_beyond_any_bound_are_never_a_5xx(route: BodyRoute) -> None:
    for field in route.properties:
        for number in (str(10**30), str(-(10**30)), "1" + "0" * 39, "1e400"):
            response = route.send(f'{{"{field}": {number}}}')
            assert response.status < 500, (field, number, response.body)
