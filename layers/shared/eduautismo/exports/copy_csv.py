"""CSV exports produced by PostgreSQL: ``COPY (SELECT …) TO STDOUT`` streamed straight into storage.

The SELECT renders every cell as the Python writer does (``write_csv`` with ``RowFormatter``, kept as the
oracle; tests/exports/test_copy_csv.py compares both byte for byte): pt-BR labels, dd/mm/aaaa dates in the
organization's timezone, the cell rule of cells.py in SQL, and every empty text as NULL (COPY writes an
empty string as ``""``, csv.writer as an empty field). COPY ends records with LF where csv.writer writes
CRLF: ``CrlfRecords`` rewrites the terminators outside quoted fields as the bytes stream through.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    SQLColumnExpression,
    String,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from eduautismo.db.models import InterventionPlan, Student, User
from eduautismo.exports.cells import (
    FORMULA_TRIGGERS,
    LEADING_BLANKS,
    LEADING_CONTROL_TRIGGERS,
    MAX_CELL_CHARS,
    TRUNCATION_MARK,
)
from eduautismo.exports.labels import FREQUENCY_LABELS, PRIORITY_LABELS, STATUS_LABELS
from eduautismo.exports.rows import headers
from eduautismo.exports.source import RowRange
from eduautismo.exports.writers import Delimiter
from eduautismo.identity.principal import Principal
from eduautismo.organizations.schemas import LocalDay
from eduautismo.plans.repository import pending_review_query
from eduautismo.plans.schemas import PendingReviewFilters

# Step 1 of the rule: PostgreSQL text never holds NUL or surrogates, so the rest of the class is left.
_XML_ILLEGAL_CLASS = "[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
# Step 2: an empty match at the start when the text needs the apostrophe. '-' goes last in the brackets.
_TRIGGERS = FORMULA_TRIGGERS.replace("-", "") + "-"
_STARTS_LIKE_FORMULA = f"^(?=[{LEADING_CONTROL_TRIGGERS}]|[{LEADING_BLANKS}]*[{_TRIGGERS}])"
# A text with neither an illegal character nor a suspicious first one passes as it is (the common case:
# one match instead of two replacements).
_MAY_NEED_THE_RULE = f"{_XML_ILLEGAL_CLASS}|^[{LEADING_BLANKS}{_TRIGGERS}]"
# Set for the COPY's transaction only: dates written as dd/mm/aaaa by PostgreSQL's own date output, and
# instants turned into the organization's dates by a plain cast (both far cheaper per row than to_char and
# AT TIME ZONE); JIT off, as its compiling costs more than these cheap expressions (~0.5 s at 100k rows);
# no parallel workers: they made PostgreSQL format every row, sort the formatted rows (on disk) and only
# then send the first one, where the plan in index order streams and formats while the client writes
# (1.7x the raw COPY + PUT with the bench's data set, against 1.3x).
_COPY_SETTINGS = (
    "SELECT set_config('TimeZone', %s, true), set_config('DateStyle', 'SQL, DMY', true), "
    "set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)"
)


@dataclass(frozen=True)
class CsvQuery:
    """What ``copy_csv`` runs: the statement and the settings its cells are rendered under."""

    statement: Select[Any]
    timezone: str
    include_student: bool


class ByteSink(Protocol):
    def write(self, data: bytes) -> Any: ...


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


def _label(column: SQLColumnExpression[Any], labels: dict[Any, str]) -> ColumnElement[str]:
    return case({member.value: label for member, label in labels.items()}, value=column)


def _local_date(instant: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """The instant's date in the organization's timezone, written dd/mm/aaaa (see ``_COPY_SETTINGS``)."""
    return cast(instant, Date)


def csv_query(
    principal: Principal,
    filters: PendingReviewFilters,
    window: LocalDay,
    include_student: bool,
    row_range: RowRange,
) -> CsvQuery:
    """The rows of ``source.export_statement`` as the CSV shows them, in the page order.

    The inner query (ordered and cut, so PostgreSQL never merges it into the outer one) cleans each text
    once; the outer one only cuts long texts, keeping the inner order (a plain scan of a subquery)."""
    # The organization's names, cleaned once per user into one jsonb map (an InitPlan, run once), read per
    # row by the plan's professional_id: a correlated lookup per row cost more than the whole raw COPY.
    # A professional of another organization is not in the map: no name.
    names_by_id = (
        select(func.jsonb_object_agg(cast(User.id, String), _cell_text(User.name)))
        .where(User.organization_id == principal.organization_id)
        .scalar_subquery()
    )
    professional_name = names_by_id.op("->>", return_type=String)(
        cast(InterventionPlan.professional_id, String)
    )
    texts: dict[str, SQLColumnExpression[Any]] = {
        "title": _cell_text(InterventionPlan.title),
        "description": _cell_text(InterventionPlan.description),
        "professional": professional_name,
    }
    if include_student:
        texts["student"] = _cell_text(Student.full_name)
    overdue = func.greatest(literal(window.today, Date) - InterventionPlan.next_review_due, 0)
    cells: list[SQLColumnExpression[Any]] = [
        _label(InterventionPlan.priority, PRIORITY_LABELS).label("priority"),
        cast(InterventionPlan.id, String).label("id"),
        *(value.label(name) for name, value in texts.items()),
        _label(InterventionPlan.status, STATUS_LABELS).label("status"),
        _label(InterventionPlan.review_frequency, FREQUENCY_LABELS).label("frequency"),
        _local_date(InterventionPlan.last_reviewed_at).label("last_reviewed"),
        InterventionPlan.next_review_due.label("next_review"),
        overdue.label("overdue"),
        _local_date(InterventionPlan.created_at).label("created"),
    ]
    shown = pending_review_query(principal, filters, window, include_student).with_only_columns(*cells)
    inner = row_range.applied(shown).subquery("export_row")
    row = inner.c
    columns = [
        row.priority,
        row.id,
        _cut(row.title),
        _cut(row.description),
        row.status,
        row.frequency,
        row.last_reviewed,
        row.next_review,
        row.overdue,
        _cut(row.professional),
        row.created,
    ]
    if include_student:
        columns.append(_cut(row.student))
    return CsvQuery(select(*columns), window.timezone, include_student)


def header_bytes(include_student: bool, delimiter: Delimiter) -> bytes:
    """The BOM and the header line exactly as ``write_csv`` writes them."""
    line = io.StringIO()
    csv.writer(line, delimiter=delimiter).writerow(headers(include_student))
    return codecs.BOM_UTF8 + line.getvalue().encode()


class CrlfRecords:
    """Passes COPY's CSV bytes on with CRLF record terminators; a LF inside a quoted field is data and
    stays. Quotes toggle the state (an escaped quote ``""`` toggles it twice), across writes. Writes are
    gathered into chunks: pg8000 writes once per row."""

    CHUNK_BYTES = 1 << 20

    def __init__(self, sink: ByteSink) -> None:
        self.sink = sink
        self.pending = bytearray()
        self.in_quotes = False

    def write(self, data: bytes) -> None:
        self.pending += data
        if len(self.pending) >= self.CHUNK_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        pieces = bytes(self.pending).split(b'"')
        self.pending.clear()
        for index, piece in enumerate(pieces):
            if index:
                self.in_quotes = not self.in_quotes
            if not self.in_quotes:
                pieces[index] = piece.replace(b"\n", b"\r\n")
        self.sink.write(b'"'.join(pieces))


def copy_csv(session: Session, query: CsvQuery, delimiter: Delimiter, sink: ByteSink) -> int:
    """Write the whole CSV file (BOM, header, rows) into ``sink``; return the rows written.

    COPY takes no bind parameters: the statement is rendered with its values inline (typed values:
    ids, dates, enums and the organization's timezone, escaped by SQLAlchemy)."""
    dialect = session.get_bind().dialect
    compiled = query.statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    copy = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')"
    sink.write(header_bytes(query.include_student, delimiter))
    records = CrlfRecords(sink)
    # pg8000's own cursor: COPY OUT writes into ``stream`` (a pg8000 extension of the DBAPI).
    cursor: Any = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_COPY_SETTINGS, (query.timezone,))
        cursor.execute(copy, stream=records)
        records.flush()
        return int(cursor.rowcount)
    finally:
        cursor.close()
