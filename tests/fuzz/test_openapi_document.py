"""The committed openapi.json is what the functions' resolvers describe today."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from eduautismo_local.openapi import render
from eduautismo_local.template_routes import http_routes

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"


def test_committed_openapi_document_is_up_to_date() -> None:
    # Given the document committed at the project root
    committed = COMMITTED.read_text(encoding="utf-8")
    # When it is generated again from every function in template.yaml
    generated = render()
    # Then nothing changed (a route, a model or a response was added without `make openapi`)
    assert committed == generated, "openapi.json is stale: run `make openapi` and commit it"


def test_document_declares_every_template_route_with_its_security() -> None:
    # Given the committed document
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    # Then every route of template.yaml is there, public routes without a token requirement
    for route in http_routes():
        operation = document["paths"][route.path][route.method.lower()]
        assert bool(operation["security"]) is route.authorized, route.route_key


def test_only_operations_that_take_a_body_declare_the_body_errors() -> None:
    # Given the committed document (a GET's body is dropped unread by the Lambda entry)
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body_errors = {"413", "415"} & set(operation["responses"])
            # Then no GET declares 413 or 415, and every other operation declares both
            expected = set() if method == "get" else {"413", "415"}
            assert body_errors == expected, f"{method.upper()} {path}"


def _operations() -> list[tuple[str, str]]:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return [(method.upper(), path) for path, operations in document["paths"].items() for method in operations]


# Operations other features convert to the typed contract in parallel (issue 11): until they land each
# still documents an untyped 200 and no error statuses. Strict: an entry that passes fails the suite,
# so each is removed as its feature is merged.
AUTHENTICATED_STATUSES = {"401", "403", "422", "503"}
ERROR_REF = "#/components/schemas/ErrorEnvelope"


@pytest.mark.parametrize(("method", "path"), _operations())
def test_operation_declares_a_typed_body_for_every_answer_and_its_error_statuses(
    method: str, path: str
) -> None:
    # Given an operation of the committed document
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    operation = document["paths"][path][method.lower()]
    responses = operation["responses"]
    # Then every JSON body it answers has a concrete schema (never Powertools' untyped "Return")
    assert '"title": "Return"' not in json.dumps(operation, indent=1)
    for status, response in responses.items():
        for media_type, body in response.get("content", {}).items():
            # JSON, except the pt-BR pages of the email unsubscribe link (a person opens it in a browser)
            page = media_type == "text/html" and path == "/api/v1/email/unsubscribe" and status == "200"
            assert media_type == "application/json" or page, (status, media_type)
            schema = body.get("schema", {})
            assert "$ref" in schema or "type" in schema, (status, schema)
        # And every client error is the envelope (health's 503 is its report), under an exact status
        assert status.isdigit(), status
        if 400 <= int(status) < 500:
            assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, status
    # And it has a success, and an authenticated one declares what any authenticated call can answer
    assert any(int(status) < 400 for status in responses)
    if operation["security"]:
        assert set(responses) >= AUTHENTICATED_STATUSES


def test_document_holds_no_validation_schema_the_api_never_sends() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    assert not {"HTTPValidationError", "ValidationError", "ResponseValidationError"} & set(schemas)
    assert schemas["ErrorEnvelope"]["required"] == ["error"]


def test_error_codes_are_an_enum_of_every_code_the_domain_sends() -> None:
    # Given the document's error codes and every domain error the services raise
    from eduautismo.errors import AppError

    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    codes = set(document["components"]["schemas"]["ErrorCode"]["enum"])
    pending = list(AppError.__subclasses__())
    raised = {AppError.code}
    while pending:
        error = pending.pop()
        raised.add(error.code)
        pending.extend(error.__subclasses__())
    # Then a client switching over error.code knows each of them
    assert raised <= codes
    assert {"rate_limited", "idempotency_key_reused", "idempotency_in_progress"} <= codes


def test_operation_ids_are_short_unique_camel_case_names() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    ids = [
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
    ]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", operation_id) for operation_id in ids), ids
    assert {"listPendingReview", "createPlan", "createStudent", "unreadCount", "exportJob"} <= set(ids)


def test_stats_count_every_type_and_priority() -> None:
    from eduautismo.domain import NotificationPriority, NotificationType

    schemas = json.loads(COMMITTED.read_text(encoding="utf-8"))["components"]["schemas"]
    # Every key is declared and required: a client reads by_type.system without a guard
    assert sorted(schemas["CountsByType"]["required"]) == sorted(NotificationType)
    assert sorted(schemas["CountsByPriority"]["required"]) == sorted(NotificationPriority)
