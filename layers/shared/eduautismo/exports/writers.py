"""Streaming writers of the two formats. Both read the rows once and tally them as they go, so the
summary always equals what the file holds."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from eduautismo.domain import Priority
from eduautismo.exports.labels import PRIORITY_LABELS
from eduautismo.exports.rows import Cell, ColumnKind, Columns, ExportRow, RowFormatter

Delimiter = Literal[",", ";"]

DATA_SHEET_TITLE = "Planos pendentes"
SUMMARY_SHEET_TITLE = "Resumo"
HEADER_FILL = "4472C4"
PRIORITY_FILLS = {Priority.HIGH: "FFC7CE", Priority.MEDIUM: "FFEB9C", Priority.LOW: "C6EFCE"}
# Excel sorts and filters real dates; text that looks like a date it sorts as text.
DATE_FORMAT = "DD/MM/YYYY"
DATE_TIME_FORMAT = "DD/MM/YYYY HH:MM"
# The number format of each date kind: DATE a real date, LOCAL_DATE a local date-time.
DATE_FORMATS = {ColumnKind.DATE: DATE_FORMAT, ColumnKind.LOCAL_DATE: DATE_TIME_FORMAT}
# An XLSX cell value: the CSV cells plus real dates and (timezone-less, local) date-times.
XlsxValue = Cell | date | datetime
# Column widths are fitted to the header and the first rows: write-only sheets fix widths before any row.
WIDTH_SAMPLE_ROWS = 1_000
MAX_COLUMN_WIDTH = 60


def date_column_formats(shown: Columns) -> dict[int, str]:
    """Position -> number format of every date column of ``shown``."""
    return {
        index: DATE_FORMATS[column.kind] for index, column in enumerate(shown) if column.kind in DATE_FORMATS
    }


@dataclass
class Tally:
    """Rows written, by priority (a stored value equals its ``Priority`` member)."""

    by_priority: dict[Priority, int] = field(default_factory=lambda: dict.fromkeys(Priority, 0))

    @property
    def total(self) -> int:
        return sum(self.by_priority.values())

    def counted(self, rows: Iterable[ExportRow], priority_index: int) -> Iterator[ExportRow]:
        for row in rows:
            self.by_priority[row[priority_index]] += 1
            yield row


@dataclass(frozen=True)
class SummaryInfo:
    """What the "Resumo" sheet states besides the totals."""

    filters: list[tuple[str, str]]
    exported_at: str  # already in the organization's timezone, e.g. "25/11/2026 12:41 (America/Sao_Paulo)"


def write_csv(rows: Iterable[ExportRow], path: Path, formatter: RowFormatter, delimiter: Delimiter) -> Tally:
    """UTF-8 with BOM (Excel detects the encoding), one header line, then the rows as they stream in."""
    tally = Tally()
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(formatter.headers)
        writer.writerows(formatter.cells(row) for row in tally.counted(rows, formatter.priority_index))
    return tally


def _shown_length(value: XlsxValue) -> int:
    if isinstance(value, datetime):
        return len("00/00/0000 00:00")
    if isinstance(value, date):
        return len("00/00/0000")
    return len(str(value))


def _fitted_widths(header: list[str], sample: list[list[XlsxValue]]) -> list[float]:
    widths = [len(title) for title in header]
    for cells in sample:
        for index, value in enumerate(cells):
            if value is not None:
                widths[index] = max(widths[index], _shown_length(value))
    return [min(width + 2, MAX_COLUMN_WIDTH) for width in widths]


def _xlsx_values(formatter: RowFormatter) -> Callable[[ExportRow], list[XlsxValue]]:
    """The row's cells with its dates as dates and its instants as local date-times (Excel has no
    timezones: the organization's wall clock, as the CSV shows it)."""
    # (position, whether it is an instant shown at the local wall clock)
    date_columns = [
        (index, column.kind is ColumnKind.LOCAL_DATE)
        for index, column in enumerate(formatter.columns)
        if column.kind in DATE_FORMATS
    ]

    def values(row: ExportRow) -> list[XlsxValue]:
        cells: list[XlsxValue] = list(formatter.cells(row))
        for index, local in date_columns:
            value = row[index]
            cells[index] = _local_wall_clock(formatter, value) if local else value
        return cells

    return values


