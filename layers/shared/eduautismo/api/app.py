"""Builds the Powertools resolver of one function: routers, error envelope, authentication, observability."""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import re
import uuid
from array import array
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.api import idempotency, ratelimit
from eduautismo.api.contract import BODILESS_METHODS, for_methods
from eduautismo.api.errors import (
    RETRY_AFTER_SECONDS,
    register_database_error_handler,
    register_error_handlers,
)
from eduautismo.api.errors import envelope_result as _envelope_result
from eduautismo.cache.manager import CacheManager, get_cache_manager
from eduautismo.errors import AppError
from eduautismo.identity.principal import (
    PRINCIPAL_KEY,
    Principal,
    claims_from_event,
    issued_at,
    principal_from_claims,
    subject_of,
)
from eduautismo.observability import capture_lambda_handler, logger, metrics
from eduautismo.settings import Settings, get_settings
from eduautismo.snapstart import register_hooks

API_PREFIX = "/api/v1"

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def authenticated_principal(event: dict[str, Any]) -> Principal:
    """The authorizer's claims as a provisioned Principal; Unauthorized (a disabled user) or Forbidden when
    the caller is refused."""
    # Imported here: a function without authentication (health) loads neither SQLAlchemy nor the models.
    from eduautismo.db.engine import session_scope
    from eduautismo.identity.provisioning import current_principal, provision

    claims = claims_from_event(event)
    with session_scope() as session:
        principal = current_principal(session, principal_from_claims(claims), issued_at(claims))
        provision(session, principal)
    return principal


