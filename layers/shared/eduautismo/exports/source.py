"""Rows of an export, read through the plans feature's pending-review query (the same scope, filters
and order as the pending-review page), plus the professionals' names the files show."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from eduautismo.db.models import User
from eduautismo.domain import Priority
from eduautismo.exports.rows import MAX_EXPORT_ROWS, ExportRow
from eduautismo.identity.principal import Principal
from eduautismo.plans.pending_review import (
    PendingReviewFilters,
    PendingReviewWindow,
    count_pending_review,
    iter_pending_review,
)

EXPORT_BATCH_SIZE = 5_000


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

    def count_by_priority(self) -> dict[Priority, int]:
        wanted = [self.filters.priority] if self.filters.priority else list(Priority)
        counts = dict.fromkeys(Priority, 0)
        for priority in wanted:
            only = self.filters.model_copy(update={"priority": priority})
            counts[priority] = count_pending_review(self.session, self.principal, only, self.window)
        return counts

    def _professional_names(self) -> dict[object, str]:
        statement = select(User.id, User.name).where(User.organization_id == self.principal.organization_id)
        return {user_id: name for user_id, name in self.session.execute(statement)}

    def rows(self, include_student: bool) -> Iterator[ExportRow]:
        """Every matching row in the page order, at most Excel's row limit, read in batches."""
        names = self._professional_names()
        plans = iter_pending_review(
            self.session,
            self.principal,
            self.filters,
            self.window,
            include_student=include_student,
            batch_size=EXPORT_BATCH_SIZE,
        )
        for plan in itertools.islice(plans, MAX_EXPORT_ROWS):
            yield ExportRow(
                id=plan.id,
                priority=plan.priority,
                title=plan.title,
                description=plan.description,
                status=plan.status,
                review_frequency=plan.review_frequency,
                last_reviewed_at=plan.last_reviewed_at,
                next_review_due=plan.next_review_due,
                days_overdue=plan.days_overdue,
                professional_name=names.get(plan.professional_id, ""),
                created_at=plan.created_at,
                student_name=plan.student.full_name if plan.student else None,
            )
