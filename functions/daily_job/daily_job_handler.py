"""Lambda: the daily job, invoked by the EventBridge Scheduler at 06:00 São Paulo time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.db.engine import get_engine
from eduautismo.jobs.daily_job import event_time, publish_summary, run_daily_job
from eduautismo.observability import logger, metrics
from eduautismo.settings import get_settings


@logger.inject_lambda_context(clear_state=True, log_event=False)  # never the event, whatever the env says
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    summary = run_daily_job(get_engine(), event_time(event), get_settings())
    publish_summary(summary)
    return summary.as_dict()
