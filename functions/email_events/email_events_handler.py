"""Lambda: SES bounce and complaint events (SNS) suppress the address."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.digests.handlers import suppress
from eduautismo.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True, log_event=False)  # never the event: it holds addresses
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return suppress(event)
