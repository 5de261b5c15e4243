"""XLSX dates are real dates (Excel sorts and filters them as dates), in the organization's wall clock."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl

from eduautismo.domain import Priority
from eduautismo.exports.rows import BASE_HEADERS, RowFormatter
from eduautismo.exports.writers import DATA_SHEET_TITLE, SummaryInfo, write_xlsx
from tests.exports.conftest import export_row

TIMEZONE = "America/Sao_Paulo"
INFO = SummaryInfo(filters=[], exported_at="25/11/2026 12:41 (America/Sao_Paulo)")


def _column(name: str) -> int:
    return BASE_HEADERS.index(name) + 1


def test_xlsx_dates_are_dates_and_instants_are_local_date_times(tmp_path: Path) -> None:
    # Given a plan reviewed at 01:30 UTC on 2 Nov (22:30 on 1 Nov in São Paulo), due on 9 Nov,
    # created at 12:00 UTC on 1 Oct, and a plan never reviewed
    rows = [export_row(Priority.HIGH), export_row(Priority.LOW, last_reviewed_at=None)]
    path = tmp_path / "out.xlsx"
    # When the workbook is written and read back
    write_xlsx(rows, path, RowFormatter(TIMEZONE, include_student=False), INFO)
    sheet = openpyxl.load_workbook(path)[DATA_SHEET_TITLE]
    due = sheet.cell(2, _column("Próxima revisão"))
    reviewed = sheet.cell(2, _column("Última revisão"))
    created = sheet.cell(2, _column("Criado em"))
    # Then the due date is a date shown as DD/MM/YYYY
    assert due.is_date and due.number_format == "DD/MM/YYYY"
    assert due.value == datetime(2026, 11, 9) and due.value.date() == date(2026, 11, 9)
    # And the instants are date-times in the organization's timezone, shown with hours and minutes
    assert reviewed.is_date and reviewed.number_format == "DD/MM/YYYY HH:MM"
    assert reviewed.value == datetime(2026, 11, 1, 22, 30)
    assert created.is_date and created.number_format == "DD/MM/YYYY HH:MM"
    assert created.value == datetime(2026, 10, 1, 9, 0)
    # And a plan never reviewed has an empty cell, not a placeholder date
    assert sheet.cell(3, _column("Última revisão")).value is None
    assert sheet.cell(3, _column("Próxima revisão")).is_date
    # And the date columns are wide enough for what they show
    letter = openpyxl.utils.get_column_letter(_column("Criado em"))
    assert sheet.column_dimensions[letter].width >= len("01/10/2026 09:00")
