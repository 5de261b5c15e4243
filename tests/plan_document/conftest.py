"""Fixtures of the plan document: a school with a student, plans and review histories written straight
to the database, the document's call, and readers of the stored PDF (pypdf for text, pdftoppm for
pixels)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock
from eduautismo.db.models import ExportJob, InterventionPlan, PlanReview
from eduautismo.domain import ReviewFrequency, Role, next_review_due
from tests.exports.conftest import BUCKET, s3  # noqa: F401 - the exports' S3 fixture, reused
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory

TIMEZONE = "America/Sao_Paulo"
NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
TODAY = date(2026, 12, 4)


def document_path(student_id: uuid.UUID | str) -> str:
    return f"/api/v1/students/{student_id}/plan-document"


def plan_document(actor: Actor, student_id: uuid.UUID | str, **query: object) -> ApiResponse:
    encoded = {
        name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in query.items()
    }
    return call_api("GET", document_path(student_id), claims=actor.claims, query=encoded)


@dataclass
class School:
    coordinator: Actor
    professional: Actor
    other_professional: Actor
    org_id: uuid.UUID


def school(factory: Factory, name: str = "Escola Raio de Sol") -> School:
    org = factory.organization(name=name, timezone=TIMEZONE)
    return School(
        coordinator=factory.user(org, Role.COORDINATOR, name="Coordenadora Marta"),
        professional=factory.user(org, name="Terapeuta Paulo"),
        other_professional=factory.user(org, name="Professora Lúcia"),
        org_id=org,
    )


@pytest.fixture
def clock_at_now(set_now: Callable[[datetime], FixedClock]) -> datetime:
    """The API's clock at NOW (4 Dec 2026, 12:00 in São Paulo) for the whole test."""
    set_now(NOW)
    return NOW


@pytest.fixture
def place(factory: Factory) -> School:
    """The school most tests use (Escola Raio de Sol), with its coordinator and two professionals."""
    return school(factory)


@pytest.fixture
def helena(factory: Factory, place: School) -> uuid.UUID:
    """A student of ``place``: Helena Costa."""
    return factory.student(place.org_id, "Helena Costa")


def record_reviews(
    engine: Engine,
    plan: InterventionPlan,
    reviewer: Actor,
    moments: Iterable[datetime],
    notes: str = "Nota {n}",
) -> None:
    """Reviews of ``plan`` at ``moments`` (note ``n`` numbered in time order); the plan's last review and
    due date follow, as the API keeps them."""
    with Session(engine) as session:
        session.add_all(
            PlanReview(
                plan_id=plan.id, reviewer_id=reviewer.user_id, reviewed_at=moment, notes=notes.format(n=n)
            )
            for n, moment in enumerate(sorted(moments))
        )
        session.flush()
        last = session.scalar(select(func.max(PlanReview.reviewed_at)).where(PlanReview.plan_id == plan.id))
        due = next_review_due(ReviewFrequency(plan.review_frequency), plan.start_date, last, TIMEZONE)
        session.execute(
            update(InterventionPlan)
            .where(InterventionPlan.id == plan.id)
            .values(last_reviewed_at=last, next_review_due=due)
        )
        session.commit()


def jobs_of(engine: Engine, actor: Actor) -> list[ExportJob]:
    with Session(engine) as session:
        statement = select(ExportJob).where(ExportJob.user_id == actor.user_id).order_by(ExportJob.created_at)
        return list(session.scalars(statement))


def stored_pdf(client: Any, engine: Engine, actor: Actor) -> bytes:
    """The PDF of the actor's latest export, as stored in S3."""
    key = jobs_of(engine, actor)[-1].s3_key
    return bytes(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def page_texts(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def render_page(content: bytes, page: int, resolution: int = 60) -> Image.Image:
    """One page as pixels, drawn by poppler's pdftoppm (Debian's poppler-utils, installed by make)."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: make test installs Debian's poppler-utils"
    with tempfile.TemporaryDirectory(prefix="plan-document-test-") as directory:
        source = Path(directory) / "document.pdf"
        source.write_bytes(content)
        subprocess.run(
            [
                pdftoppm,
                "-r",
                str(resolution),
                "-png",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(source),
                str(Path(directory) / "page"),
            ],
            check=True,
            capture_output=True,
        )
        with Image.open(Path(directory) / "page.png") as image:
            return image.convert("RGB")
