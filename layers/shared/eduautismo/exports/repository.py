"""Every query of the exports feature.

- The ``export_jobs`` table: the audit trail of every export (who, when, which filters, how many rows,
  outcome), the daily quota, and the state of asynchronous jobs.
- The pending-review rows an export holds, read through the plans feature's pending-review query (the
  same scope, filters and order as the page). An export reads only the columns a file shows, through one
  server-side cursor (bounded memory at any size, one consistent snapshot): building a full ORM plan and
  its API model per row costs several times the export itself at 100,000 rows
  (benchmarks/scenarios/exports.py).
- ``csv_query``: the same rows rendered as the CSV shows them, for PostgreSQL's COPY (``copy_csv``). It
  renders every cell as the Python writer does (``write_csv`` with ``RowFormatter``, kept as the oracle;
  tests/exports/test_copy_csv.py compares both byte for byte): pt-BR labels, dd/mm/aaaa dates in the
  organization's timezone, the cell rule of cells.py in SQL, and every empty text as NULL (COPY writes an
  empty string as ``""``, csv.writer as an empty field).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    ScalarSelect,
    Select,
    SQLColumnExpression,
    String,
    case,
    cast,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from eduautismo.clock import local_today, start_of
from eduautismo.db.models import ExportJob, InterventionPlan, Student, User
from eduautismo.domain import ExportFormat, ExportStatus, Priority, Role
from eduautismo.errors import QuotaExceeded
from eduautismo.exports.cells import (
    FORMULA_TRIGGERS,
    LEADING_BLANKS,
    LEADING_CONTROL_TRIGGERS,
    MAX_CELL_CHARS,
    TRUNCATION_MARK,
)
from eduautismo.exports.rows import (
    COLUMNS,
    MAX_EXPORT_ROWS,
    ColumnKind,
    Columns,
    ExportColumn,
    ExportRow,
    columns,
)
from eduautismo.exports.schemas import RowRange
from eduautismo.identity.principal import Principal
from eduautismo.organizations.schemas import LocalDay
from eduautismo.plans.repository import count_pending_review, pending_review_query
from eduautismo.plans.schemas import PendingReviewFilters

# ---- export_jobs ----

MAX_ERROR_CHARS = 500
# Keys of export_jobs.filters that record the requester's scope at request time (beside the request).
SCOPE_KEY = "scope"
ASYNCHRONOUS_KEY = "asynchronous"
UNFINISHED = (ExportStatus.PENDING.value, ExportStatus.RUNNING.value)


def job_scope(role: Role, *, asynchronous: bool) -> dict[str, Any]:
    """What a job records about its requester's scope, for work done later on their behalf and for every
    later link to its file."""
    return {SCOPE_KEY: {"role": role.value}, ASYNCHRONOUS_KEY: asynchronous}


def _recorded_role(job: ExportJob) -> Role | None:
    scope = job.filters.get(SCOPE_KEY)
    raw = scope.get("role") if isinstance(scope, dict) else None
    return Role(raw) if raw in tuple(Role) else None


def requested_role(job: ExportJob) -> Role:
    """The role captured when the job was asked; a job without one gets the least privilege."""
    return _recorded_role(job) or Role.PROFESSIONAL


def narrower_role(requested: Role, current: str) -> Role:
    """Never wider than either: the requested scope, or the user's role now (an unknown one is the least)."""
    if requested is Role.COORDINATOR and current == Role.COORDINATOR.value:
        return Role.COORDINATOR
    return Role.PROFESSIONAL


def scope_covers(current: Role, job: ExportJob) -> bool:
    """Whether a caller whose role is ``current`` now may be handed the job's file again: their scope now
    covers the scope the job was made with. Decided on the recorded scope alone, so it holds for every
    export kind; a job that recorded none is taken as made with the widest (the organization's)."""
    made_with = _recorded_role(job) or Role.COORDINATOR
    return current is Role.COORDINATOR or made_with is Role.PROFESSIONAL


