"""The committed OpenAPI document describes the plans and users routes as they answer: true success codes,
a concrete schema for every success body, typed query parameters (enums, uuid and date formats, bounds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "openapi.json").read_text(encoding="utf-8"))
PREFIX = "/api/v1"


def _operation(method: str, path: str) -> dict[str, Any]:
    return DOCUMENT["paths"][PREFIX + path][method]  # type: ignore[no-any-return]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the optional null branch, references followed."""
    options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    (single,) = options
    if "$ref" in single:
        return DOCUMENT["components"]["schemas"][single["$ref"].rsplit("/", 1)[-1]]  # type: ignore[no-any-return]
    return single


@pytest.mark.parametrize(
    ("method", "path", "status", "schema", "errors"),
    [
        ("post", "/intervention-plans", "201", "PlanOut", {"403", "422"}),
        ("get", "/intervention-plans/pending-review", "200", "Page_PlanOut_", {"403", "422"}),
        ("get", "/intervention-plans/{plan_id}", "200", "PlanOut", {"404", "422"}),
        ("patch", "/intervention-plans/{plan_id}", "200", "PlanOut", {"404", "422"}),
        ("post", "/intervention-plans/{plan_id}/reviews", "201", "ReviewOut", {"404", "422"}),
        ("get", "/users", "200", "Page_UserOut_", {"403", "422"}),
    ],
)
def test_each_route_declares_its_success_code_schema_and_errors(
    method: str, path: str, status: str, schema: str, errors: set[str]
) -> None:
    # Given the committed document / When one operation is read
    responses = _operation(method, path)["responses"]
    # Then its one success code carries the model, and its errors the envelope
    assert {code for code in responses if code.startswith("2")} == {status}
    assert responses[status]["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{schema}"
    }
    for code in errors | {"401"}:
        assert responses[code]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")


def test_pending_review_parameters_carry_enums_formats_and_bounds() -> None:
    # Given the pending-review operation
    parameters = {
        parameter["name"]: _resolve(parameter["schema"])
        for parameter in _operation("get", "/intervention-plans/pending-review")["parameters"]
    }
    # Then enums, uuid and date formats and paging bounds are all declared
    assert parameters["priority"]["enum"] == ["low", "medium", "high"]
    assert parameters["review_frequency"]["enum"] == ["daily", "weekly", "biweekly", "monthly", "quarterly"]
    assert parameters["professional_id"]["format"] == parameters["student_id"]["format"] == "uuid"
    assert parameters["date_from"]["format"] == parameters["date_to"]["format"] == "date"
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 200)
    assert parameters["skip"]["minimum"] == 0
    switches = ("overdue_only", "include_student", "use_cache")
    assert {parameters[name]["type"] for name in switches} == {"boolean"}


def test_users_role_filter_is_an_enum() -> None:
    # Given the users operation / Then role is one of the two roles and the page is bounded
    parameters = {
        parameter["name"]: _resolve(parameter["schema"])
        for parameter in _operation("get", "/users")["parameters"]
    }
    assert parameters["role"]["enum"] == ["coordinator", "professional"]
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 200)


def test_a_plan_names_its_optional_student_and_a_review_its_plan() -> None:
    # Given the response models / Then PlanOut's student is {id, full_name} or null, ReviewOut holds the plan
    schemas = DOCUMENT["components"]["schemas"]
    student = schemas["PlanOut"]["properties"]["student"]["anyOf"]
    assert {"$ref": "#/components/schemas/StudentRef"} in student
    assert schemas["StudentRef"]["required"] == ["id", "full_name"]
    assert schemas["ReviewOut"]["properties"]["plan"] == {"$ref": "#/components/schemas/PlanOut"}
