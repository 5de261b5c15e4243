"""Lambda: sends the email digests of one SQS batch (partial batch responses)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.digests.handlers import deliver_batch
from eduautismo.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True, log_event=False)  # never the event: it names users
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return deliver_batch(event, context)
