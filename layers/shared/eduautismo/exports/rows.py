"""What one exported line holds, its pt-BR columns, and how a line becomes cells."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from eduautismo import resettable
from eduautismo.domain import PlanStatus, Priority, ReviewFrequency
from eduautismo.exports.cells import safe_text
from eduautismo.exports.labels import FREQUENCY_LABELS, PRIORITY_LABELS, STATUS_LABELS

# Excel's last row (1,048,576) holds 1,048,575 data rows under the header.
MAX_EXPORT_ROWS = 1_048_575

BASE_HEADERS = (
    "Prioridade",
    "ID",
    "Título",
    "Descrição",
    "Status",
    "Frequência de revisão",
    "Última revisão",
    "Próxima revisão",
    "Dias em atraso",
    "Profissional",
    "Criado em",
)
STUDENT_HEADER = "Aluno"
PRIORITY_COLUMN = 0

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
    return [*BASE_HEADERS, STUDENT_HEADER] if include_student else list(BASE_HEADERS)


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
