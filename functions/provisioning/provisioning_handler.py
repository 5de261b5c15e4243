"""Lambda: Cognito post-confirmation trigger (provisions the organization and user)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.identity.confirmation import handle_post_confirmation
from eduautismo.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True, log_event=False)  # never the event, whatever the env says
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_post_confirmation(event)
