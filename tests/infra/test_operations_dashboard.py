"""The operations dashboard of template.yaml: valid JSON once substituted, and showing the metrics the
functions emit (names as the code writes them) and every function's latency and errors."""

from __future__ import annotations

import json
import re
from typing import Any

from eduautismo.observability import EXPORT_GENERATION_TIME, EXPORT_ROWS, NOTIFICATION_CREATION_TIME
from eduautismo_local.template_routes import functions, load_template


def dashboard() -> dict[str, Any]:
    template = load_template()
    body, variables = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Sub"]
    known = {*functions(template), *variables, "AWS::Region"}
    placeholders = set(re.findall(r"\$\{([^}]+)\}", body))
    assert placeholders <= known, placeholders - known
    return json.loads(re.sub(r"\$\{([^}]+)\}", lambda match: match.group(1), body))  # type: ignore[no-any-return]


def _metric_lines(board: dict[str, Any]) -> list[list[Any]]:
    return [line for widget in board["widgets"] for line in widget["properties"]["metrics"]]


def test_the_dashboard_shows_the_emitted_metrics_and_every_function() -> None:
    lines = _metric_lines(dashboard())
    names = {line[1] for line in lines if len(line) > 1 and isinstance(line[1], str)}
    # Then the operations metrics (as the code names them), the cache counters and the DLQ depth are there
    assert {NOTIFICATION_CREATION_TIME, EXPORT_GENERATION_TIME, EXPORT_ROWS, "CacheHit", "CacheMiss"} <= names
    assert {"DailyJobPlansScanned", "ApproximateNumberOfMessagesVisible"} <= names
    # And each function's p95 duration and errors
    for metric, stat in (("Duration", "p95"), ("Errors", "Sum")):
        shown = {line[3] for line in lines if line[:2] == ["AWS/Lambda", metric] and line[4]["stat"] == stat}
        assert shown == set(functions(load_template()))
