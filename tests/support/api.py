"""Calls a Lambda handler the way API Gateway would: route looked up in template.yaml, HTTP API v2 event."""

from __future__ import annotations

import base64
import importlib.util
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eduautismo_local.events import LocalLambdaContext, http_api_event
from eduautismo_local.template_routes import http_routes, load_handler, load_module, match_route

# Out-of-bounds values of the page parameters every list shares (eduautismo.api.contract PageSkip and
# PageLimit), each with the field a 422 must name: list tests parametrize over them.
BAD_PAGE_PARAMETERS: list[tuple[dict[str, str], str]] = [
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"limit": "abc"}, "limit"),
    ({"skip": "-1"}, "skip"),
    ({"skip": "1000001"}, "skip"),
]


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def lambda_result_to_response(result: Mapping[str, Any]) -> ApiResponse:
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    return ApiResponse(int(result["statusCode"]), dict(result.get("headers") or {}), body)


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def call_api(
    method: str,
    path: str,
    *,
    claims: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | str | None = None,
    json_body: Any = None,
    raw_body: bytes | str | None = None,
    base64_encoded: bool = False,
    headers: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    handler: Handler | None = None,
) -> ApiResponse:
    """Invoke the function that template.yaml routes ``method path`` to (or ``handler``, a container of
    it made by ``another_container``). ``base64_encoded``: the body arrives base64-encoded, as the HTTP
    API sends a body it takes for binary."""
    matched = match_route(method, path)
    if matched is None:
        raise AssertionError(f"template.yaml has no route for {method} {path}")
    route, path_parameters = matched
    body = raw_body if raw_body is not None else (json.dumps(json_body) if json_body is not None else None)
    event = http_api_event(
        method,
        path,
        route_key=route.route_key,
        path_parameters=path_parameters,
        query=query,
        headers={"content-type": "application/json", **(headers or {})},
        body=body,
        claims=claims,
        source_ip=source_ip,
    )
    if base64_encoded and body is not None:
        event["body"] = base64.b64encode(body if isinstance(body, bytes) else body.encode()).decode("ascii")
        event["isBase64Encoded"] = True
    handler = handler or load_handler(route.code_uri, route.handler)
    return lambda_result_to_response(handler(event, LocalLambdaContext(function_name=route.function)))


def another_container(method: str, path: str) -> Handler:
    """The handler of the function routed ``method path``, from a fresh import of its module: its own
    resolver, as a second Lambda container has (one resolver serves one event at a time)."""
    matched = match_route(method, path)
    if matched is None:
        raise AssertionError(f"template.yaml has no route for {method} {path}")
    route = matched[0]
    module_name, attribute = route.handler.rsplit(".", 1)
    source = load_module(route.code_uri, route.handler).__file__
    spec = importlib.util.spec_from_file_location(f"{module_name}_container_{uuid.uuid4().hex}", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)  # type: ignore[no-any-return]


def function_apps() -> list[Any]:
    """The Powertools resolver of every API function template.yaml routes to (each module loaded once)."""
    apps: dict[int, Any] = {}
    for route in http_routes():
        app = getattr(load_module(route.code_uri, route.handler), "app", None)
        if app is not None:
            apps[id(app)] = app
    return list(apps.values())


@contextmanager
def override_dependency(provider: Callable[..., Any], value: Any) -> Iterator[None]:
    """Every API function receives ``value`` where its routes ``Depends(provider)``, inside the block.
    Powertools still resolves the provider's own dependencies and passes them: the override ignores them."""
    apps = function_apps()
    for app in apps:
        app.dependency_overrides[provider] = lambda **_resolved: value
    try:
        yield
    finally:
        for app in apps:
            app.dependency_overrides.pop(provider, None)
