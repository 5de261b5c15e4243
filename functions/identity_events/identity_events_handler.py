"""Lambda: Cognito's user-pool administration events (EventBridge, via CloudTrail) update users' role and
status at once."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.context import build_context
from eduautismo.identity.cognito_events import handle_identity_event
from eduautismo.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True, log_event=False)  # never the event, whatever the env says
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_identity_event(build_context(), event)
