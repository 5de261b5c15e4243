"""HTTP API (payload 2.0) events and a Lambda context, shaped as API Gateway sends them."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode


def stringify_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """The HTTP API passes every claim as a string; arrays become ``"[a b]"``."""
    result = {}
    for name, value in claims.items():
        if isinstance(value, list | tuple):
            result[name] = "[" + " ".join(str(item) for item in value) + "]"
        else:
            result[name] = str(value)
    return result


def http_api_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, Any] | str | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    claims: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    if isinstance(query, str):
        raw_query = query
    else:
        raw_query = urlencode([(k, _query_value(v)) for k, v in (query or {}).items()])
    query_parameters: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query_parameters[key] = f"{query_parameters[key]},{value}" if key in query_parameters else value
    lowered_headers = {name.lower(): value for name, value in (headers or {}).items()}
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method.upper()} {path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": lowered_headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": lowered_headers.get("host", "localhost"),
            "domainPrefix": "localhost",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered_headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key or f"{method.upper()} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query_parameters:
        event["queryStringParameters"] = query_parameters
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": stringify_claims(claims), "scopes": None}}
    if body is not None:
        if isinstance(body, bytes):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = body
    return event


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class LocalLambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str = "local"
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    timeout_seconds: float = 30.0
    started_at: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:sa-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout_seconds - (time.monotonic() - self.started_at)) * 1000)
