"""Lambda: the daily job, invoked by the EventBridge Scheduler at 06:00 São Paulo time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.jobs.handlers import run_scheduled
from eduautismo.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True, log_event=False)  # never the event, whatever the env says
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_scheduled(event)
