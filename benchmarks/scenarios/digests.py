"""The email digest: the dispatcher's selection over 100,000 users (one set-based statement) against the
same statement through the raw driver, and one digest's render and local send against writing the same
bytes to the outbox (README "Reminders")."""

from __future__ import annotations

import dataclasses
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.harness import BenchContext, BenchRow, latency_row, percentile, sample_ms
from eduautismo.clock import FixedClock
from eduautismo.context import build_context
from eduautismo.digests import repository, service
from eduautismo.digests.schemas import DigestRequest, Email
from eduautismo.digests.senders import OutboxSender

ITERATIONS = 20
SELECTION_USERS = 100_000
MAX_EMAILS = 200
MAX_SELECTION_RATIO = 1.5
MAX_SEND_P95_MS = 100.0
MANAUS = "America/Manaus"
# A tenth of the users chose something else than the defaults: off, another hour, weekly.
ADD_USERS = """
INSERT INTO users (id, organization_id, email, name, role)
SELECT gen_random_uuid(), :organization, 'digest-bench-' || n || '@escola.example', 'Profissional ' || n,
       'professional'
FROM generate_series(1, :users) AS n
"""
ADD_PREFERENCES = """
INSERT INTO notification_preferences (user_id, email_digest, digest_hour, digest_weekday, muted_types)
SELECT id, (ARRAY['off', 'daily', 'weekly'])[1 + mod(abs(hashtext(email)), 3)], mod(abs(hashtext(email)), 24),
       1 + mod(abs(hashtext(email)), 7), '{}'
FROM users WHERE organization_id = :organization AND mod(abs(hashtext(email)), 10) = 0
"""


def _manaus_seven() -> datetime:
    """The next 11:00 UTC: 07:00 in Manaus, the default digest hour."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=(11 - now.hour) % 24)


def _selection_row(ctx: BenchContext) -> BenchRow:
    """In one transaction rolled back at the end: deleting 100,000 users would check every foreign key
    to them (plan_reviews.reviewer_id has no index) for longer than the whole bench."""
    organization = uuid.uuid4()
    users = max(1_000, round(SELECTION_USERS * ctx.dataset.plans / 100_000))
    at = _manaus_seven()
    selected: list[DigestRequest] = []
    raw_rows: list[object] = []
    with ctx.engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(
                text("INSERT INTO organizations (id, name, timezone) VALUES (:id, 'Bench digest', :tz)"),
                {"id": organization, "tz": MANAUS},
            )
            connection.execute(text(ADD_USERS), {"organization": organization, "users": users})
            connection.execute(text(ADD_PREFERENCES), {"organization": organization})

            @contextmanager
            def same_transaction() -> Iterator[Session]:
                with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
                    yield session

            context = dataclasses.replace(build_context(clock=FixedClock(at)), uow=same_transaction)
            statement = text(repository.DUE_USERS_SQL)
            parameters = repository.due_parameters(at, False)

            def select() -> None:
                selected[:] = service.due_requests(context, service.Tick(at))

            def raw() -> None:
                raw_rows[:] = connection.execute(statement, parameters).all()

            samples = sample_ms(select, ITERATIONS, warmup=2)
            raw_samples = sample_ms(raw, ITERATIONS, warmup=2)
        finally:
            transaction.rollback()
    p95, raw_p95 = percentile(samples, 95), percentile(raw_samples, 95)
    return latency_row(
        f"digest: dispatcher selection ({users:,} users)",
        samples,
        baseline="raw SQL (the same statement)",
        baseline_p95_ms=raw_p95,
        target=f"p95 <= {MAX_SELECTION_RATIO}x raw SQL",
        passed=p95 <= MAX_SELECTION_RATIO * raw_p95 and len(selected) == len(raw_rows),
        notes=f"selected {len(selected)} users at 07:00 Manaus (raw: {len(raw_rows)})",
    )


def _send_row(ctx: BenchContext) -> BenchRow:
    at = datetime.now(UTC)
    context = build_context(clock=FixedClock(at))
    people = (*ctx.dataset.professionals[:MAX_EMAILS], ctx.dataset.coordinator)
    period = f"bench:{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        outbox = OutboxSender(Path(folder))
        samples: list[float] = []
        for person in people:
            request = DigestRequest(user_id=person.user_id, period=period, at=at)
            started = time.perf_counter()
            service.deliver(context, request, outbox)
            samples.append((time.perf_counter() - started) * 1000)
        written = sorted(Path(folder).glob("*.eml"))
        emails = [Email(to="x@escola.example", subject="", raw=path.read_bytes()) for path in written]
        raw_samples = []
        for email in emails or [Email(to="x@escola.example", subject="", raw=b"")]:
            started = time.perf_counter()
            outbox.send(email)
            raw_samples.append((time.perf_counter() - started) * 1000)
    with ctx.engine.begin() as connection:
        connection.execute(text("DELETE FROM email_deliveries WHERE period = :period"), {"period": period})
    p95, raw_p95 = percentile(samples, 95), percentile(raw_samples, 95)
    return latency_row(
        "digest: render + local send per email",
        samples,
        baseline="writing the same .eml bytes",
        baseline_p95_ms=raw_p95,
        target=f"p95 <= {MAX_SEND_P95_MS:g} ms",
        passed=p95 <= MAX_SEND_P95_MS,
        notes=f"{len(people)} deliveries (claim, queries, render, write, mark sent); {len(written)} emails",
    )


def run(ctx: BenchContext) -> list[BenchRow]:
    return [_selection_row(ctx), _send_row(ctx)]
