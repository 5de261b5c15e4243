"""The CSV made by PostgreSQL COPY holds the very bytes the Python writer (the oracle) writes for the
same rows: labels, dates, the cell rule of cells.py, quoting, line ends, skip/limit and both delimiters."""

from __future__ import annotations

import io
import random
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.domain import Priority, ReviewFrequency, Role
from eduautismo.exports.cells import MAX_CELL_CHARS
from eduautismo.exports.copy_csv import copy_csv
from eduautismo.exports.repository import PendingRows, csv_query
from eduautismo.exports.rows import RowFormatter
from eduautismo.exports.schemas import RowRange
from eduautismo.exports.writers import Delimiter, write_csv
from eduautismo.organizations.schemas import LocalDay
from eduautismo.plans.schemas import PendingReviewFilters
from eduautismo.settings import get_settings
from tests.support.factories import Actor, Factory

TIMEZONE = "America/Sao_Paulo"
TODAY = date(2026, 11, 24)

# Texts that exercise every branch of the cell rule and of CSV quoting.
TRICKY_TEXTS = [
    "=SUM(A1:A9)",
    "+55 11 9999",
    "-2",
    "@cmd",
    "   =espaços antes",
    "\t=tab antes",
    "\u00a0=NBSP antes",
    "\uff1dfull-width igual",
    "\uff0b",
    "\uff0d1",
    "\uff20x",
    "\u200b=ZWSP antes",
    "\ufeff+BOM antes",
    "\tcomeça com tab",
    "\ncomeça com LF",
    "\r\ncomeça com CRLF",
    'aspas "duplas" no meio',
    '"',
    "vírgula, no meio",
    "ponto; e vírgula",
    "linha 1\nlinha 2",
    "linha 1\r\nlinha 2\r\n",
    "só CR\rno meio e no fim\r",
    'aspas no fim, depois de LF\n"',
    "acentuação: ção, ã, é, ü; emoji 🧩🙂",
    "",
    "controles\x01\x08\x0b\x0c\x0e\x1f no meio",
    "\x01=depois de controle",
    "\x01\x02",
    " espaço nas pontas ",
    "texto normal",
    "x" * (MAX_CELL_CHARS + 10),
    "=" + "y" * (MAX_CELL_CHARS - 1),
    "z" * MAX_CELL_CHARS,
    # More bytes than the limit, but not more characters (kept), and one character more (cut).
    "ç" * MAX_CELL_CHARS,
    "é" * (MAX_CELL_CHARS + 1),
    "\ufffe\uffff não-caracteres",
]


@pytest.fixture
def tricky_organization(factory: Factory) -> tuple[Actor, Actor, uuid.UUID]:
    """A coordinator and a professional whose name needs the apostrophe; one pending plan per tricky text
    as description, and (cut to the columns' 200 characters) as title and student name; every fourth plan
    reviewed (a date in the last-review column). Returns the coordinator, the professional and the
    last student."""
    organization = factory.organization(timezone=TIMEZONE)
    coordinator = factory.user(organization, Role.COORDINATOR, name="Coordenação")
    professional = factory.user(organization, Role.PROFESSIONAL, name='=Ana; "Souza"')
    other = factory.user(organization, Role.PROFESSIONAL, name="Bruno, o outro")
    for index, text in enumerate(TRICKY_TEXTS):
        student = factory.student(organization, full_name=TRICKY_TEXTS[-index - 1][:200] or "Aluno")
        factory.plan(
            professional if index % 2 else other,
            student_id=student,
            title=text[:200],
            description=TRICKY_TEXTS[-index - 1],
            priority=("high", "medium", "low")[index % 3],
            review_frequency=("daily", "weekly", "biweekly", "monthly", "quarterly")[index % 5],
            start_date=TODAY - timedelta(days=120 + index),
            last_reviewed_at=datetime(2026, 7, 1, 2, 30, tzinfo=UTC) if index % 4 == 0 else None,
            created_at=datetime(2026, 8, 1, 1, 0, tzinfo=UTC) + timedelta(hours=index * 7),
        )
    return coordinator, professional, student


