"""The operations view: a produced export emits export_generation_time (ms) and export_rows in EMF."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from eduautismo.domain import Role
from eduautismo.observability import metrics
from tests.exports.conftest import export
from tests.foundation.test_observability import emitted
from tests.support.factories import Factory


@pytest.fixture(autouse=True)
def no_pending_metrics() -> None:
    metrics.clear_metrics()


def test_an_export_emits_its_generation_time_and_rows(
    factory: Factory, db: Engine, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a coordinator and two overdue plans
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR)
    for _ in range(2):
        factory.plan(factory.user(organization), start_date=date.today() - timedelta(days=60))
    capsys.readouterr()
    # When the coordinator exports CSV (inline: the handler flushes the metrics)
    assert export(coordinator, "csv").status == 200
    # Then export_generation_time (ms) and export_rows are in the EMF output
    found = emitted(capsys.readouterr().out)
    unit, values = found["export_generation_time"]
    assert unit == "Milliseconds" and len(values) == 1 and values[0] > 0
    assert found["export_rows"] == ("Count", [2.0])
