"""Notifications of the heavy user (10,000 rows in a table of 500,000), through the handler in-process,
each next to a raw SQL baseline of the same query (issue: Notifications, item 6)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from benchmarks.harness import BenchContext, BenchRow, percentile, sample_ms
from eduautismo.clock import SystemClock
from eduautismo.domain import NotificationPriority, NotificationType
from eduautismo.notifications.service import NotificationCreate, NotificationService
from tests.support.api import call_api

ITERATIONS = 200
MARK_ALL_ITERATIONS = 10
BENCH_KEY_PREFIX = "bench-create:"

# The handler's queries written by hand: the caller's rows that have not expired.
RAW_FIRST_PAGE = (
    "SELECT count(*), count(*) FILTER (WHERE NOT is_read) FROM notifications "
    "WHERE user_id = :user_id AND (expires_at IS NULL OR expires_at > now())",
    "SELECT * FROM notifications WHERE user_id = :user_id AND (expires_at IS NULL OR expires_at > now()) "
    "ORDER BY created_at DESC, id DESC LIMIT 50",
)
RAW_UNREAD = (
    "SELECT count(*) FROM notifications "
    "WHERE user_id = :user_id AND (expires_at IS NULL OR expires_at > now()) AND NOT is_read"
)
RAW_STATS = (
    "SELECT type, priority, is_read, count(*) FROM notifications "
    "WHERE user_id = :user_id AND (expires_at IS NULL OR expires_at > now()) GROUP BY 1, 2, 3"
)
RAW_INSERT = """
INSERT INTO notifications (id, organization_id, user_id, type, priority, title, message, dedupe_key,
                           created_at, expires_at)