def enforce_one_asynchronous_export(session: Session, user_id: uuid.UUID, started_after: datetime) -> None:
    """One unfinished asynchronous export per user, so that one user cannot hold every export worker.
    Called under the user's row lock taken by ``enforce_daily_quota``; jobs older than
    ``started_after`` are stale (their worker died) and do not count."""
    running = session.scalar(
        select(func.count())
        .select_from(ExportJob)
        .where(
            ExportJob.user_id == user_id,
            ExportJob.status.in_(UNFINISHED),
            ExportJob.created_at >= started_after,
            ExportJob.filters[ASYNCHRONOUS_KEY].as_boolean().is_(True),
        )
    )
    if running:
        raise QuotaExceeded("an export of yours is still running; wait for it to finish")


def enforce_daily_quota(
    session: Session, user_id: uuid.UUID, now: datetime, timezone: str, quota: int
) -> None:
    """At most ``quota`` exports per user per local day (failed ones do not count). The user's row is
    locked so that concurrent requests of one user are counted one after the other."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    start_of_day = start_of(local_today(now, timezone), timezone)
    used = session.scalar(
        select(func.count())
        .select_from(ExportJob)
        .where(
            ExportJob.user_id == user_id,
            ExportJob.created_at >= start_of_day,
            ExportJob.status != ExportStatus.FAILED.value,
        )
    )
    if (used or 0) >= quota:
        raise QuotaExceeded(f"daily export quota of {quota} reached, try again tomorrow")


def create_job(
    session: Session,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    role: Role,
    export_format: ExportFormat,
    request: dict[str, Any],
    status: ExportStatus,
    now: datetime,
    asynchronous: bool = False,
) -> ExportJob:
    """Every export kind records its requester's scope here, so every later link follows it."""
    job = ExportJob(
        organization_id=organization_id,
        user_id=user_id,
        format=export_format.value,
        filters=request | job_scope(role, asynchronous=asynchronous),
        status=status.value,
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def claim_pending(session: Session, job_id: uuid.UUID) -> ExportJob | None:
    """Pending -> running, once: a duplicate delivery of the same job finds nothing to claim."""
    claimed = session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.PENDING.value)
        .values(status=ExportStatus.RUNNING.value)
        .returning(ExportJob.id)
    ).scalar_one_or_none()
    return None if claimed is None else session.get(ExportJob, job_id)


def mark_succeeded(
    session: Session,
    job_id: uuid.UUID,
    *,
    row_count: int,
    size_bytes: int,
    s3_key: str,
    filename: str,
    now: datetime,
) -> bool:
    """Running -> succeeded; False when the job is no longer running (an erasure expired it meanwhile, or
    it was given up as stale): its file must then not be handed out."""
    marked = session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.RUNNING.value)
        .values(
            status=ExportStatus.SUCCEEDED.value,
            row_count=row_count,
            size_bytes=size_bytes,
            s3_key=s3_key,
            filename=filename,
            completed_at=now,
        )
        .returning(ExportJob.id)
    ).scalar_one_or_none()
    return marked is not None


def mark_failed(session: Session, job_id: uuid.UUID, error: str, now: datetime) -> None:
    """An unfinished job failed (an expired one stays expired)."""
    session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status.in_(UNFINISHED))
        .values(status=ExportStatus.FAILED.value, error=error[:MAX_ERROR_CHARS], completed_at=now)
    )


def job_requester(session: Session, job: ExportJob) -> Principal:
    """Who asked for ``job``, with the scope captured then, narrowed if they have been demoted since
    (deleting a user deletes their jobs, so they exist)."""
    user = session.get_one(User, job.user_id)
    return Principal(
        user_id=user.id,
        organization_id=user.organization_id,
        email=user.email,
        name=user.name,
        role=narrower_role(requested_role(job), user.role),
    )


def requester_job(
    session: Session, job_id: uuid.UUID, user_id: uuid.UUID, organization_id: uuid.UUID
) -> ExportJob | None:
    """The job if the caller requested it; anyone else's job is indistinguishable from a missing one."""
    return session.scalar(
        select(ExportJob).where(
            ExportJob.id == job_id,
            ExportJob.user_id == user_id,
            ExportJob.organization_id == organization_id,
        )
    )


