"""Property-based fuzzing of every documented operation through the local server (schemathesis), every
check on: no 5xx, statuses, content types, headers and bodies as the committed OpenAPI document declares,
valid input accepted, invalid input refused with a 4xx, and no operation answers without a token."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from sqlalchemy import Engine

from eduautismo.api.idempotency import KEY_PATTERN as IDEMPOTENCY_KEY
from eduautismo.domain import Role
from tests.fuzz.test_openapi_document import COMMITTED
from tests.support.factories import Actor, Factory
from tests.support.live_server import token_for

# Bounded for `make test` and derandomized with a fixed seed, so a run is repeatable;
# FUZZ_MAX_EXAMPLES=200 FUZZ_RANDOM=1 explores further and differently on each run.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM") != "1"
SEED = 20261126
# The checks that hold the API to its contract, named here so that none can be switched off unnoticed.
REQUIRED_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "ignored_auth",
)
CONFIG = SchemathesisConfig.from_dict(
    {
        **({"seed": SEED} if DERANDOMIZE else {}),
        # Every check but one: API Gateway's HTTP API answers a method that no route declares with 404 (the
        # local server does the same), where unsupported_method wants 405.
        "checks": {"enabled": True, "unsupported_method": {"enabled": False}},
        # The API ignores unknown query parameters, so an extra one is valid input, not a negative case;
        # unknown body fields are 422, held by the mass-assignment tests of each feature.
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": DERANDOMIZE,
            "allow-extra-parameters": False,
            # Every function refuses a NUL character in body text with a 422 before parsing (PostgreSQL text
            # cannot hold it; tests/fuzz/test_fuzz_findings.py), which a JSON Schema string cannot express.
            "allow-x00": False,
        },
        # The unsubscribe link's token is an HMAC no generator can forge: any token it makes up is a
        # schema-valid request the API must refuse (400, the envelope), tests/digests/test_unsubscribe.py.
        "operations": [
            {
                "include-path": "/api/v1/email/unsubscribe",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2XX", "400"]}},
            }
        ],
    }
)


def _document() -> dict[str, Any]:
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


@pytest.fixture
def coordinator(factory: Factory) -> Actor:
    """A provisioned coordinator whose organization has a student and plans to find."""
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR)
    professional = factory.user(organization, Role.PROFESSIONAL)
    factory.plan(professional, created_by=coordinator, priority="high")
    factory.plan(professional, priority="low", review_frequency="daily")
    return coordinator


# Loaded from the committed file at collection (the lazy fixture loader does not support pytest 9).
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)


@schema.hook
def filter_query(ctx: Any, query: dict[str, Any] | None) -> bool:
    """No generated period with date_from after date_to: JSON Schema cannot relate two parameters, and
    the contract makes that a 422 (tested for every route that takes a period in its feature's tests). A
    missing date_to is today for the compliance report: a date_from after it is 422 too (yesterday in
    UTC, so that no organization's timezone is still before it)."""
    raw_from, raw_to = ((query or {}).get(name) for name in ("date_from", "date_to"))
    try:
        date_from = date.fromisoformat(raw_from)  # type: ignore[arg-type]
        date_to = date.fromisoformat(raw_to) if raw_to is not None else date.today() - timedelta(days=1)
    except (TypeError, ValueError):
        return True
    return date_from <= date_to


def _fresh_idempotency_key(case: Any) -> None:
    """A valid Idempotency-Key made unique per case: a key promises that the request is the same one,
    which JSON Schema cannot express; generated cases reusing "0" with other bodies would rightly be
    422 idempotency_key_reused (tests/security/test_idempotency.py). Invalid keys are left as generated.
    Set on the case itself: every phase (examples, coverage, fuzzing) goes through here."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and IDEMPOTENCY_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


def test_fuzzing_runs_every_check_on_valid_and_invalid_input_repeatably() -> None:
    # The configuration the fuzz test below runs with: nothing switched off, both kinds of input, bounded
    project = schema.config
    for name in REQUIRED_CHECKS:
        assert project.checks.get_by_name(name=name).enabled, name
    assert {mode.value for mode in project.generation.modes} == {"positive", "negative"}
    assert project.generation.max_examples == MAX_EXAMPLES
    assert project.generation.deterministic is DERANDOMIZE


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=DERANDOMIZE,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_within_its_schema_and_never_5xx(
    case: Any, base_url: str, coordinator: Actor
) -> None:
    # Given a coordinator's valid token; When schemathesis calls the operation with generated input;
    # Then every check holds (the configured set: all of them)
    _fresh_idempotency_key(case)
    case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {token_for(coordinator)}"})


def _secured_operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in _document()["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]


def _call(method: str, url: str, authorization: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    body = b"{}" if method in ("POST", "PATCH", "PUT") else None
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _with_parameters_filled(path: str) -> str:
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
    return path


@pytest.mark.parametrize(("method", "path"), _secured_operations())
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz"])
def test_every_secured_operation_answers_401_without_a_valid_token(
    base_url: str, db: Engine, method: str, path: str, authorization: str | None
) -> None:
    # Given an operation the document marks as secured, with any path parameter filled in
    url = f"{base_url}{_with_parameters_filled(path)}"
    # When it is called without a valid token
    status, body = _call(method, url, authorization)
    # Then it answers 401 with the error envelope
    assert (status, body["error"]["code"]) == (401, "unauthorized")
