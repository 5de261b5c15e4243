"""The API's OpenAPI document: every function's Powertools resolver, merged, with what API Gateway and our
error handlers add (the JWT requirement per route, the error envelope). `make openapi` commits it."""

from __future__ import annotations

import json
from typing import Any

from eduautismo.settings import get_settings
from eduautismo_local.template_routes import http_routes, load_module

ERROR_SCHEMA = "ErrorEnvelope"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
ERROR_ENVELOPE = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array"},
            },
        }
    },
}
# Powertools documents its own validation bodies; our handlers answer every error with the envelope instead.
POWERTOOLS_VALIDATION_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _document_errors(operation: dict[str, Any], authorized: bool) -> None:
    responses = operation.setdefault("responses", {})
    if "422" in responses:
        responses["422"] = _error_response("Invalid input")
    if authorized:
        operation["security"] = [{"bearer": []}]
        # 401/403/404/409/415/429/503 all carry the envelope; the resolver does not list them one by one.
        responses.setdefault("4XX", _error_response("Client error"))
        responses.setdefault("5XX", _error_response("Dependency unavailable"))
    else:
        operation["security"] = []


def openapi_document() -> dict[str, Any]:
    """The OpenAPI documents of every function's resolver, merged into one."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "EduAutismo Planos API", "version": get_settings().app_version},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
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
            _document_errors(operation, route.authorized)
    merged["components"]["schemas"][ERROR_SCHEMA] = ERROR_ENVELOPE
    _drop_unreferenced(merged, POWERTOOLS_VALIDATION_SCHEMAS)
    return merged


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