def _both_paths(
    db: Engine,
    actor: Actor,
    include_student: bool,
    delimiter: Delimiter,
    row_range: RowRange,
    filters: PendingReviewFilters = PendingReviewFilters(),
) -> tuple[bytes, bytes, int, int]:
    principal = actor.principal
    window = LocalDay(
        TODAY, TIMEZONE, due_horizon=TODAY + timedelta(days=get_settings().review_due_soon_days)
    )
    with Session(db) as session, tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "oracle.csv"
        rows = PendingRows(session, principal, filters, window, row_range).rows(include_student)
        tally = write_csv(rows, path, RowFormatter(TIMEZONE, include_student), delimiter)
        oracle = path.read_bytes()
    with Session(db) as session:
        produced = io.BytesIO()
        query = csv_query(principal, filters, window, include_student, row_range)
        copied = copy_csv(session, query, delimiter, produced)
    return oracle, produced.getvalue(), tally.total, copied


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("include_student", [False, True])
@pytest.mark.parametrize("row_range", [RowRange(), RowRange(skip=3, limit=20)], ids=["whole", "range"])
def test_copy_csv_bytes_equal_the_python_writer(
    db: Engine,
    tricky_organization: tuple[Actor, Actor, uuid.UUID],
    delimiter: Delimiter,
    include_student: bool,
    row_range: RowRange,
) -> None:
    # Given pending plans full of formula triggers, quotes, delimiters, line breaks, controls and long texts
    coordinator, _, _ = tricky_organization
    # When both paths export them
    oracle, produced, oracle_rows, copied_rows = _both_paths(
        db, coordinator, include_student, delimiter, row_range
    )
    # Then the bytes and the row counts are the same
    assert oracle_rows == row_range.rows_of(len(TRICKY_TEXTS))
    assert copied_rows == oracle_rows
    assert produced == oracle


def test_copy_csv_keeps_a_professional_to_their_own_plans(
    db: Engine, tricky_organization: tuple[Actor, Actor, uuid.UUID]
) -> None:
    # Given a professional who owns half of the plans
    _, professional, _ = tricky_organization
    # When both paths export as that professional
    oracle, produced, oracle_rows, copied_rows = _both_paths(db, professional, True, ";", RowRange())
    # Then only their plans are in the file, the same bytes on both paths
    assert copied_rows == oracle_rows == len(TRICKY_TEXTS) // 2
    assert produced == oracle


@pytest.mark.parametrize(
    "chosen",
    [
        {"priority": Priority.HIGH, "overdue_only": True},
        {"professional": True, "review_frequency": ReviewFrequency.WEEKLY},
        {"date_from": date(2026, 8, 2), "date_to": date(2026, 8, 5)},
        {"student": True},
    ],
    ids=["priority-overdue", "professional-frequency", "dates", "student"],
)
def test_copy_csv_applies_the_filters_as_the_python_writer_does(
    db: Engine, tricky_organization: tuple[Actor, Actor, uuid.UUID], chosen: dict[str, object]
) -> None:
    # Given the tricky plans and filters of every kind (ids, enums, dates, flags inlined into the COPY)
    coordinator, professional, student = tricky_organization
    values = {name: value for name, value in chosen.items() if name not in ("professional", "student")}
    if chosen.get("professional"):
        values["professional_id"] = professional.user_id
    if chosen.get("student"):
        values["student_id"] = student
    filters = PendingReviewFilters.model_validate(values)
    # When both paths export with them
    oracle, produced, oracle_rows, copied_rows = _both_paths(db, coordinator, True, ",", RowRange(), filters)
    # Then the filters kept some plans but not all, the same ones in the same bytes
    assert 0 < oracle_rows < len(TRICKY_TEXTS)
    assert copied_rows == oracle_rows
    assert produced == oracle


# Every character class the rule or CSV quoting treats apart, plus plain text.
FUZZ_ALPHABET = "aZ9 ,;\"'\t\n\r\x01\x0b\x1f\x85\xa0\u2028\u3000\u200b\ufeff=+-@\uff1d\uff0b\uff0d\uff20é🧩\\"


def test_copy_csv_bytes_equal_the_python_writer_over_random_texts(factory: Factory, db: Engine) -> None:
    # Given plans whose titles, descriptions and professional names are random strings of tricky characters
    generator = random.Random(20261126)
    organization = factory.organization(timezone=TIMEZONE)
    coordinator = factory.user(organization, Role.COORDINATOR)

    def text(size: int) -> str:
        return "".join(generator.choice(FUZZ_ALPHABET) for _ in range(generator.randint(0, size)))

    for _ in range(12):
        professional = factory.user(organization, Role.PROFESSIONAL, name=text(8) or "Ana")
        for _ in range(10):
            factory.plan(
                professional,
                title=text(10),
                description=text(16),
                start_date=TODAY - timedelta(days=generator.randint(30, 90)),
            )
    # When both paths export them, with each delimiter
    for delimiter in (",", ";"):
        oracle, produced, oracle_rows, copied_rows = _both_paths(
            db, coordinator, False, delimiter, RowRange()
        )
        # Then the bytes are the same
        assert copied_rows == oracle_rows == 120
        assert produced == oracle
