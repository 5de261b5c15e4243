"""The compliance report as a workbook: sheet "Conformidade" (one line per professional, then the totals)
and sheet "Resumo" (the period and the export time). One line per professional: a plain, formatted
workbook, no streaming needed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from eduautismo.exports.cells import safe_text
from eduautismo.exports.writers import HEADER_FILL
from eduautismo.reports.schemas import ComplianceCounters, ComplianceReport

DATA_SHEET_TITLE = "Conformidade"
SUMMARY_SHEET_TITLE = "Resumo"
HEADERS = (
    "Profissional",
    "Planos ativos",
    "Atrasados agora",
    "Vencem em breve",
    "Revisões no período",
    "No prazo",
    "Atrasadas",
    "Taxa no prazo",
    "Média de dias de atraso",
)
RATE_COLUMN = HEADERS.index("Taxa no prazo") + 1
TOTALS_LABEL = "Total"
RATE_FORMAT = "0.0%"
DAYS_FORMAT = "0.0"
# The rate's colour: red below 70 %, yellow below 90 %, green otherwise.
RATE_FILLS = ((0.70, "FFC7CE"), (0.90, "FFEB9C"))
RATE_FILL_OTHERWISE = "C6EFCE"
NAME_COLUMN_WIDTH = 36
NUMBER_COLUMN_WIDTH = 14


def rate_fill(rate: float) -> str:
    return next((colour for limit, colour in RATE_FILLS if rate < limit), RATE_FILL_OTHERWISE)


def _fill(colour: str) -> PatternFill:
    return PatternFill(start_color=colour, end_color=colour, fill_type="solid")


def _append_counters(sheet: Any, label: str, counters: ComplianceCounters, bold: bool = False) -> None:
    sheet.append(
        [
            safe_text(label),
            counters.active_plans,
            counters.overdue_now,
            counters.due_soon,
            counters.reviews_in_period,
            counters.on_time_reviews,
            counters.late_reviews,
            counters.on_time_rate,
            counters.average_days_late,
        ]
    )
    row: tuple[Cell, ...] = sheet[sheet.max_row]
    rate = row[RATE_COLUMN - 1]
    rate.number_format = RATE_FORMAT
    if counters.on_time_rate is not None:
        rate.fill = _fill(rate_fill(counters.on_time_rate))
    row[-1].number_format = DAYS_FORMAT
    if bold:
        for cell in row:
            cell.font = Font(bold=True)


def _write_data_sheet(sheet: Any, report: ComplianceReport) -> None:
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _fill(HEADER_FILL)
    for item in report.items:
        _append_counters(sheet, item.professional_name, item)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{len(report.items) + 1}"
    _append_counters(sheet, TOTALS_LABEL, report.totals, bold=True)
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = NAME_COLUMN_WIDTH
    for index in range(2, len(HEADERS) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = max(
            NUMBER_COLUMN_WIDTH, len(HEADERS[index - 1]) + 2
        )


def _write_summary_sheet(sheet: Any, report: ComplianceReport, local_now: datetime) -> None:
    period = report.period
    sheet.append(["Conformidade das revisões"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(["Período:", f"{period.date_from:%d/%m/%Y} a {period.date_to:%d/%m/%Y}"])
    sheet.append(["Fuso horário:", period.timezone])
    sheet.append(["Data da Exportação:", f"{local_now:%d/%m/%Y %H:%M} ({period.timezone})"])
    sheet.append(["Profissionais:", len(report.items)])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 40


def write_compliance_workbook(report: ComplianceReport, path: Path, local_now: datetime) -> None:
    """``local_now``: the export time in the organization's timezone."""
    workbook = Workbook()
    data_sheet = workbook.active
    data_sheet.title = DATA_SHEET_TITLE
    _write_data_sheet(data_sheet, report)
    _write_summary_sheet(workbook.create_sheet(SUMMARY_SHEET_TITLE), report, local_now)
    workbook.save(str(path))
