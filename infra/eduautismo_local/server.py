"""HTTP server of local mode: each request goes, as an HTTP API v2 event, to the Lambda handler that
template.yaml names for its route, after the JWT is checked locally (as the JWT authorizer would)."""

from __future__ import annotations

import base64
import json
import threading
from collections import defaultdict
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aws_lambda_powertools.event_handler.openapi.swagger_ui

from eduautismo.api.app import BODILESS_STATUSES
from eduautismo.api.contract import error_envelope
from eduautismo.settings import get_settings
from eduautismo_local.events import LocalLambdaContext, http_api_event
from eduautismo_local.openapi import openapi_document
from eduautismo_local.template_routes import load_handler, match_route
from eduautismo_local.tokens import verify_token

# Swagger UI from the copy Powertools ships (pinned with it): /docs works offline.
SWAGGER_UI_DIR = Path(aws_lambda_powertools.event_handler.openapi.swagger_ui.__file__).parent
SWAGGER_ASSETS = {
    "/docs/swagger-ui.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
    "/docs/swagger-ui-bundle.js": ("swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
}
SWAGGER_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>EduAutismo Planos API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>"""


@lru_cache(maxsize=len(SWAGGER_ASSETS))
def _swagger_asset(name: str) -> bytes:
    return (SWAGGER_UI_DIR / name).read_bytes()


# One Lambda container handles one event at a time: serialise the calls to each function.
_function_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


def _envelope(code: str, message: str) -> bytes:
    return json.dumps(error_envelope(code, message)).encode()


class LambdaProxyHandler(BaseHTTPRequestHandler):
    server_version = "eduautismo-local"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        # Only method, path and status: never the query string (it may carry names) or tokens.
        if len(args) >= 2:
            print(f"{self.command} {urlsplit(self.path).path} -> {args[1]}", flush=True)

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        cookies: list[str] | None = None,
    ) -> None:
        self.send_response(status)
        # A 204 or 304 has no body, hence no content type or length, whatever the function answered.
        bodiless = status in BODILESS_STATUSES
        dropped = {"content-length", "connection", "transfer-encoding"}
        if bodiless:
            dropped.add("content-type")
        for name, value in (headers or {"content-type": "application/json"}).items():
            if name.lower() not in dropped:
                self.send_header(name, value)
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        if not bodiless:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and not bodiless:
            self.wfile.write(body)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command == "GET" and url.path == "/docs":
            self._send(200, SWAGGER_HTML.encode(), {"content-type": "text/html; charset=utf-8"})
            return
        if self.command == "GET" and url.path in SWAGGER_ASSETS:
            name, content_type = SWAGGER_ASSETS[url.path]
            self._send(
                200, _swagger_asset(name), {"content-type": content_type, "cache-control": "max-age=3600"}
            )
            return
        if self.command == "GET" and url.path == "/openapi.json":
            self._send(200, json.dumps(openapi_document()).encode())
            return
        matched = match_route(self.command, url.path)
        if matched is None:
            self._send(404, _envelope("not_found", "route not found"))
            return
        route, path_parameters = matched
        claims = None
        if route.authorized:
            claims = verify_token(get_settings(), self.headers.get("Authorization"))
            if claims is None:
                self._send(401, _envelope("unauthorized", "missing or invalid token"))
                return
        event = http_api_event(
            self.command,
            url.path,
            route_key=route.route_key,
            path_parameters=path_parameters,
            query=url.query,
            headers={name: value for name, value in self.headers.items()},
            body=body,
            claims=claims,
            source_ip=self.client_address[0],
        )
        handler = load_handler(route.code_uri, route.handler)
        with _function_locks[route.function]:
            result = handler(event, LocalLambdaContext(function_name=route.function))
        self._write_lambda_result(result)

    def _write_lambda_result(self, result: dict[str, Any]) -> None:
        raw_body = result.get("body") or ""
        payload = base64.b64decode(raw_body) if result.get("isBase64Encoded") else raw_body.encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        if not any(name.lower() == "content-type" for name in headers):
            headers["content-type"] = "application/json"
        self._send(int(result.get("statusCode", 200)), payload, headers, result.get("cookies"))

    def _safe_dispatch(self) -> None:
        try:
            self._dispatch()
        except Exception as exc:  # the Lambda runtime would answer 502; keep the server alive
            print(f"handler crashed: {type(exc).__name__}", flush=True)
            self._send(HTTPStatus.BAD_GATEWAY, _envelope("bad_gateway", "function failed"))

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _safe_dispatch

    def __getattr__(self, name: str) -> Any:
        # Any other method (HEAD, TRACE, QUERY...) answers like a route missing from the template (404),
        # as the HTTP API does, instead of the stdlib's HTML 501.
        if name.startswith("do_"):
            return self._safe_dispatch
        raise AttributeError(name)


class LocalHTTPServer(ThreadingHTTPServer):
    # The standard library listens with a backlog of 5: a burst of clients connecting while the accept
    # loop waits for the GIL overflowed it, and the kernel dropped the rest (ConnectionResetError in
    # `make load` about 2 s later). The kernel caps this at net.core.somaxconn.
    request_queue_size = 1024
    daemon_threads = True


def make_server(port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    return LocalHTTPServer((host, port), LambdaProxyHandler)