# ---- the rows of a pending-review export ----

# Rows fetched per round trip from the server-side cursor.
EXPORT_BATCH_SIZE = 5_000


def in_range(statement: Select[Any], row_range: RowRange) -> Select[Any]:
    """The ordered ``statement`` cut to the range, never beyond Excel's row limit."""
    return statement.offset(row_range.skip or None).limit(row_range.limit or MAX_EXPORT_ROWS)


def _names_by_id(principal: Principal, name: SQLColumnExpression[str]) -> ScalarSelect[Any]:
    """The organization's names, ``name`` of each user, in one jsonb map (an InitPlan, run once), read per
    row by the plan's professional_id: a correlated lookup per row cost more than the whole raw COPY."""
    return (
        select(func.jsonb_object_agg(cast(User.id, String), name))
        .where(User.organization_id == principal.organization_id)
        .scalar_subquery()
    )


def derived_values(window: LocalDay, names_by_id: ScalarSelect[Any]) -> dict[str, SQLColumnExpression[Any]]:
    """The values a column may show besides the plan's own columns (``rows.ExportColumn.field``), by
    name. A professional of another organization is not in the map: no name."""
    professional_name = names_by_id.op("->>", return_type=String)(
        cast(InterventionPlan.professional_id, String)
    )
    values: dict[str, SQLColumnExpression[Any]] = {
        "professional_name": professional_name,
        "student_name": Student.full_name,
        "days_overdue": func.greatest(literal(window.today, Date) - InterventionPlan.next_review_due, 0),
    }
    return values


def _stored(column: ExportColumn, derived: dict[str, SQLColumnExpression[Any]]) -> SQLColumnExpression[Any]:
    """What ``column`` shows, as stored: a derived value, else the plan's column of that name."""
    found = derived.get(column.field)
    if found is not None:
        return found
    plan_column: SQLColumnExpression[Any] = getattr(InterventionPlan, column.field)
    return plan_column


def export_statement(
    principal: Principal,
    filters: PendingReviewFilters,
    window: LocalDay,
    include_student: bool,
    row_range: RowRange = RowRange(),
    base: Columns = COLUMNS,
) -> Select[Any]:
    """The pending-review query reading, per row, the stored value of each column of the file in the
    table's order (labelled by field), cut to the range."""
    derived = derived_values(window, _names_by_id(principal, User.name))
    values: list[SQLColumnExpression[Any]] = [
        _stored(column, derived).label(column.field) for column in columns(include_student, base)
    ]
    statement = pending_review_query(principal, filters, window, include_student).with_only_columns(*values)
    return in_range(statement, row_range)


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
            selected = in_range(statement, self.row_range).subquery()
        counts = dict.fromkeys(Priority, 0)
        grouped = select(selected.c.priority, func.count()).group_by(selected.c.priority)
        for priority, count in self.session.execute(grouped):
            counts[Priority(priority)] = count
        return counts

    def rows(self, include_student: bool, base: Columns = COLUMNS) -> Iterator[ExportRow]:
        """The rows of the range in the page order, at most Excel's row limit: the stored values of
        ``columns(include_student, base)``, which ``rows.RowFormatter`` turns into cells."""
        statement = export_statement(
            self.principal, self.filters, self.window, include_student, self.row_range, base
        )
        yield from self.session.execute(statement.execution_options(yield_per=EXPORT_BATCH_SIZE))


# ---- the rows as the CSV shows them (COPY) ----

# Step 1 of the rule: PostgreSQL text never holds NUL or surrogates, so the rest of the class is left.
_XML_ILLEGAL_CLASS = "[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
# Step 2: an empty match at the start when the text needs the apostrophe. '-' goes last in the brackets.
_TRIGGERS = FORMULA_TRIGGERS.replace("-", "") + "-"
_STARTS_LIKE_FORMULA = f"^(?=[{LEADING_CONTROL_TRIGGERS}]|[{LEADING_BLANKS}]*[{_TRIGGERS}])"
# A text with neither an illegal character nor a suspicious first one passes as it is (the common case:
# one match instead of two replacements).
_MAY_NEED_THE_RULE = f"{_XML_ILLEGAL_CLASS}|^[{LEADING_BLANKS}{_TRIGGERS}]"


