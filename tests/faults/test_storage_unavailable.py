"""S3 failing during an export: the caller gets the 503 envelope and the audit trail says the job failed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Engine, text

from eduautismo.domain import Role
from eduautismo_local.embedded import free_port
from tests.support.api import call_api
from tests.support.factories import Factory


def test_export_with_s3_down_answers_503_and_marks_the_job_failed(
    db: Engine, factory: Factory, override_settings: Callable[..., None]
) -> None:
    # Given a coordinator with a plan due for review, and an S3 endpoint where nothing listens
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR)
    professional = factory.user(organization, Role.PROFESSIONAL)
    factory.plan(professional, review_frequency="daily", start_date=date.today() - timedelta(days=10))
    override_settings(
        s3_endpoint_url=f"http://127.0.0.1:{free_port()}", export_bucket="eduautismo-exports-test"
    )
    # When the coordinator exports the pending reviews
    response = call_api("GET", "/api/v1/export/pending-review/csv", claims=coordinator.claims)
    # Then the answer is the 503 envelope, and the export's audit row is marked failed
    assert (response.status, response.json["error"]["code"]) == (503, "service_unavailable")
    with db.connect() as connection:
        jobs = connection.execute(
            text("SELECT status, s3_key FROM export_jobs WHERE user_id = :user"),
            {"user": coordinator.user_id},
        ).all()
    assert [(job.status, job.s3_key) for job in jobs] == [("failed", None)]