def authenticate(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Turn the authorizer's claims into a provisioned Principal kept in the request context."""
    principal = authenticated_principal(app.current_event.raw_event)
    logger.append_keys(user_id=str(principal.user_id), organization_id=str(principal.organization_id))
    app.append_context(**{PRINCIPAL_KEY: principal})
    return next_middleware(app)


_ROUTE_SIGNATURE = inspect.signature(APIGatewayHttpResolver.route)
# The refusal of an event's caller, or None when the caller may be answered.
Admit = Callable[[dict[str, Any]], dict[str, Any] | None]


def _anyone(event: dict[str, Any]) -> None:
    return None


class ApiResolver(APIGatewayHttpResolver):
    """Powertools' resolver whose GET and HEAD operations declare no body error (413, 415): the Lambda
    entry drops their body unread, whatever ``responses`` (``api.contract.responses``) adds to every
    operation. Every route passes here, a router's included ones too. ``admit`` checks the caller of an
    answer the entry gives without the resolver (``refuse_unauthenticated``, or anyone)."""

    def __init__(self, admit: Admit, **options: Any) -> None:
        super().__init__(**options)
        # How the Lambda entry checks the caller of an answer it gives without the resolver.
        self.admit = admit

    def route(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        bound = _ROUTE_SIGNATURE.bind(self, *args, **kwargs)
        arguments = bound.arguments
        arguments["responses"] = for_methods(arguments.get("responses"), arguments["method"])
        return super().route(*bound.args[1:], **bound.kwargs)


def refuse_unauthenticated(event: dict[str, Any]) -> dict[str, Any] | None:
    """For an answer given without the resolver (an idempotent replay, or the 409 and 422 about its key):
    the refusal authentication gives the caller (401 a disabled user, 403), 503 when the database cannot
    say now, else None."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        authenticated_principal(event)
    except AppError as refused:
        return _envelope_result(refused.status_code, refused.code, refused.message, refused.details)
    except SQLAlchemyError as exc:
        logger.warning(
            "caller not checked before an idempotent answer", extra={"error_type": type(exc).__name__}
        )
        answer = _envelope_result(503, "service_unavailable", "database unavailable, try again shortly")
        answer["headers"]["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return answer
    return None


def create_app(
    *routers: APIGatewayHttpRouter, authenticated: bool = True, database: bool = True
) -> ApiResolver:
    """``database=False`` for a function that does not use the SQLAlchemy engine (health)."""
    app = ApiResolver(refuse_unauthenticated if authenticated else _anyone, enable_validation=True)
    register_error_handlers(app)
    if database:
        register_database_error_handler(app)
    if authenticated:
        app.use(middlewares=[authenticate])
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    return app


# The input bounds on a JSON body (README.md, "API contract").
MAX_BODY_BYTES = 1024 * 1024
MAX_BODY_DEPTH = 32

# A JSON string, escapes included, up to its closing quote or, unterminated, to the end of the text: every
# match attempt succeeds, so removing strings is one linear pass whatever the text.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
# Outside strings only brackets change the depth: "[" and "{" count +1, "]" and "}" -1 (as signed bytes).
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether ``text`` nests arrays and objects more than ``limit`` levels, found without parsing it: no
    recursion and linear time at any depth (a parser recurses once per level). Malformed text gets an
    estimate; the parser refuses it afterwards anyway."""
    outside_strings = _JSON_STRING.sub("", text).encode("ascii", "ignore")
    steps = array("b", outside_strings.translate(_BRACKET_STEPS, _NOT_A_BRACKET))
    return any(level > limit for level in accumulate(steps))


def _body_invalid(field: str, message: str, kind: str) -> dict[str, Any]:
    detail = {"field": field, "location": "body", "message": message, "type": kind}
    return _envelope_result(422, "validation_error", "invalid request", [detail])


def _body_too_large() -> dict[str, Any]:
    return _envelope_result(413, "payload_too_large", "the body may hold at most 1 MiB", [])


class _TooLongNumber:
    """Stands, in a parsed body, for a number whose text is too long to convert (Python refuses integers of
    more than 4,300 digits with a ValueError, and no field of the API takes anything near that)."""


TOO_LONG_NUMBER = _TooLongNumber()
# Longer than any number a field of the API accepts (the widest bounds are 19 digits); checked on the text,
# before any conversion.
MAX_NUMBER_CHARS = 40


def _parse_int(text: str) -> int | _TooLongNumber:
    return int(text) if len(text) <= MAX_NUMBER_CHARS else TOO_LONG_NUMBER


def _parse_float(text: str) -> float | _TooLongNumber:
    return float(text) if len(text) <= MAX_NUMBER_CHARS else TOO_LONG_NUMBER


def _unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """Where, in a parsed JSON value, hides a NUL character (PostgreSQL text cannot store it) or a number too
    long to convert, as (field, kind), else None. Recursive: called only on values already known to be at
    most MAX_BODY_DEPTH deep."""
    if isinstance(value, str):
        return (path or "body", "string_nul") if "\x00" in value else None
    if value is TOO_LONG_NUMBER:
        return path or "body", "number_too_long"
    if isinstance(value, dict):
        for key, item in value.items():
            found = (
                ("body", "string_nul")
                if "\x00" in key
                else _unstorable(item, f"{path}.{key}" if path else key)
            )
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


UNSTORABLE_MESSAGES = {
    "string_nul": "text may not contain NUL characters",
    "number_too_long": f"number longer than {MAX_NUMBER_CHARS} characters, out of the field's bounds",
}
JSON_MEDIA_TYPE = "application/json"


def _declared_json(event: dict[str, Any], headers: dict[str, str]) -> bool:
    """Whether the body is declared JSON: media types compare case-insensitively and may carry parameters
    (``Application/JSON; charset=utf-8``); no Content-Type is taken as JSON. Powertools compares the header
    case-sensitively, so a JSON body's header is handed on in its canonical form."""
    declared = headers.get("content-type", "")
    if not declared.strip():
        return True
    if declared.split(";", 1)[0].strip().lower() != JSON_MEDIA_TYPE:
        return False
    event["headers"] = {
        **{
            name: value
            for name, value in (event.get("headers") or {}).items()
            if name.lower() != "content-type"
        },
        "content-type": JSON_MEDIA_TYPE,
    }
    return True


def _body_text(raw: str, base64_encoded: bool) -> str | dict[str, Any]:
    """The body as text, or the refusal: its size is checked before anything decodes it."""
    if base64_encoded:
        if len(raw) > 4 * -(-MAX_BODY_BYTES // 3):  # base64 of MAX_BODY_BYTES bytes is this long
            return _body_too_large()
        try:
            decoded = base64.b64decode(raw, validate=True)
        except binascii.Error:
            return _body_invalid("body", "body is not UTF-8 JSON", "json_invalid")
        if len(decoded) > MAX_BODY_BYTES:
            return _body_too_large()
        try:
            return decoded.decode()
        except UnicodeDecodeError:
            return _body_invalid("body", "body is not UTF-8 JSON", "json_invalid")
    # A character is at least one byte: only a short enough text is worth encoding to measure.
    if len(raw) > MAX_BODY_BYTES or len(raw.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        return _body_too_large()
    return raw


# RFC 8058 one-click unsubscribe: mail clients POST a form; the route ignores the body.
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def drop_ignored_body(event: dict[str, Any]) -> None:
    """A GET's or HEAD's body has no meaning in HTTP (RFC 9110, 9.3.1): it is dropped before anything could
    read it, so these methods never answer 413, 415 or a body's 422, nor do routes, idempotency or
    Powertools see it."""
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method in BODILESS_METHODS and event.get("body") is not None:
        event["body"] = None
        event["isBase64Encoded"] = False


def refuse_unreadable_body(event: dict[str, Any], accept_forms: bool = False) -> dict[str, Any] | None:
    """The error answer for a body the functions cannot take safely, else None. Runs before anything parses
    the body: over 1 MiB is 413; nested deeper than 32 levels is 422, found by a scan that does
    not recurse (a parser recursing a few thousand levels was a 500, even on health). Found by fuzzing,
    each also a 500: Powertools parses form and multipart bodies itself (a multipart header without a
    boundary raises a plain ValueError), base64 bodies must be UTF-8, and a NUL character in a string
    fails in PostgreSQL. Found by attack: media types are compared case-insensitively (anything but
    application/json is 415), and a number too long to convert (a 4,301-digit integer) is 422 naming its
    field, decided on its text length."""
    raw = event.get("body")
    if not raw:
        return None
    text = _body_text(str(raw), bool(event.get("isBase64Encoded")))
    if isinstance(text, dict):
        return text
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip().lower()
    if accept_forms and content_type.startswith(FORM_MEDIA_TYPES):
        return None
    if not _declared_json(event, headers):
        return _envelope_result(415, "unsupported_media_type", "send the body as application/json", [])
    if nested_deeper_than(text, MAX_BODY_DEPTH):
        return _body_invalid("body", f"JSON nested deeper than {MAX_BODY_DEPTH} levels", "json_too_deep")
    try:
        document = json.loads(text, parse_int=_parse_int, parse_float=_parse_float)
    except ValueError:
        return None  # Powertools answers malformed JSON with its own validation error
    found = _unstorable(document)
    if found is not None:
        field, kind = found
        return _body_invalid(field, UNSTORABLE_MESSAGES[kind], kind)
    return None


def limit_rate(
    event: dict[str, Any], subject: uuid.UUID | None, settings: Settings, cache: CacheManager
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The 429 answer when the caller is over its budget (else None), and the rate-limit header fields
    every answer carries. Runs first: a caller over its budget costs one Redis round trip, no database."""
    if not settings.rate_limit_enabled:
        return None, {}
    limits = ratelimit.limits_of(settings)
    decision = ratelimit.check(event, subject, limits, cache)
    if decision is None:
        return None, {"RateLimit-Policy": limits.policy_header}
    headers = {"RateLimit-Policy": limits.policy_header, "RateLimit": ratelimit.limit_header(decision)}
    if decision.allowed:
        return None, headers
    headers["Retry-After"] = str(decision.retry_after_seconds)
    message = f"too many {decision.budget}; retry in {decision.retry_after_seconds} s"
    return _envelope_result(429, "rate_limited", message, []), headers


# HTTP forbids a body in these answers; a client on a kept-alive connection reads none after them.
BODILESS_STATUSES = frozenset({204, 304})


def without_forbidden_body(answer: dict[str, Any]) -> dict[str, Any]:
    """A 204 or 304 stripped of its body and content type: Powertools serialises a None body as ``null``
    and labels it JSON, and a client would take those bytes for the start of the next answer."""
    if answer.get("statusCode") in BODILESS_STATUSES:
        answer.pop("body", None)
        answer["isBase64Encoded"] = False
        headers = answer.get("headers") or {}
        for name in [name for name in headers if name.lower() in ("content-type", "content-length")]:
            del headers[name]
    return answer


def lambda_entry(app: ApiResolver, accept_forms: bool = False) -> LambdaHandler:
    """The Lambda handler of an API function: correlation id, tracing (no response capture), EMF metrics.
    ``accept_forms``: form bodies pass the body guard (the unsubscribe function, whose routes ignore them)."""

    # log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: events carry claims and children's names.
    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True, log_event=False
    )
    @capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        settings, cache = get_settings(), get_cache_manager()
        drop_ignored_body(event)
        subject = subject_of(event)
        limited, rate_headers = limit_rate(event, subject, settings, cache)
        answer = (
            limited
            or refuse_unreadable_body(event, accept_forms)
            or idempotency.answer_once(
                event, subject, context, app.resolve, lambda: app.admit(event), settings, cache
            )
        )
        answer.setdefault("headers", {}).update(rate_headers)
        # Every answer of this API concerns children (their plans, names, links to their files), errors
        # and 304s included: no browser or shared cache may keep one.
        answer.setdefault("headers", {})["Cache-Control"] = "no-store"
        return without_forbidden_body(answer)

    register_hooks(app)
    return handler
