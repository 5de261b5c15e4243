"""The API's OpenAPI document: every function's Powertools resolver, merged, with what API Gateway and our
error handlers add (the JWT requirement per route, the envelope of validation errors). Each route declares
its own statuses and bodies (eduautismo.api.contract.responses). `make openapi` commits it."""

from __future__ import annotations

import json
from typing import Any

from eduautismo.api.contract import ERROR_DESCRIPTIONS, ErrorEnvelope
from eduautismo.settings import get_settings
from eduautismo_local.template_routes import http_routes, load_module

# Powertools documents its own validation bodies; our handlers answer every error with the envelope instead.
POWERTOOLS_VALIDATION_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")
ERROR_REF = {"$ref": f"#/components/schemas/{ErrorEnvelope.__name__}"}


def _document_operation(operation: dict[str, Any], authorized: bool) -> None:
    """What API Gateway and our error handlers add to a resolver's operation: the JWT requirement of the
    route in template.yaml (none for health), and the envelope as the body of every 422 (Powertools
    documents its own validation body, which the API never sends)."""
    responses = operation.setdefault("responses", {})
    if "422" in responses:
        responses["422"] = {
            "description": ERROR_DESCRIPTIONS[422],
            "content": {"application/json": {"schema": ERROR_REF}},
        }
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
            _document_operation(operation, route.authorized)
            _document_parameters(operation, merged["components"]["schemas"])
    merged["components"]["schemas"].update(_error_envelope_schemas())
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
