"""The Powertools idempotency utility over this container's Redis, for ``eduautismo.api.idempotency``
(imported on the first request that carries an Idempotency-Key)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
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
from eduautismo.api.idempotency import HEADER, REPLAYED_HEADER, Answer, unavailable
from eduautismo.cache.manager import CacheManager
from eduautismo.observability import logger
from eduautismo.settings import Settings


class _NotKept(Exception):
    """Raised with an error answer so that Powertools deletes the in-progress record instead of keeping it."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer["statusCode"])
        self.answer = answer


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


def answer_first(
    request: dict[str, Any],
    run: Callable[[], Answer],
    admit: Callable[[], Answer | None],
    context: LambdaContext,
    settings: Settings,
    cache: CacheManager,
) -> Answer:
    """The first answer to ``request`` (user, route, key, payload): ``run()`` now, or the one kept. Any
    answer not from ``run()`` goes only to a caller ``admit()`` lets through (else its refusal)."""

    def replayed(response: Any, idempotent_data: DataRecord) -> Any:
        refusal = admit()
        if refusal is not None:
            return refusal
        replay = dict(response)
        replay["headers"] = {**(replay.get("headers") or {}), REPLAYED_HEADER: "true"}
        return replay

    config = IdempotencyConfig(
        event_key_jmespath="[user, route, key]",
        payload_validation_jmespath="payload",
        expires_after_seconds=settings.idempotency_ttl_seconds,
        hash_function="sha256",
        lambda_context=context,
        response_hook=replayed,
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
        answer = run()
        ran.append(answer)
        if int(answer["statusCode"]) >= 400:
            raise _NotKept(answer)
        return answer

    try:
        return dict(first_answer(request=request))
    except _NotKept as not_kept:
        return not_kept.answer
    except IdempotencyValidationError:
        return admit() or envelope_result(
            422, "idempotency_key_reused", f"this {HEADER} was sent with another request"
        )
    except IdempotencyAlreadyInProgressError:
        refusal = admit()
        if refusal is not None:
            return refusal
        answer = envelope_result(409, "idempotency_in_progress", f"the first request with this {HEADER} runs")
        answer["headers"]["Retry-After"] = "1"
        return answer
    except IdempotencyPersistenceLayerError as exc:
        cache.breaker.record_failure()
        logger.warning("idempotency store unavailable", extra={"error_type": type(exc.__cause__).__name__})
        if ran:  # the work is done and only keeping its answer failed: the caller gets it
            return ran[0]
        return unavailable()
