"""Lambda: CloudFormation custom resource that runs the Alembic migrations on each deploy."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.db.migration_resource import handle_migration_event
from eduautismo.observability import logger


@logger.inject_lambda_context(clear_state=True, log_event=False)  # never the event, whatever the env says
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_migration_event(
        event,
        log_stream=context.log_stream_name,
        remaining_seconds=context.get_remaining_time_in_millis() / 1000,
    )
