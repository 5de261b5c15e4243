"""Lambda (asynchronous invoke by the exports function): produces one large export."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.exports.worker import handle_worker_event
from eduautismo.observability import capture_lambda_handler, logger, metrics


@logger.inject_lambda_context(clear_state=True, log_event=False)  # never the event, whatever the env says
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return handle_worker_event(event)
