"""Idempotent writes (README "Limits and retries"): a request carrying ``Idempotency-Key`` is answered once;
a retry within ``IDEMPOTENCY_TTL_SECONDS`` gets the first answer again instead of doing the work again.

Built on the Powertools idempotency utility with its Redis persistence layer. The record's key hashes the
caller's subject, the method and path, and the header's value (two users' keys never meet); the record
keeps a hash of the body and query string, so the same key with another request is refused.

Only answers below 400 are kept: an error changed nothing, so a retry with the same key runs again.
Runs in the Lambda entry, before the resolver: the subject comes from the authorizer's claims (API
Gateway's JWT authorizer has checked the token), so a replay needs no database.
"""

from __future__ import annotations

import json
import re
import uuid
import warnings
from typing import Any, cast

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.persistence.redis import (
    CacheClientProtocol,
    CachePersistenceLayer,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.api.errors import envelope_result
from eduautismo.cache.manager import CacheManager, count_metric
from eduautismo.identity.principal import claims_from_event
from eduautismo.observability import logger
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


class _NotKept(Exception):
    """Raised with an error answer so that Powertools deletes the in-progress record instead of keeping it."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer["statusCode"])
        self.answer = answer


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


def _subject(event: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str((claims_from_event(event) or {}).get("sub")))
    except ValueError:
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


# CachePersistenceLayer, the name Powertools 4 keeps, is in 3.x an alias of the class it marks deprecated:
# subclassing it warns, about a name this module does not use.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)

    class _CachePersistence(CachePersistenceLayer):
        """Powertools' Redis layer, keeping the payload hash in the completed record. Powertools 3.37 writes
        the completed record without it, so every identical retry failed payload validation (422); the
        TypeScript edition had the same bug (powertools-lambda-typescript#5705)."""

        def _update_record(self, data_record: DataRecord) -> None:
            item = {
                self.data_attr: data_record.response_data,
                self.status_attr: data_record.status,
                self.expiry_attr: data_record.expiry_timestamp,
                self.validation_key_attr: data_record.payload_hash,
            }
            ttl = self._get_expiry_second(data_record.expiry_timestamp)
            self.client.set(name=data_record.idempotency_key, value=self._json_serializer(item), ex=ttl)


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    replay = dict(response)
    replay["headers"] = {**(replay.get("headers") or {}), REPLAYED_HEADER: "true"}
    return replay


def answer_once(
    event: dict[str, Any],
    context: LambdaContext,
    resolve: Any,
    settings: Settings,
    cache: CacheManager,
) -> Answer:
    """``resolve(event, context)``'s answer, at most once per caller, route and Idempotency-Key; the
    request unchanged when it carries no key, has no usable subject, or is no write."""
    key = key_of(event)
    subject = _subject(event)
    if key is None or subject is None or not _applies_to(event):
        return dict(resolve(event, context))
    if KEY_PATTERN.fullmatch(key) is None:
        return invalid_key()
    if not cache.available or cache.client is None:
        # Without the store a retry could do the work twice: refuse rather than guess.
        count_metric(IDEMPOTENCY_UNAVAILABLE)
        return envelope_result(503, "service_unavailable", "idempotency store unavailable, try again shortly")
    http = event["requestContext"]["http"]
    request = {
        "user": str(subject),
        "route": f"{http['method']} {http['path']}",
        "key": key,
        "payload": {"body": _body(event), "query": event.get("rawQueryString", "")},
    }
    config = IdempotencyConfig(
        event_key_jmespath="[user, route, key]",
        payload_validation_jmespath="payload",
        expires_after_seconds=settings.idempotency_ttl_seconds,
        hash_function="sha256",
        lambda_context=context,
        response_hook=_replayed,
    )
    # redis.Redis is the client the protocol describes; its typed set() differs only in extra keywords.
    store = _CachePersistence(client=cast(CacheClientProtocol, cache.client))
    ran: list[Answer] = []

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=store,
        config=config,
        key_prefix=cache.key("idempotency"),
    )
    def first_answer(request: dict[str, Any]) -> Answer:
        answer = dict(resolve(event, context))
        ran.append(answer)
        if int(answer["statusCode"]) >= 400:
            raise _NotKept(answer)
        return answer

    try:
        return dict(first_answer(request=request))
    except _NotKept as not_kept:
        return not_kept.answer
    except IdempotencyValidationError:
        return envelope_result(422, "idempotency_key_reused", f"this {HEADER} was sent with another request")
    except IdempotencyAlreadyInProgressError:
        answer = envelope_result(409, "idempotency_in_progress", f"the first request with this {HEADER} runs")
        answer["headers"]["Retry-After"] = "1"
        return answer
    except IdempotencyPersistenceLayerError as exc:
        cache.breaker.record_failure()
        count_metric(IDEMPOTENCY_UNAVAILABLE)
        logger.warning("idempotency store unavailable", extra={"error_type": type(exc.__cause__).__name__})
        if ran:  # the work is done and only keeping its answer failed: the caller gets it
            return ran[0]
        return envelope_result(503, "service_unavailable", "idempotency store unavailable, try again shortly")
