"""The Lambda entry points of the digest pipeline: each builds the context from its event and its AWS
client per invocation (the functions under functions/ are one line each)."""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.clock import FixedClock
from eduautismo.context import Context, build_context
from eduautismo.digests import queue, service
from eduautismo.digests.schemas import DigestRequest
from eduautismo.digests.senders import Sender, SesSender
from eduautismo.jobs.schemas import event_time
from eduautismo.observability import logger, metrics, trace_aws_sdk


def _client(ctx: Context, service_name: str) -> Any:
    import boto3

    trace_aws_sdk()
    return boto3.client(service_name, region_name=ctx.settings.aws_region)


def dispatch(event: dict[str, Any]) -> dict[str, Any]:
    """The hourly tick: the users due at the event's time, sent to the digest queue."""
    started = time.perf_counter()
    at = event_time(event)
    ctx = build_context(clock=FixedClock(at))
    if not ctx.settings.digest_queue_url:
        raise RuntimeError("DIGEST_QUEUE_URL is not set")
    requests = service.due_requests(ctx, service.Tick(at))
    sent = queue.publish(_client(ctx, "sqs"), ctx.settings.digest_queue_url, requests)
    duration_ms = round((time.perf_counter() - started) * 1000)
    summary = {"selected": len(requests), "queued": sent, "duration_ms": duration_ms}
    logger.info("digest dispatch finished", extra={"summary": summary})
    metrics.add_metric(name="DigestsQueued", unit=MetricUnit.Count, value=sent)
    return summary


def deliver_batch(
    event: dict[str, Any], context: LambdaContext, sender: Sender | None = None
) -> dict[str, Any]:
    """One SQS batch: each message its own delivery; the failed ones are reported back (partial batch
    response) and retried by SQS without the others."""
    ctx = build_context()
    chosen = sender or SesSender(
        _client(ctx, "sesv2"), ctx.settings.email_from, ctx.settings.email_configuration_set
    )
    # A batch whose every record failed is reported item by item too: SQS retries exactly those.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> str:
        outcome = service.deliver(ctx, DigestRequest.model_validate_json(record.body), chosen)
        metrics.add_metric(name=f"Digest{outcome.value.title()}", unit=MetricUnit.Count, value=1)
        return outcome.value

    answer = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return {"batchItemFailures": list(answer.get("batchItemFailures", []))}


def suppress(event: dict[str, Any]) -> dict[str, Any]:
    """SES bounce and complaint events (through SNS): the addresses get no more digests."""
    messages = [json.loads(record["Sns"]["Message"]) for record in event.get("Records", [])]
    suppressed = service.suppress_addresses(build_context(), messages)
    logger.info("email events processed", extra={"events": len(messages), "suppressed": suppressed})
    return {"suppressed": suppressed}
