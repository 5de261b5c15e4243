"""The API's OpenAPI document: every function's Powertools resolver, merged, with what API Gateway and our
error handlers add (the JWT requirement per route, the envelope of validation errors). Each route declares
its own statuses and bodies (eduautismo.api.contract.responses). `make openapi` commits it."""

from __future__ import annotations

import json
import re
from typing import Any

from eduautismo.api.contract import ERROR_DESCRIPTIONS, ErrorEnvelope
from eduautismo.api.idempotency import HEADER as KEY_HEADER
from eduautismo.api.idempotency import REPLAYED_HEADER, accepts_key
from eduautismo.settings import get_settings
from eduautismo_local.template_routes import http_routes, load_module

# Powertools documents its own validation bodies; our handlers answer every error with the envelope instead.
POWERTOOLS_VALIDATION_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")
ERROR_REF = {"$ref": f"#/components/schemas/{ErrorEnvelope.__name__}"}


# What the Lambda entry of every function adds to every answer (eduautismo.api.app.lambda_entry).
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": "The budgets (draft-ietf-httpapi-ratelimit-headers): "
        '\'"reads";q=50;w=10, "writes";q=20;w=10\'',
        "schema": {"type": "string", "maxLength": 200},
    },
    "RateLimit": {
        "description": "What is left of the budget this request counted against, and the seconds until it is "
        "whole again: '\"reads\";r=37;t=3' (absent when the limiter could not count)",
        "schema": {"type": "string", "maxLength": 100},
    },
}
HEADERS = {
    **RATE_LIMIT_HEADERS,
    "Access-Control-Allow-Origin": {
        "description": "Set by API Gateway's CORS configuration (template.yaml) on answers to the front "
        "end's origin, the only one allowed",
        "schema": {"type": "string", "format": "uri", "maxLength": 2048},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 86_400},
    },
    REPLAYED_HEADER: {
        "description": f"Present on the first answer given again to a retry with the same {KEY_HEADER}",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
JWT_DESCRIPTION = (
    "A Cognito ID token (JWS). API Gateway's JWT authorizer verifies it as RFC8725 asks: the signature "
    "with the user pool's published keys only (no 'none', no algorithm taken from the token's header "
    "alone), the issuer, the audience (the app client) and the expiry, before the function runs."
)
IDEMPOTENCY_KEY_PARAMETER = {
    "name": KEY_HEADER,
    "in": "header",
    "required": False,
    "description": "Any unique text (a UUID): a retry with the same key and request within 24 h is answered "
    "with the first answer and does nothing again; the same key with another request is 422 "
    "idempotency_key_reused, while the first still runs 409 idempotency_in_progress",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7E]{1,255}$"},
}


for _declaration in HEADERS.values():
    _declaration["required"] = False  # each is sent on some answers only (RateLimit: while Redis counts)