def _local_wall_clock(formatter: RowFormatter, instant: datetime | None) -> datetime | None:
    return instant.astimezone(formatter.zone).replace(tzinfo=None) if instant else None


def _styled_cell(sheet: WriteOnlyWorksheet, value: str, fill: str, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.fill = PatternFill(start_color=fill, end_color=fill, fill_type="solid")
    if font is not None:
        cell.font = font
    return cell


def _write_data_sheet(
    sheet: WriteOnlyWorksheet, lines: Iterator[tuple[ExportRow, list[XlsxValue]]], formatter: RowFormatter
) -> int:
    header = formatter.headers
    sample = list(itertools.islice(lines, WIDTH_SAMPLE_ROWS))
    for index, width in enumerate(_fitted_widths(header, [cells for _, cells in sample]), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    header_font = Font(bold=True, color="FFFFFF")
    sheet.append([_styled_cell(sheet, title, HEADER_FILL, header_font) for title in header])
    # One styled cell per priority, reused: the sheet writes each appended row out before the next one.
    priority_cells = {
        priority: _styled_cell(sheet, label, PRIORITY_FILLS[priority])
        for priority, label in PRIORITY_LABELS.items()
    }
    # Likewise one cell per date column, holding its number format; only the value changes per row. The
    # value is the Excel serial number openpyxl would write for the date (the same bytes, by its own
    # to_excel): a number skips openpyxl's per-cell date handling, about 4 % of a large export.
    date_cells = {}
    for index, number_format in date_column_formats(formatter.columns).items():
        date_cells[index] = WriteOnlyCell(sheet)
        date_cells[index].number_format = number_format
    priority_index = formatter.priority_index
    written = 0
    for row, cells in itertools.chain(sample, lines):
        cells[priority_index] = priority_cells[row[priority_index]]
        for index, cell in date_cells.items():
            if cells[index] is not None:
                cell.value = to_excel(cells[index])
                cells[index] = cell
        sheet.append(cells)
        written += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{written + 1}"
    return written


def _write_summary_sheet(sheet: WriteOnlyWorksheet, tally: Tally, info: SummaryInfo) -> None:
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 40
    title = WriteOnlyCell(sheet, value="Resumo da Exportação")
    title.font = Font(bold=True, size=13)
    lines: list[list[Any]] = [
        [title],
        ["Total de Planos:", tally.total],
        *(
            [f"{label} Prioridade:", tally.by_priority[priority]]
            for priority, label in PRIORITY_LABELS.items()
        ),
        ["Data da Exportação:", info.exported_at],
        [],
        ["Filtros aplicados:"],
        *([f"{label}:", value] for label, value in info.filters),
    ]
    if not info.filters:
        lines.append(["Nenhum", ""])
    for line in lines:
        sheet.append(line)
    chart = BarChart()
    chart.title = "Planos por prioridade"
    chart.y_axis.title = "Planos"
    chart.legend = None
    chart.add_data(Reference(sheet, min_col=2, min_row=3, max_row=5), titles_from_data=False)
    chart.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=5))
    sheet.add_chart(chart, "D2")


def write_xlsx(rows: Iterable[ExportRow], path: Path, formatter: RowFormatter, info: SummaryInfo) -> Tally:
    """Write-only (streaming) workbook: the data sheet, then "Resumo" with the tallied totals and a chart."""
    tally = Tally()
    workbook = Workbook(write_only=True)
    data_sheet = workbook.create_sheet(DATA_SHEET_TITLE)
    values = _xlsx_values(formatter)
    lines = ((row, values(row)) for row in tally.counted(rows, formatter.priority_index))
    _write_data_sheet(data_sheet, lines, formatter)
    _write_summary_sheet(workbook.create_sheet(SUMMARY_SHEET_TITLE), tally, info)
    workbook.save(str(path))
    return tally
