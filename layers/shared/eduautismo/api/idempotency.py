"""Idempotent writes (README "Limits and retries"): a request carrying ``Idempotency-Key`` is answered once;
a retry within ``IDEMPOTENCY_TTL_SECONDS`` gets the first answer again instead of doing the work again.

The record's key hashes the caller's subject, the method and path, and the header's value (two users'
keys never meet); the record keeps a hash of the body and query string, so the same key with another
request is refused. Only answers below 400 are kept: an error changed nothing, so a retry with the same
key runs again. Runs in the Lambda entry, before the resolver: the subject comes from the authorizer's
claims (API Gateway's JWT authorizer has checked the token). An answer the store gives instead of the
resolver (a replay, 409, 422) first checks the caller as authentication does (one query: a user disabled
since the first request is refused).

This module decides whether a request takes part; ``idempotency_store`` runs it through the Powertools
idempotency utility, imported only then (the utility's package imports boto3 for its DynamoDB layer).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.api.errors import envelope_result
from eduautismo.cache.cached import count_metric
from eduautismo.cache.manager import CacheManager
from eduautismo.settings import Settings

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_UNAVAILABLE = "IdempotencyUnavailable"
# 1-255 visible ASCII characters (RFC 5234 VCHAR): no space, no control character.
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
# GET routes that write (an S3 object and an audit row): a retry gets the first link, not a second file.
WRITING_READS = re.compile(
    r"/api/v1/(export/pending-review/(csv|excel)|export/review-compliance/excel|students/[^/]+/data-export)"
)

Answer = dict[str, Any]


def unavailable() -> Answer:
    """Without the store a retry could do the work twice: refused rather than guessed."""
    count_metric(IDEMPOTENCY_UNAVAILABLE)
    return envelope_result(503, "service_unavailable", "idempotency store unavailable, try again shortly")


def accepts_key(method: str, path: str) -> bool:
    """Whether a route takes Idempotency-Key: every POST, and the GETs that write (``path`` a request's
    path or the document's template)."""
    if method.upper() == "GET":
        return WRITING_READS.fullmatch(path) is not None
    return method.upper() == "POST"


def _applies_to(event: dict[str, Any]) -> bool:
    http = event.get("requestContext", {}).get("http", {})
    return accepts_key(str(http.get("method", "")), str(http.get("path", "")))


def key_of(event: dict[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if str(name).lower() == HEADER.lower():
            return str(value)
    return None


def _body(event: dict[str, Any]) -> Any:
    raw = event.get("body") or ""
    try:
        return json.loads(raw) if raw and not event.get("isBase64Encoded") else raw
    except ValueError:
        return raw


def invalid_key() -> Answer:
    detail = {
        "field": HEADER,
        "location": "header",
        "message": "1 to 255 visible ASCII characters",
        "type": "string_pattern_mismatch",
    }
    return envelope_result(422, "validation_error", "invalid request", [detail])


def answer_once(
    event: dict[str, Any],
    subject: uuid.UUID | None,
    context: LambdaContext,
    resolve: Callable[[dict[str, Any], LambdaContext], dict[str, Any]],
    admit: Callable[[], Answer | None],
    settings: Settings,
    cache: CacheManager,
) -> Answer:
    """``resolve(event, context)``'s answer, at most once per caller, route and Idempotency-Key; the
    request unchanged when it carries no key, has no usable subject (``subject``: the token's, parsed by the
    Lambda entry), or is no write. ``admit()``: the refusal of the caller, checked before any answer the
    store gives instead of ``resolve`` (a replay, a key in use or reused), as ``resolve`` would check it."""
    key = key_of(event)
    if key is None or subject is None or not _applies_to(event):
        return dict(resolve(event, context))
    if KEY_PATTERN.fullmatch(key) is None:
        return invalid_key()
    if not cache.available or cache.client is None:
        return unavailable()
    http = event["requestContext"]["http"]
    request = {
        "user": str(subject),
        "route": f"{http['method']} {http['path']}",
        "key": key,
        "payload": {"body": _body(event), "query": event.get("rawQueryString", "")},
    }
    from eduautismo.api.idempotency_store import answer_first

    return answer_first(request, lambda: dict(resolve(event, context)), admit, context, settings, cache)
