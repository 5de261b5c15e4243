"""The Lambda entry points of the digest pipeline, with their AWS clients built per invocation (the
functions under functions/ are one line each)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.db.engine import get_engine, session_scope
from eduautismo.digests import queue, service, tokens
from eduautismo.digests.schemas import DigestRequest
from eduautismo.digests.senders import SesSender
from eduautismo.jobs.daily_job import event_time
from eduautismo.observability import logger, metrics, trace_aws_sdk
from eduautismo.settings import get_settings


def _client(service_name: str) -> Any:
    import boto3

    trace_aws_sdk()
    return boto3.client(service_name, region_name=get_settings().aws_region)


def dispatch(event: dict[str, Any]) -> dict[str, Any]:
    """The hourly tick: the users due at the event's time, sent to the digest queue."""
    started = time.perf_counter()
    settings = get_settings()
    if not settings.digest_queue_url:
        raise RuntimeError("DIGEST_QUEUE_URL is not set")
    requests = service.due_requests(get_engine(), event_time(event))
    sent = queue.publish(_client("sqs"), settings.digest_queue_url, requests)
    summary = {
        "selected": len(requests),
        "queued": sent,
        "duration_ms": round((time.perf_counter() - started) * 1000),
    }
    logger.info("digest dispatch finished", extra={"summary": summary})
    metrics.add_metric(name="DigestsQueued", unit=MetricUnit.Count, value=sent)
    return summary


def deliver_batch(
    event: dict[str, Any], context: LambdaContext, mailer: service.Mailer | None = None
) -> dict[str, Any]:
    """One SQS batch: each message its own delivery; the failed ones are reported back (partial batch
    response) and retried by SQS without the others."""
    settings = get_settings()
    chosen = mailer or service.Mailer(
        SesSender(_client("sesv2"), settings.email_from, settings.email_configuration_set),
        tokens.unsubscribe_secret(settings),
        settings,
    )
    # A batch whose every record failed is reported item by item too: SQS retries exactly those.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> str:
        request = DigestRequest.model_validate_json(record.body)
        outcome = service.deliver(request, sessions=session_scope, mailer=chosen)
        metrics.add_metric(name=f"Digest{outcome.value.title()}", unit=MetricUnit.Count, value=1)
        return outcome.value

    answer = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return {"batchItemFailures": list(answer.get("batchItemFailures", []))}


def suppress(event: dict[str, Any]) -> dict[str, Any]:
    """SES bounce and complaint events (through SNS): the addresses get no more digests."""
    messages = [json.loads(record["Sns"]["Message"]) for record in event.get("Records", [])]
    suppressed = service.suppress_addresses(messages, sessions=session_scope, now=datetime.now(UTC))
    logger.info("email events processed", extra={"events": len(messages), "suppressed": suppressed})
    return {"suppressed": suppressed}