@dataclass(frozen=True)
class CsvQuery:
    """What ``copy_csv`` runs: the statement, the settings its cells are rendered under, its columns."""

    statement: Select[Any]
    timezone: str
    columns: Columns


def _cell_text(value: SQLColumnExpression[Any]) -> ColumnElement[str]:
    """Steps 1 and 2 of cells.py's rule (step 3, the cut, reads the result three times: one level up).
    ``value`` is read up to three times: a column, never a subquery."""
    cleaned = func.regexp_replace(value, _XML_ILLEGAL_CLASS, "", "g")
    ruled = func.regexp_replace(cleaned, _STARTS_LIKE_FORMULA, "'")
    return case((value.op("~")(_MAY_NEED_THE_RULE), ruled), else_=value)


def _cut(value: ColumnElement[Any]) -> ColumnElement[str]:
    """Step 3, then NULL for an empty text (csv.writer's empty field). Counting characters scans the text;
    its size in bytes is known, and a text of no more bytes than the limit has no more characters (CASE
    tests in order: the count is made only for the rare large text)."""
    kept = MAX_CELL_CHARS - len(TRUNCATION_MARK)
    long_text = func.left(value, kept) + literal(TRUNCATION_MARK)
    cut = case(
        (func.octet_length(value) <= MAX_CELL_CHARS, value),
        (func.char_length(value) > MAX_CELL_CHARS, long_text),
        else_=value,
    )
    return func.nullif(cut, "")


def _label(column: SQLColumnExpression[Any], labels: Mapping[Any, str]) -> ColumnElement[str]:
    return case({str(value): label for value, label in labels.items()}, value=column)


def _local_date(instant: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """The instant's date in the organization's timezone, written dd/mm/aaaa (see ``_COPY_SETTINGS``)."""
    return cast(instant, Date)


# Texts the COPY statement reads already cleaned (the professionals' names: once per user, in the map).
_CLEANED_TEXTS = frozenset({"professional_name"})


def _inner_cell(column: ExportColumn, stored: SQLColumnExpression[Any]) -> SQLColumnExpression[Any]:
    """The inner query's cell of ``column``: its stored value rendered by the column's kind."""
    if column.kind is ColumnKind.LABEL:
        return _label(stored, column.labels or {})
    if column.kind is ColumnKind.ID:
        return cast(stored, String)
    if column.kind is ColumnKind.TEXT:
        return stored if column.field in _CLEANED_TEXTS else _cell_text(stored)
    if column.kind is ColumnKind.LOCAL_DATE:
        return _local_date(stored)
    return stored  # DATE (DateStyle writes dd/mm/aaaa) and COUNT


def csv_query(
    principal: Principal,
    filters: PendingReviewFilters,
    window: LocalDay,
    include_student: bool,
    row_range: RowRange,
    base: Columns = COLUMNS,
) -> CsvQuery:
    """The rows of ``export_statement`` as the CSV shows them, in the page order.

    The inner query (ordered and cut, so PostgreSQL never merges it into the outer one) cleans each text
    once; the outer one only cuts long texts, keeping the inner order (a plain scan of a subquery)."""
    derived = derived_values(window, _names_by_id(principal, _cell_text(User.name)))
    shown_columns = columns(include_student, base)
    cells: list[SQLColumnExpression[Any]] = [
        _inner_cell(column, _stored(column, derived)).label(column.field) for column in shown_columns
    ]
    shown = pending_review_query(principal, filters, window, include_student).with_only_columns(*cells)
    row = in_range(shown, row_range).subquery("export_row").c
    outer = [
        _cut(row[column.field]) if column.kind is ColumnKind.TEXT else row[column.field]
        for column in shown_columns
    ]
    return CsvQuery(select(*outer), window.timezone, shown_columns)
