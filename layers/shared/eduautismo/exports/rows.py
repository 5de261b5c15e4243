"""The pending-review export's one column table, and how a line becomes cells.

``COLUMNS`` is the only list of the export's columns, in file order. Each entry says everything every
consumer needs: its pt-BR header, the name of its value (``field``: the plan column it reads, or one of
the values the repository derives, ``repository.derived_values``) and its kind. From it:

- the Python rows: ``repository.PendingRows.rows`` selects one stored value per column, in table order,
  and ``RowFormatter`` turns each into its cell by the column's kind (``cell_rule``);
- the COPY statement: ``repository.csv_query`` renders each value in SQL by the same kind;
- the XLSX writer: headers, the priority fill and the date columns' number formats (``writers.py``).

Adding a column is one entry here (see docs/ARCHITECTURE.md, "Add a column")."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from eduautismo import resettable
from eduautismo.exports.cells import safe_text
from eduautismo.exports.labels import FREQUENCY_LABELS, PRIORITY_LABELS, STATUS_LABELS

# Excel's last row (1,048,576) holds 1,048,575 data rows under the header.
MAX_EXPORT_ROWS = 1_048_575


class ColumnKind(StrEnum):
    """How a stored value becomes a cell, in Python, in SQL and in the XLSX sheet."""

    LABEL = "label"  # an enum's stored value, as its pt-BR label
    ID = "id"  # a UUID as text
    TEXT = "text"  # free text, through the cell rule of cells.py (empty: no cell)
    LOCAL_DATE = "local_date"  # an instant, as its date in the organization's timezone (dd/mm/aaaa)
    DATE = "date"  # a calendar date (dd/mm/aaaa)
    COUNT = "count"  # a whole number


@dataclass(frozen=True, slots=True)
class ExportColumn:
    header: str  # pt-BR, as the file shows it
    # The value it shows: the plan column of that name, or a value the repository derives
    # (repository.derived_values); also the name of the COPY statement's cell.
    field: str
    kind: ColumnKind
    # LABEL: the pt-BR label of each stored value (StrEnum members are their stored values).
    labels: Mapping[Any, str] | None = None


COLUMNS = (
    ExportColumn("Prioridade", "priority", ColumnKind.LABEL, PRIORITY_LABELS),
    ExportColumn("ID", "id", ColumnKind.ID),
    ExportColumn("Título", "title", ColumnKind.TEXT),
    ExportColumn("Descrição", "description", ColumnKind.TEXT),
    ExportColumn("Status", "status", ColumnKind.LABEL, STATUS_LABELS),
    ExportColumn("Frequência de revisão", "review_frequency", ColumnKind.LABEL, FREQUENCY_LABELS),
    ExportColumn("Última revisão", "last_reviewed_at", ColumnKind.LOCAL_DATE),
    ExportColumn("Próxima revisão", "next_review_due", ColumnKind.DATE),
    ExportColumn("Dias em atraso", "days_overdue", ColumnKind.COUNT),
    ExportColumn("Profissional", "professional_name", ColumnKind.TEXT),
    ExportColumn("Criado em", "created_at", ColumnKind.LOCAL_DATE),
)
# Last, and only when the export was asked with include_student.
STUDENT_COLUMN = ExportColumn("Aluno", "student_name", ColumnKind.TEXT)
# The column the XLSX writer colours and the tally counts by.
PRIORITY_FIELD = "priority"

BASE_HEADERS = tuple(column.header for column in COLUMNS)

Columns = tuple[ExportColumn, ...]
# One line of an export: one stored value per column, in the table's order (a row of the export
# statement, or any sequence holding the same values).
ExportRow = Sequence[Any]
# None is an empty cell (csv writes it as an empty field).
Cell = str | int | None


def columns(include_student: bool, base: Columns = COLUMNS) -> Columns:
    return (*base, STUDENT_COLUMN) if include_student else base


def column_index(shown: Columns, field: str) -> int:
    """Where the column of ``field`` is in ``shown``, counted from 0."""
    return next(index for index, column in enumerate(shown) if column.field == field)


# A pure function: its memo survives a SnapStart restore.
@resettable.once(restore="keep", maxsize=8_192)
def br_date(day: date) -> str:
    """dd/mm/aaaa; cached because an export repeats few distinct dates over many rows."""
    return day.strftime("%d/%m/%Y")


def cell_rule(column: ExportColumn, zone: ZoneInfo) -> Callable[[Any], Cell]:
    """The Python cell of one column, by its kind (the SQL of the same kind: ``repository.csv_query``)."""
    match column.kind:
        case ColumnKind.LABEL:
            if column.labels is None:
                raise ValueError(f"the label column {column.field!r} has no labels")
            return column.labels.__getitem__
        case ColumnKind.ID:
            return str
        case ColumnKind.TEXT:
            return lambda value: safe_text(value) if value else None
        case ColumnKind.LOCAL_DATE:
            return lambda value: None if value is None else br_date(value.astimezone(zone).date())
        case ColumnKind.DATE:
            return lambda value: None if value is None else br_date(value)
        case ColumnKind.COUNT:
            return lambda value: value


class RowFormatter:
    """Turns rows into cells: pt-BR labels, dates as dd/mm/aaaa in the organization's timezone, safe text.
    ``columns`` are the file's columns (the table, and the student's column when asked for)."""

    def __init__(self, timezone: str, include_student: bool, base: Columns = COLUMNS) -> None:
        self.zone = ZoneInfo(timezone)
        self.include_student = include_student
        self.columns = columns(include_student, base)
        self.priority_index = column_index(self.columns, PRIORITY_FIELD)
        self._rules = tuple(cell_rule(column, self.zone) for column in self.columns)

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def cells(self, row: ExportRow) -> list[Cell]:
        """One line's cells, in the columns' order; values past the shown columns are not read. (A rule per
        column: the loop costs under 1% of an XLSX export, whose time is openpyxl's.)"""
        return [rule(row[index]) for index, rule in enumerate(self._rules)]