def _header_refs(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _envelope_response(status: int) -> dict[str, Any]:
    return {"description": ERROR_DESCRIPTIONS[status], "content": {"application/json": {"schema": ERROR_REF}}}


def _document_limits(operation: dict[str, Any], method: str, path: str) -> None:
    """The rate limit every operation has (429 with Retry-After, the RateLimit fields on every answer) and,
    on the routes that take one, the Idempotency-Key header with its 409 and replay marker."""
    responses = operation["responses"]
    responses["429"] = {**_envelope_response(429), "headers": _header_refs("Retry-After")}
    keyed = accepts_key(method, path)
    if keyed:
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
        responses.setdefault("409", _envelope_response(409))
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers.update(_header_refs(*RATE_LIMIT_HEADERS, "Access-Control-Allow-Origin"))
        if keyed and int(status) < 400:
            headers.update(_header_refs(REPLAYED_HEADER))
        if status == "409" and keyed:
            headers.update(_header_refs("Retry-After"))


def _short_operation_id(operation: dict[str, Any], path: str, method: str) -> None:
    """The route function's name in camelCase (createPlan, listPendingReview): SDK generators name their
    methods after operationIds, and Powertools' own (create_plan_api_v1_intervention_plans_post) repeats
    the path and method. Stable while the function keeps its name; an explicit operation_id is kept."""
    generated_suffix = re.sub(r"\W", "_", path) + "_" + method.lower()
    name = operation["operationId"].removesuffix(generated_suffix)
    head, *rest = name.split("_")
    operation["operationId"] = head + "".join(part.capitalize() for part in rest)


def _document_operation(operation: dict[str, Any], authorized: bool) -> None:
    """What API Gateway and our error handlers add to a resolver's operation: the JWT requirement of the
    route in template.yaml (none for health), and the envelope as the body of every 422 (Powertools
    documents its own validation body, which the API never sends)."""
    responses = operation.setdefault("responses", {})
    if "422" in responses:
        responses["422"] = _envelope_response(422)
    operation["security"] = [{"bearer": []}] if authorized else []
    # Powertools merges router and route tags through a set: their order varies between runs.
    operation["tags"] = sorted(operation.get("tags", []))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter is present or absent: null cannot be sent in a query string or a path (a client or a
    fuzzer would send it as an empty value, which the API rightly refuses)."""
    schema = {key: value for key, value in schema.items() if not (key == "default" and value is None)}
    variants = [variant for variant in schema.pop("anyOf", [schema]) if variant != {"type": "null"}]
    if len(variants) == 1:
        return {**schema, **variants[0]} if variants[0] is not schema else schema
    return {**schema, "anyOf": variants}


def _document_parameters(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Each parameter with its real schema. Powertools documents the fields of a query model
    (``Annotated[Model, Query()]``) as bare strings, without enums, formats or bounds; the model's own
    schema, the component whose properties are exactly the operation's query parameters, has them."""
    parameters = operation.get("parameters", [])
    names = {parameter["name"] for parameter in parameters if parameter["in"] == "query"}
    models = [model for model in schemas.values() if names and set(model.get("properties", {})) == names]
    for parameter in parameters:
        schema = parameter.get("schema", {})
        if len(models) == 1 and parameter["in"] == "query":
            schema = models[0]["properties"][parameter["name"]]
        parameter["schema"] = _without_null(schema)


def _error_envelope_schemas() -> dict[str, Any]:
    """ErrorEnvelope and the models it nests, as components."""
    schema = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    nested = schema.pop("$defs", {})
    return {**nested, ErrorEnvelope.__name__: schema}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI documents of every function's resolver, merged into one."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "EduAutismo Planos API", "version": get_settings().app_version},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": JWT_DESCRIPTION,
                }
            },
            "headers": HEADERS,
        },
        "security": [{"bearer": []}],
    }
    routes = http_routes()
    seen_modules = set()
    for route in routes:
        if route.handler in seen_modules:
            continue
        seen_modules.add(route.handler)
        app = getattr(load_module(route.code_uri, route.handler), "app", None)
        if app is None:
            continue
        document = json.loads(app.get_openapi_json_schema(title="EduAutismo Planos API"))
        merged["paths"].update(document.get("paths", {}))
        merged["components"]["schemas"].update(document.get("components", {}).get("schemas", {}))
    for route in routes:
        operation = merged["paths"].get(route.path, {}).get(route.method.lower())
        if operation is not None:
            _document_operation(operation, route.authorized)
            _document_limits(operation, route.method, route.path)
            _short_operation_id(operation, route.path, route.method)
            _document_parameters(operation, merged["components"]["schemas"])
    merged["components"]["schemas"].update(_error_envelope_schemas())
    _drop_unreferenced(merged, POWERTOOLS_VALIDATION_SCHEMAS)
    _bound_by_format(merged)
    _request_defaults_in_words(merged)
    return merged


# The longest text each format can be, as the API reads and writes it: a UUID in its 36-character form,
# a date as YYYY-MM-DD, a timestamp as Python's isoformat with microseconds and offset.
FORMAT_LENGTHS = {"uuid": 36, "date": 10, "date-time": 32}
INT32 = (-(2**31), 2**31 - 1)


def _bound_by_format(node: Any) -> None:
    """What a schema's format already implies, written out for clients and linters: every string of a
    fixed-length format gets its maxLength; every integer its width, int32 when its declared bounds fit,
    else int64 (every integer of the API is a PostgreSQL integer or bigint)."""
    if isinstance(node, list):
        for item in node:
            _bound_by_format(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and node.get("format") in FORMAT_LENGTHS:
        node.setdefault("maxLength", FORMAT_LENGTHS[node["format"]])
    if node.get("type") == "integer" and "format" not in node:
        low, high = node.get("minimum"), node.get("maximum")
        fits = low is not None and high is not None and INT32[0] <= low and high <= INT32[1]
        node["format"] = "int32" if fits else "int64"
    for value in node.values():
        _bound_by_format(value)


def _request_defaults_in_words(document: dict[str, Any]) -> None:
    """A body field the server fills when it is left out (a plan's status, description) is optional to a
    client; TypeScript generators read a ``default`` as "always present" and made it required. In the
    schemas of request bodies the default is said in the description instead."""
    names = {
        body["schema"]["$ref"].rsplit("/", 1)[1]
        for operations in document["paths"].values()
        for operation in operations.values()
        for body in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" in body.get("schema", {})
    }
    for name in sorted(names):
        for field in document["components"]["schemas"][name].get("properties", {}).values():
            if "default" in field:
                default = json.dumps(field.pop("default"), ensure_ascii=False)
                field["description"] = " ".join(
                    filter(None, [field.get("description"), f"Default: {default}."])
                )


def _drop_unreferenced(document: dict[str, Any], names: tuple[str, ...]) -> None:
    schemas = document["components"]["schemas"]
    removed = True
    while removed:
        removed = False
        for name in names:
            others = {key: value for key, value in schemas.items() if key != name}
            text = json.dumps([document["paths"], others])
            if name in schemas and f"#/components/schemas/{name}" not in text:
                del schemas[name]
                removed = True


def render() -> str:
    """The committed form: stable key order, so a diff shows only real API changes."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
