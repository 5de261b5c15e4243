"""GET /export/review-compliance/excel: the sheet read back with openpyxl, the link, the audit row, the
quota and the redirect (S3 in moto)."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import Engine

from eduautismo.domain import ExportStatus, Role
from eduautismo.reports.schemas import ComplianceCounters, ComplianceItem, CompliancePeriod, ComplianceReport
from eduautismo.reports.workbook import (
    DATA_SHEET_TITLE,
    HEADERS,
    SUMMARY_SHEET_TITLE,
    write_compliance_workbook,
)
from tests.exports.conftest import LINK_FIELDS, jobs_of, stored_bytes
from tests.reports.conftest import export_excel, record_reviews
from tests.support.factories import Factory

NOW = datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)  # 12:04:05 in São Paulo


def _counters(on_time: int, late: int) -> dict[str, Any]:
    reviews = on_time + late
    return {
        "active_plans": 3,
        "overdue_now": 1,
        "due_soon": 1,
        "reviews_in_period": reviews,
        "on_time_reviews": on_time,
        "late_reviews": late,
        "on_time_rate": round(on_time / reviews, 4) if reviews else None,
        "average_days_late": 2.5 if late else None,
    }


def _fill(cell: Any) -> str:
    return str(cell.fill.start_color.rgb)[-6:]


def test_the_rate_is_a_percentage_coloured_by_threshold_with_a_totals_row(tmp_path: Path) -> None:
    # Given professionals at 69.99 %, 70 %, 89.99 %, 90 % on time, one without reviews, and the totals
    rates = [(6999, 3001), (7, 3), (8999, 1001), (9, 1), (0, 0)]
    items = [
        ComplianceItem(
            professional_id=uuid.uuid4(), professional_name=f"=Profissional {index}", **_counters(*rate)
        )
        for index, rate in enumerate(rates)
    ]
    report = ComplianceReport(
        period=CompliancePeriod(
            date_from=date(2026, 8, 23), date_to=date(2026, 11, 20), timezone="America/Sao_Paulo"
        ),
        totals=ComplianceCounters(**_counters(8, 2)),
        items=items,
    )
    path = tmp_path / "conformidade.xlsx"
    # When the workbook is written and read back
    write_compliance_workbook(report, path, datetime(2026, 11, 20, 12, 4))
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[DATA_SHEET_TITLE]
    lines = list(sheet.iter_rows())
    # Then the pt-BR header is frozen above the rows
    assert [cell.value for cell in lines[0]] == list(HEADERS)
    assert sheet.freeze_panes == "A2"
    # And each rate is a percentage cell, red below 70 %, yellow below 90 %, green otherwise, none without
    rate_column = HEADERS.index("Taxa no prazo")
    rate_cells = [line[rate_column] for line in lines[1:6]]
    assert [cell.value for cell in rate_cells] == [0.6999, 0.7, 0.8999, 0.9, None]
    assert {cell.number_format for cell in rate_cells} == {"0.0%"}
    assert [_fill(cell) for cell in rate_cells[:4]] == ["FFC7CE", "FFEB9C", "FFEB9C", "C6EFCE"]
    assert rate_cells[4].fill.fill_type is None
    # And a name that looks like a formula is neutralised
    assert lines[1][0].value == "'=Profissional 0"
    # And the totals row closes the table, in bold, its rate coloured too
    totals = lines[6]
    assert [cell.value for cell in totals] == ["Total", 3, 1, 1, 10, 8, 2, 0.8, 2.5]
    assert totals[0].font.bold and _fill(totals[rate_column]) == "FFEB9C"
    # And the second sheet states the period and the export time
    summary = {line[0]: line[1] for line in workbook[SUMMARY_SHEET_TITLE].iter_rows(values_only=True)}
    assert summary["Período:"] == "23/08/2026 a 20/11/2026"
    assert summary["Data da Exportação:"] == "20/11/2026 12:04 (America/Sao_Paulo)"


def test_the_export_is_linked_stored_and_audited_like_any_export(
    factory: Factory, db: Engine, s3: Any, set_now: Any
) -> None:
    # Given a coordinator and Ana, whose weekly plan was reviewed on time (and is overdue again today)
    set_now(NOW)
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR, name="Coordenação")
    ana = factory.user(organization, Role.PROFESSIONAL, name="Ana Souza")
    plan = factory.plan(ana, review_frequency="weekly", start_date=date(2026, 11, 1))
    record_reviews(db, plan, ana, [datetime(2026, 11, 8, 15, tzinfo=UTC)])
    # When the coordinator exports the report
    response = export_excel(coordinator, date_from="2026-11-01", date_to="2026-11-20")
    # Then the answer is the exports' link envelope
    assert response.status == 200, response.json
    body = response.json
    assert set(body) == LINK_FIELDS
    assert body["filename"] == "conformidade_revisoes_20261120_120405.xlsx"
    assert body["content_type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert body["row_count"] == 1
    assert datetime.fromisoformat(body["expires_at"]) == NOW + timedelta(seconds=900)
    # And the stored file holds Ana's line and the totals
    sheet = openpyxl.load_workbook(io.BytesIO(stored_bytes(s3, db, coordinator)))[DATA_SHEET_TITLE]
    values = [[cell.value for cell in line] for line in sheet.iter_rows(min_row=2)]
    assert values == [["Ana Souza", 1, 1, 0, 1, 1, 0, 1, None], ["Total", 1, 1, 0, 1, 1, 0, 1, None]]
    # And the audit row records who exported which report and period, under a random key
    (job,) = jobs_of(db, coordinator)
    assert job.status == ExportStatus.SUCCEEDED.value
    assert job.filters == {
        "report": "review_compliance",
        "date_from": "2026-11-01",
        "date_to": "2026-11-20",
        "scope": {"role": "coordinator"},
        "asynchronous": False,
    }
    assert (job.format, job.row_count, job.filename) == ("xlsx", 1, body["filename"])
    assert re.fullmatch(r"exports/[0-9a-f-]{36}\.xlsx", job.s3_key or "")


def test_redirect_answers_303_to_the_link(factory: Factory, db: Engine, s3: Any) -> None:
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    response = export_excel(coordinator, redirect="true")
    assert response.status == 303
    assert response.headers["Location"].startswith("http")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_daily_export_quota_counts_the_report_too(
    factory: Factory, db: Engine, s3: Any, override_settings: Any
) -> None:
    # Given a quota of one export a day, already used by this user
    override_settings(exports_per_user_per_day="1")
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    assert export_excel(coordinator).status == 200
    # When the user exports the report again
    response = export_excel(coordinator)
    # Then it is 429 and no second job is recorded
    assert response.status == 429
    assert response.json["error"]["code"] == "quota_exceeded"
    assert len(jobs_of(db, coordinator)) == 1


def test_a_storage_failure_marks_the_job_failed_and_answers_503(factory: Factory, db: Engine) -> None:
    # Given no export bucket configured
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    # When the report is exported
    response = export_excel(coordinator)
    # Then the answer is 503 and the audit row says the export failed
    assert response.status == 503
    (job,) = jobs_of(db, coordinator)
    assert job.status == ExportStatus.FAILED.value
