"""Rows of an export, read through the plans feature's pending-review query (the same scope, filters
and order as the pending-review page).

The export reads only the columns a file shows, through one server-side cursor (bounded memory at any
size, one consistent snapshot): building a full ORM plan and its API model per row costs several times
the export itself at 100,000 rows (benchmarks/scenarios/exports.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from eduautismo.db.models import InterventionPlan, Student, User
from eduautismo.domain import PlanStatus, Priority, ReviewFrequency, days_overdue
from eduautismo.exports.rows import MAX_EXPORT_ROWS, ExportRow
from eduautismo.identity.principal import Principal
from eduautismo.plans.pending_review import (
    PendingReviewFilters,
    PendingReviewWindow,
    count_pending_review,
    pending_review_query,
)

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


def export_statement(
    principal: Principal, filters: PendingReviewFilters, window: PendingReviewWindow, include_student: bool
) -> Select[Any]:
    """The pending-review query reading only what the file shows, at most Excel's row limit."""
    columns = (*_EXPORTED_COLUMNS, Student.full_name) if include_student else _EXPORTED_COLUMNS
    return (
        pending_review_query(principal, filters, window, include_student)
        .with_only_columns(*columns)
        .limit(MAX_EXPORT_ROWS)
    )


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
        window: PendingReviewWindow,
    ) -> None:
        self.session = session
        self.principal = principal
        self.filters = filters
        self.window = window

    def count(self) -> int:
        return count_pending_review(self.session, self.principal, self.filters, self.window)

    def count_by_priority(self) -> dict[Priority, int]:
        wanted = [self.filters.priority] if self.filters.priority else list(Priority)
        counts = dict.fromkeys(Priority, 0)
        for priority in wanted:
            only = self.filters.model_copy(update={"priority": priority})
            counts[priority] = count_pending_review(self.session, self.principal, only, self.window)
        return counts

    def _professional_names(self) -> dict[uuid.UUID, str]:
        statement = select(User.id, User.name).where(User.organization_id == self.principal.organization_id)
        return {user_id: name for user_id, name in self.session.execute(statement)}

    def rows(self, include_student: bool) -> Iterator[ExportRow]:
        """Every matching row in the page order, at most Excel's row limit."""
        names = self._professional_names()
        statement = export_statement(self.principal, self.filters, self.window, include_student)
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
