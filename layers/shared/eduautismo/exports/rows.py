"""What one exported line holds, its pt-BR columns, and how a line becomes cells.

``COLUMNS`` is the one table of the pending-review export's columns, in file order: the headers, the XLSX
writer's typed columns and the COPY statement (``repository.csv_query``) read it; ``RowFormatter.cells``
writes the same columns in the same order by hand (a loop over the table costs a measurable share of a
large export), and tests/exports/test_writers.py checks it against the table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from eduautismo import resettable
from eduautismo.domain import PlanStatus, Priority, ReviewFrequency
from eduautismo.exports.cells import safe_text
from eduautismo.exports.labels import FREQUENCY_LABELS, PRIORITY_LABELS, STATUS_LABELS

# Excel's last row (1,048,576) holds 1,048,575 data rows under the header.
MAX_EXPORT_ROWS = 1_048_575


class ColumnKind(StrEnum):
    """How a stored value becomes a cell."""

    LABEL = "label"  # an enum member's pt-BR label
    ID = "id"  # a UUID as text
    TEXT = "text"  # free text, through the cell rule of cells.py
    LOCAL_DATE = "local_date"  # an instant, as its date in the organization's timezone (dd/mm/aaaa)
    DATE = "date"  # a calendar date (dd/mm/aaaa)
    COUNT = "count"  # a whole number


@dataclass(frozen=True, slots=True)
class ExportColumn:
    header: str
    field: str  # the ExportRow attribute, and the name of the COPY statement's cell
    kind: ColumnKind


COLUMNS = (
    ExportColumn("Prioridade", "priority", ColumnKind.LABEL),
    ExportColumn("ID", "id", ColumnKind.ID),
    ExportColumn("Título", "title", ColumnKind.TEXT),
    ExportColumn("Descrição", "description", ColumnKind.TEXT),
    ExportColumn("Status", "status", ColumnKind.LABEL),
    ExportColumn("Frequência de revisão", "review_frequency", ColumnKind.LABEL),
    ExportColumn("Última revisão", "last_reviewed_at", ColumnKind.LOCAL_DATE),
    ExportColumn("Próxima revisão", "next_review_due", ColumnKind.DATE),
    ExportColumn("Dias em atraso", "days_overdue", ColumnKind.COUNT),
    ExportColumn("Profissional", "professional_name", ColumnKind.TEXT),
    ExportColumn("Criado em", "created_at", ColumnKind.LOCAL_DATE),
)
# Last, and only when the export was asked with include_student.
STUDENT_COLUMN = ExportColumn("Aluno", "student_name", ColumnKind.TEXT)
# The labels of each LABEL column.
LABELS: dict[str, dict[Any, str]] = {
    "priority": PRIORITY_LABELS,
    "status": STATUS_LABELS,
    "review_frequency": FREQUENCY_LABELS,
}

BASE_HEADERS = tuple(column.header for column in COLUMNS)


def columns(include_student: bool) -> tuple[ExportColumn, ...]:
    return (*COLUMNS, STUDENT_COLUMN) if include_student else COLUMNS


def column_index(field: str) -> int:
    """Where the column of ``field`` is, counted from 0."""
    return next(index for index, column in enumerate(COLUMNS) if column.field == field)


PRIORITY_COLUMN = column_index("priority")

# None is an empty cell (csv writes it as an empty field).
Cell = str | int | None


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One pending-review plan as exports need it."""

    id: uuid.UUID
    priority: Priority
    title: str
    description: str
    status: PlanStatus
    review_frequency: ReviewFrequency
    last_reviewed_at: datetime | None
    next_review_due: date
    days_overdue: int
    professional_name: str
    created_at: datetime
    student_name: str | None = None


def headers(include_student: bool) -> list[str]:
    return [column.header for column in columns(include_student)]


# A pure function: its memo survives a SnapStart restore.
@resettable.once(restore="keep", maxsize=8_192)
def br_date(day: date) -> str:
    """dd/mm/aaaa; cached because an export repeats few distinct dates over many rows."""
    return day.strftime("%d/%m/%Y")


class RowFormatter:
    """Turns rows into cells: pt-BR labels, dates as dd/mm/aaaa in the organization's timezone, safe text."""

    def __init__(self, timezone: str, include_student: bool) -> None:
        self.zone = ZoneInfo(timezone)
        self.include_student = include_student

    def _local_date(self, instant: datetime | None) -> str | None:
        return br_date(instant.astimezone(self.zone).date()) if instant else None

    def cells(self, row: ExportRow) -> list[Cell]:
        """The cells of ``columns(include_student)``, in that order."""
        cells: list[Cell] = [
            PRIORITY_LABELS[row.priority],
            str(row.id),
            safe_text(row.title),
            safe_text(row.description),
            STATUS_LABELS[row.status],
            FREQUENCY_LABELS[row.review_frequency],
            self._local_date(row.last_reviewed_at),
            br_date(row.next_review_due),
            row.days_overdue,
            safe_text(row.professional_name),
            self._local_date(row.created_at),
        ]
        if self.include_student:
            cells.append(safe_text(row.student_name) if row.student_name else None)
        return cells
