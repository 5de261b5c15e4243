"""The column table is the one place a column is declared: the Python rows, the COPY statement and the
XLSX sheet all follow it, so a column added to it reaches all three with nothing else to write."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.domain import Role
from eduautismo.exports.copy_csv import copy_csv
from eduautismo.exports.repository import PendingRows, csv_query
from eduautismo.exports.rows import COLUMNS, ColumnKind, ExportColumn, RowFormatter
from eduautismo.exports.schemas import RowRange
from eduautismo.exports.writers import DATA_SHEET_TITLE, SummaryInfo, write_csv, write_xlsx
from eduautismo.organizations.schemas import LocalDay
from eduautismo.plans.schemas import PendingReviewFilters
from tests.exports.conftest import read_csv
from tests.support.factories import Factory

TIMEZONE = "America/Sao_Paulo"
TODAY = date(2026, 11, 24)
START = date(2026, 7, 3)
# A column the export does not have: the plan's start date, one entry appended to a copy of the table.
START_COLUMN = ExportColumn("Data de início", "start_date", ColumnKind.DATE)
TABLE = (*COLUMNS, START_COLUMN)


@pytest.mark.parametrize("include_student", [False, True])
def test_one_entry_added_to_the_table_reaches_the_python_rows_the_copy_sql_and_the_xlsx_sheet(
    factory: Factory, db: Engine, tmp_path: Path, include_student: bool
) -> None:
    # Given a pending plan started on 3 July, and the table with one more column (its start date)
    organization = factory.organization(timezone=TIMEZONE)
    coordinator = factory.user(organization, Role.COORDINATOR)
    student = factory.student(organization, full_name="Helena")
    factory.plan(
        factory.user(organization, name="Ana"),
        student_id=student,
        start_date=START,
        created_at=datetime(2026, 7, 3, 12, tzinfo=UTC),
    )
    window = LocalDay(TODAY, TIMEZONE, due_horizon=TODAY + timedelta(days=3))
    filters, whole = PendingReviewFilters(), RowRange()
    formatter = RowFormatter(TIMEZONE, include_student, base=TABLE)
    expected_headers = [
        *(column.header for column in COLUMNS),
        "Data de início",
        *(["Aluno"] if include_student else []),
    ]
    # When the Python rows are written as CSV and as XLSX, and PostgreSQL's COPY writes the CSV, all with it
    with Session(db) as session:
        rows = PendingRows(session, coordinator.principal, filters, window, whole)
        write_csv(rows.rows(include_student, base=TABLE), tmp_path / "python.csv", formatter, ";")
        info = SummaryInfo(filters=[], exported_at="agora")
        write_xlsx(rows.rows(include_student, base=TABLE), tmp_path / "out.xlsx", formatter, info)
    with Session(db) as session:
        copied = io.BytesIO()
        query = csv_query(coordinator.principal, filters, window, include_student, whole, base=TABLE)
        copy_csv(session, query, ";", copied)
    # Then the Python CSV has the column, in the table's place, with the plan's start date
    python_csv = (tmp_path / "python.csv").read_bytes()
    header, line = read_csv(python_csv, ";")
    assert header == expected_headers
    assert line[len(COLUMNS)] == "03/07/2026"
    # And the COPY statement writes the very same bytes
    assert copied.getvalue() == python_csv
    # And the XLSX sheet has the header and the start date as a real date, formatted like the other dates
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx")[DATA_SHEET_TITLE]
    assert [cell.value for cell in sheet[1]] == expected_headers
    started = sheet.cell(2, len(COLUMNS) + 1)
    assert started.is_date and started.number_format == "DD/MM/YYYY"
    assert started.value == datetime(2026, 7, 3)
    assert sheet.auto_filter.ref.startswith(f"A1:{openpyxl.utils.get_column_letter(len(expected_headers))}")
