"""A front-end team generates its client from openapi.json: a standard generator (openapi-python-client,
installed, no network) builds one from the committed document, and it calls the live API with a token,
every answer a typed object (not a dict)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from eduautismo.db.models import ExportJob, Student
from eduautismo.domain import Role
from tests.fuzz.test_openapi_document import COMMITTED
from tests.support.factories import Factory
from tests.support.live_server import token_for

PACKAGE = "eduautismo_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client generated from the committed document, importable."""
    root = tmp_path_factory.mktemp("generated")
    config = root / "config.yaml"
    config.write_text(
        f"post_hooks: []\npackage_name_override: {PACKAGE}\nproject_name_override: eduautismo-client\n"
    )
    arguments = ["--path", str(COMMITTED), "--output-path", str(root / PACKAGE), "--meta", "none"]
    generated = subprocess.run(
        [str(GENERATOR), "generate", *arguments, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # The generator warns about what it cannot type: a warning is a gap in the contract.
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout + generated.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_generated_client_calls_health_exports_and_job_status_with_typed_answers(
    client_package: ModuleType, base_url: str, factory: Factory, db: Engine
) -> None:
    # Given a coordinator with two pending plans, and clients built by the generated package
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR)
    professional = factory.user(organization, Role.PROFESSIONAL)
    overdue = datetime.now(UTC).date() - timedelta(days=30)
    factory.plan(professional, start_date=overdue, priority="high")
    factory.plan(professional, start_date=overdue, priority="low")
    models = _module("models")
    public = client_package.Client(base_url=base_url, raise_on_unexpected_status=True)
    signed_in = client_package.AuthenticatedClient(
        base_url=base_url, token=token_for(coordinator), raise_on_unexpected_status=True
    )

    # When health is asked, Then the answer is a HealthReport with enum members
    health = _module("api.health.get_health").sync(client=public)
    assert isinstance(health, models.HealthReport)
    assert health.status is models.HealthReportStatus.OK and health.database is models.HealthReportDatabase.OK

    # When the export summary is asked as the seed's front end does (limit=1000, a priority)
    summary = _module("api.exports.export_summary").sync(
        client=signed_in, priority=models.Priority.HIGH, limit=1000
    )
    # Then it is an ExportSummary with integer counts
    assert isinstance(summary, models.ExportSummary)
    assert (summary.total, summary.high_priority, summary.low_priority) == (1, 1, 0)

    # When a CSV export is made, Then the link is an ExportLink with a real datetime
    link = _module("api.exports.export_csv").sync(client=signed_in, skip=0, limit=1000)
    assert isinstance(link, models.ExportLink)
    assert link.row_count == 2 and isinstance(link.expires_at, datetime)

    # And its job, asked by id, is the succeeded variant of the job union, with the same file
    jobs = _module("api.exports.export_job")
    job_id = _latest_job_id(db, coordinator.user_id)
    status = jobs.sync(job_id=job_id, client=signed_in)
    assert isinstance(status, models.ExportJobSucceeded)
    assert status.status == "succeeded" and status.format_ is models.ExportFormat.CSV
    assert (status.filename, status.row_count) == (link.filename, 2)


def _latest_job_id(db: Engine, user_id: uuid.UUID) -> uuid.UUID | None:
    with Session(db) as session:
        return session.scalars(
            select(ExportJob.id).where(ExportJob.user_id == user_id).order_by(ExportJob.created_at.desc())
        ).first()


def test_generated_client_sends_the_idempotency_key_and_a_retry_creates_nothing_more(
    client_package: ModuleType, base_url: str, factory: Factory, db: Engine
) -> None:
    # Given a coordinator and the generated client's student creation, which takes an idempotency_key
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    signed_in = client_package.AuthenticatedClient(base_url=base_url, token=token_for(coordinator))
    create = _module("api.students.create_student")
    body = _module("models").StudentCreate(full_name="Maria Souza")
    key = str(uuid.uuid4())
    # When the creation is sent, then retried with the same key
    first = create.sync_detailed(client=signed_in, body=body, idempotency_key=key)
    retry = create.sync_detailed(client=signed_in, body=body, idempotency_key=key)
    # Then the client sent the header: the retry is the first answer replayed, one student exists
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.parsed.id == first.parsed.id
    with Session(db) as session:
        names = session.scalars(
            select(Student.full_name).where(Student.organization_id == coordinator.organization_id)
        ).all()
    assert names == ["Maria Souza"]
