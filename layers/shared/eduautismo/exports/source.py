"""Rows of an export, read through the plans feature's pending-review query (the same scope, filters
and order as the pending-review page).

The export reads only the columns a file shows, through one server-side cursor (bounded memory at any
size, one consistent snapshot): building a full ORM plan and its API model per row costs several times
the export itself at 100,000 rows (benchmarks/scenarios/exports.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from eduautismo.db.models import InterventionPlan, Student, User
from eduautismo.domain import PlanStatus, Priority, ReviewFrequency, days_overdue
from eduautismo.exports.rows import MAX_EXPORT_ROWS, ExportRow
from eduautismo.identity.principal import Principal
from eduautismo.organizations.schemas import LocalDay
from eduautismo.plans.repository import count_pending_review, pending_review_query
from eduautismo.plans.schemas import PendingReviewFilters

# Rows fetched per round trip from the server-side cursor.
EXPORT_BATCH_SIZE = 5_000

_EXPORTED_COLUMNS = (
    InterventionPlan.id,
    InterventionPlan.priority,
    InterventionPlan.title,
    InterventionPlan.description,
    InterventionPlan.status,
    InterventionPlan.review_frequency,
    InterventionPlan.last_reviewed_at,
    InterventionPlan.next_review_due,
    InterventionPlan.professional_id,
    InterventionPlan.created_at,
)


@dataclass(frozen=True)
class RowRange:
    """Which part of the matching list an export holds (seed §4.3): ``skip`` rows left out, then at most
    ``limit`` rows; without a limit, all the rest."""

    skip: int = 0
    limit: int | None = None

    @property
    def is_whole_list(self) -> bool:
        return self.skip == 0 and self.limit is None

    def rows_of(self, matching: int) -> int:
        """How many of ``matching`` rows the range holds."""
        remaining = max(matching - self.skip, 0)
        return remaining if self.limit is None else min(remaining, self.limit)

    def applied(self, statement: Select[Any]) -> Select[Any]:
        """The ordered ``statement`` cut to the range, never beyond Excel's row limit."""
        return statement.offset(self.skip or None).limit(self.limit or MAX_EXPORT_ROWS)


def export_statement(
    principal: Principal,
    filters: PendingReviewFilters,
    window: LocalDay,
    include_student: bool,
    row_range: RowRange = RowRange(),
) -> Select[Any]:
    """The pending-review query reading only what the file shows, cut to the range."""
    columns = (*_EXPORTED_COLUMNS, Student.full_name) if include_student else _EXPORTED_COLUMNS
    statement = pending_review_query(principal, filters, window, include_student).with_only_columns(*columns)
    return row_range.applied(statement)


# Stored value -> member, by dict: calling the enum per cell is a measurable share of a large export.
_PRIORITIES = {member.value: member for member in Priority}
_STATUSES = {member.value: member for member in PlanStatus}
_FREQUENCIES = {member.value: member for member in ReviewFrequency}


class PendingRows:
    def __init__(
        self,
        session: Session,
        principal: Principal,
        filters: PendingReviewFilters,
        window: LocalDay,
        row_range: RowRange = RowRange(),
    ) -> None:
        self.session = session
        self.principal = principal
        self.filters = filters
        self.window = window
        self.row_range = row_range

    def count(self) -> int:
        """The rows the export holds: the matching plans, cut to the range."""
        return self.row_range.rows_of(
            count_pending_review(self.session, self.principal, self.filters, self.window)
        )

    def count_by_priority(self) -> dict[Priority, int]:
        """The rows the export holds by priority, in one grouped query (ordered only when a range cuts it)."""
        statement = pending_review_query(self.principal, self.filters, self.window, False).with_only_columns(
            InterventionPlan.priority
        )
        if self.row_range.is_whole_list:
            selected = statement.order_by(None).subquery()
        else:
            selected = self.row_range.applied(statement).subquery()
        counts = dict.fromkeys(Priority, 0)
        grouped = select(selected.c.priority, func.count()).group_by(selected.c.priority)
        for priority, count in self.session.execute(grouped):
            counts[_PRIORITIES[priority]] = count
        return counts

    def _professional_names(self) -> dict[uuid.UUID, str]:
        statement = select(User.id, User.name).where(User.organization_id == self.principal.organization_id)
        return {user_id: name for user_id, name in self.session.execute(statement)}

    def rows(self, include_student: bool) -> Iterator[ExportRow]:
        """The rows of the range in the page order, at most Excel's row limit."""
        names = self._professional_names()
        statement = export_statement(
            self.principal, self.filters, self.window, include_student, self.row_range
        )
        statement = statement.execution_options(yield_per=EXPORT_BATCH_SIZE)
        today = self.window.today
        for line in self.session.execute(statement):
            yield ExportRow(
                id=line.id,
                priority=_PRIORITIES[line.priority],
                title=line.title,
                description=line.description,
                status=_STATUSES[line.status],
                review_frequency=_FREQUENCIES[line.review_frequency],
                last_reviewed_at=line.last_reviewed_at,
                next_review_due=line.next_review_due,
                days_overdue=days_overdue(line.next_review_due, today),
                professional_name=names.get(line.professional_id, ""),
                created_at=line.created_at,
                student_name=line.full_name if include_student else None,
            )