VALUES (:id, :organization_id, :user_id, 'system', 'low', 'Aviso', 'Mensagem', :dedupe_key, now(), NULL)
ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id
"""
RAW_MARK_ALL = (
    "UPDATE notifications SET is_read = true, read_at = now() "
    "WHERE user_id = :user_id AND (expires_at IS NULL OR expires_at > now()) AND NOT is_read"
)
MARK_ALL_UNREAD = "UPDATE notifications SET is_read = false, read_at = NULL WHERE user_id = :user_id"


def _row(
    name: str, samples: list[float], baseline: list[float], target_ms: float, notes: str = ""
) -> BenchRow:
    p95 = percentile(samples, 95)
    return BenchRow(
        scenario=name,
        p50_ms=percentile(samples, 50),
        p95_ms=p95,
        throughput_rps=1000 / (sum(samples) / len(samples)),
        baseline="raw SQL (same queries)",
        baseline_p95_ms=percentile(baseline, 95),
        target=f"p95 <= {target_ms:g} ms",
        passed=p95 <= target_ms,
        notes=notes,
    )


def _raw(ctx: BenchContext, statements: tuple[str, ...], params: dict[str, Any]) -> Callable[[], None]:
    def run() -> None:
        with ctx.engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement), params).all()

    return run


def _api(method: str, path: str, claims: dict[str, Any], expected: int = 200) -> Callable[[], Any]:
    def run() -> Any:
        response = call_api(method, path, claims=claims)
        if response.status != expected:
            raise RuntimeError(f"{method} {path} answered {response.status}")
        return response.json

    return run


def _timed_after_setup(
    setup: Callable[[], None], measured: Callable[[], Any], iterations: int
) -> list[float]:
    samples = []
    for _ in range(iterations):
        setup()
        started = time.perf_counter()
        measured()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _read_state(connection: Connection, user_id: uuid.UUID) -> list[tuple[Any, ...]]:
    statement = text("SELECT id, read_at FROM notifications WHERE user_id = :user_id AND is_read")
    return [tuple(row) for row in connection.execute(statement, {"user_id": user_id})]


def _restore_read_state(ctx: BenchContext, user_id: uuid.UUID, read: list[tuple[Any, ...]]) -> None:
    with ctx.engine.begin() as connection:
        connection.execute(text(MARK_ALL_UNREAD), {"user_id": user_id})
        if read:
            connection.execute(
                text("UPDATE notifications SET is_read = true, read_at = :read_at WHERE id = :id"),
                [{"id": notification_id, "read_at": read_at} for notification_id, read_at in read],
            )


def run(ctx: BenchContext) -> list[BenchRow]:
    user = ctx.dataset.heavy_user
    claims = user.claims
    params = {"user_id": user.user_id}
    rows: list[BenchRow] = []

    first_page = _api("GET", "/api/v1/notifications", claims)
    page = first_page()
    rows.append(
        _row(
            "notifications: first page (50)",
            sample_ms(first_page, ITERATIONS),
            sample_ms(_raw(ctx, RAW_FIRST_PAGE, params), ITERATIONS),
            10,
            f"total={page['total']} unread={page['unread_count']}",
        )
    )
    rows.append(
        _row(
            "notifications: unread-count",
            sample_ms(_api("GET", "/api/v1/notifications/unread-count", claims), ITERATIONS),
            sample_ms(_raw(ctx, (RAW_UNREAD,), params), ITERATIONS),
            3,
        )
    )
    rows.append(
        _row(
            "notifications: stats",
            sample_ms(_api("GET", "/api/v1/notifications/stats", claims), ITERATIONS),
            sample_ms(_raw(ctx, (RAW_STATS,), params), ITERATIONS),
            20,
        )
    )
    rows.append(_create_row(ctx))
    rows.append(_mark_all_read_row(ctx))
    return rows


def _create_row(ctx: BenchContext) -> BenchRow:
    user = ctx.dataset.heavy_user

    def create() -> None:
        with Session(ctx.engine) as session:
            NotificationService(session, SystemClock()).create_notification(
                NotificationCreate(
                    organization_id=user.organization_id,
                    user_id=user.user_id,
                    type=NotificationType.SYSTEM,
                    priority=NotificationPriority.LOW,
                    title="Aviso",
                    message="Mensagem",
                    dedupe_key=f"{BENCH_KEY_PREFIX}{uuid.uuid4()}",
                )
            )
            session.commit()

    def raw_create() -> None:
        with ctx.engine.begin() as connection:
            connection.execute(
                text(RAW_INSERT),
                {
                    "id": uuid.uuid4(),
                    "organization_id": user.organization_id,
                    "user_id": user.user_id,
                    "dedupe_key": f"{BENCH_KEY_PREFIX}{uuid.uuid4()}",
                },
            ).all()

    try:
        return _row(
            "notifications: create",
            sample_ms(create, ITERATIONS),
            sample_ms(raw_create, ITERATIONS),
            5,
            "service create_notification (INSERT ... ON CONFLICT DO NOTHING RETURNING), own transaction",
        )
    finally:
        with ctx.engine.begin() as connection:
            connection.execute(
                text("DELETE FROM notifications WHERE user_id = :user_id AND dedupe_key LIKE :prefix"),
                {"user_id": user.user_id, "prefix": f"{BENCH_KEY_PREFIX}%"},
            )


def _mark_all_read_row(ctx: BenchContext) -> BenchRow:
    user = ctx.dataset.heavy_user
    params = {"user_id": user.user_id}
    with ctx.engine.connect() as connection:
        read_before = _read_state(connection, user.user_id)

    def mark_unread() -> None:
        with ctx.engine.begin() as connection:
            connection.execute(text(MARK_ALL_UNREAD), params)

    mark_all = _api("POST", "/api/v1/notifications/mark-all-read", user.claims)
    updated: list[int] = []

    def measured() -> None:
        updated.append(mark_all()["updated_count"])

    def raw_mark_all() -> None:
        with ctx.engine.begin() as connection:
            connection.execute(text(RAW_MARK_ALL), params)

    try:
        samples = _timed_after_setup(mark_unread, measured, MARK_ALL_ITERATIONS)
        baseline = _timed_after_setup(mark_unread, raw_mark_all, MARK_ALL_ITERATIONS)
    finally:
        _restore_read_state(ctx, user.user_id, read_before)
    return _row(
        "notifications: mark-all-read",
        samples,
        baseline,
        300,
        f"updated_count={max(updated)} per call (all re-marked unread between runs, untimed; "
        "read state restored afterwards)",
    )
