"""Notifications of the heavy user (10,000 rows in a table of 500,000), through the handler in-process,
each next to a raw SQL baseline of the same queries (issues: Notifications item 6, inbox item 5)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from benchmarks.harness import BenchContext, BenchRow, percentile, sample_ms
from eduautismo.clock import SystemClock
from eduautismo.domain import NotificationPriority
from eduautismo.notifications.service import NotificationService
from tests.support.api import call_api
from tests.support.factories import notification_for

ITERATIONS = 200
MARK_ALL_ITERATIONS = 10
BENCH_KEY_PREFIX = "bench-create:"

# The handler's queries written by hand. Every tagged read starts with the inbox version (the ETag).
RAW_VERSION = (
    "SELECT user_id, version, expiry_checked_at, next_expiry FROM notification_inboxes "
    "WHERE user_id = :user_id"
)
_VISIBLE = "user_id = :user_id AND (expires_at IS NULL OR expires_at > now())"
RAW_FIRST_PAGE = (
    RAW_VERSION,
    "SELECT count(*) FILTER (WHERE archived_at IS NULL), "
    "count(*) FILTER (WHERE NOT is_read AND archived_at IS NULL) "
    f"FROM notifications WHERE {_VISIBLE}",
    f"SELECT * FROM notifications WHERE {_VISIBLE} AND archived_at IS NULL "
    "ORDER BY created_at DESC, id DESC LIMIT 50",
)
RAW_UNREAD = (
    RAW_VERSION,
    "SELECT count(*), count(*) FILTER (WHERE seen_at IS NULL) FROM notifications "
    f"WHERE {_VISIBLE} AND NOT is_read AND archived_at IS NULL",
)
RAW_STATS = (
    f"SELECT type, priority, is_read, count(*) FROM notifications WHERE {_VISIBLE} AND archived_at IS NULL "
    "GROUP BY 1, 2, 3"
)
RAW_INSERT = """
INSERT INTO notifications (id, organization_id, user_id, type, priority, title, message, dedupe_key,
                           created_at, expires_at)
VALUES (:id, :organization_id, :user_id, 'system', 'low', 'Aviso', 'Mensagem', :dedupe_key, now(), NULL)
ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id
"""
RAW_MARK_ALL = (
    "UPDATE notifications SET is_read = true, read_at = coalesce(read_at, now()), "
    f"seen_at = coalesce(seen_at, now()) WHERE {_VISIBLE} AND NOT is_read AND archived_at IS NULL "
    "AND created_at <= now()"
)
MARK_ALL_UNREAD = "UPDATE notifications SET is_read = false, read_at = NULL WHERE user_id = :user_id"


def _row(
    name: str,
    samples: list[float],
    baseline: list[float],
    target_ms: float | None = None,
    notes: str = "",
    *,
    target_ratio: float | None = None,
) -> BenchRow:
    """``target_ms`` bounds the p95; ``target_ratio`` bounds the p95 against the raw baseline's p95."""
    p95 = percentile(samples, 95)
    baseline_p95 = percentile(baseline, 95)
    targets, passed = [], True
    if target_ms is not None:
        targets.append(f"p95 <= {target_ms:g} ms")
        passed = passed and p95 <= target_ms
    if target_ratio is not None:
        targets.append(f"<= {target_ratio:g}x raw")
        passed = passed and p95 <= target_ratio * baseline_p95
    return BenchRow(
        scenario=name,
        p50_ms=percentile(samples, 50),
        p95_ms=p95,
        throughput_rps=1000 / (sum(samples) / len(samples)),
        baseline="raw SQL (same queries)",
        baseline_p95_ms=baseline_p95,
        target=" and ".join(targets),
        passed=passed,
        notes=notes,
    )


def _raw(ctx: BenchContext, statements: tuple[str, ...], params: dict[str, Any]) -> Callable[[], None]:
    def run() -> None:
        with ctx.engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement), params).all()

    return run


def _api(
    method: str, path: str, claims: dict[str, Any], expected: int = 200, headers: dict[str, str] | None = None
) -> Callable[[], Any]:
    def run() -> Any:
        response = call_api(method, path, claims=claims, headers=headers)
        if response.status != expected:
            raise RuntimeError(f"{method} {path} answered {response.status}")
        return response.json if expected != 304 else None

    return run


def _etag(path: str, claims: dict[str, Any]) -> str:
    etag = call_api("GET", path, claims=claims).header("ETag")
    if etag is None:
        raise RuntimeError(f"GET {path} sent no ETag")
    return etag


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

    def against_raw(
        name: str,
        measured: Callable[[], Any],
        statements: tuple[str, ...],
        target_ms: float | None = None,
        notes: str = "",
        *,
        target_ratio: float | None = None,
    ) -> BenchRow:
        """``measured``'s row next to its queries run raw: ITERATIONS samples of each, measured first."""
        samples = sample_ms(measured, ITERATIONS)
        baseline = sample_ms(_raw(ctx, statements, params), ITERATIONS)
        return _row(name, samples, baseline, target_ms, notes, target_ratio=target_ratio)

    first_page = _api("GET", "/api/v1/notifications", claims)
    page = first_page()
    page_notes = f"total={page['total']} unread={page['unread_count']}; inbox version + counts + page"
    rows = [
        against_raw(
            "notifications: first page (50)", first_page, RAW_FIRST_PAGE, target_ratio=1.3, notes=page_notes
        )
    ]
    unread = _api("GET", "/api/v1/notifications/unread-count", claims)
    counts = unread()
    count_notes = f"unread={counts['unread_count']} unseen={counts['unseen_count']}; inbox version + counts"
    rows.append(against_raw("notifications: unread-count", unread, RAW_UNREAD, 3, count_notes))
    for path, name in (
        ("/api/v1/notifications/unread-count", "unread-count"),
        ("/api/v1/notifications", "first page"),
    ):
        revalidate = _api("GET", path, claims, 304, {"If-None-Match": _etag(path, claims)})
        notes = "If-None-Match with the current tag: one primary-key read of notification_inboxes"
        rows.append(
            against_raw(f"notifications: 304 revalidation ({name})", revalidate, (RAW_VERSION,), 1.5, notes)
        )
    stats = _api("GET", "/api/v1/notifications/stats", claims)
    rows.append(against_raw("notifications: stats", stats, (RAW_STATS,), 20))
    rows.append(_create_row(ctx))
    rows.append(_mark_all_read_row(ctx))
    return rows


def _create_row(ctx: BenchContext) -> BenchRow:
    user = ctx.dataset.heavy_user

    def create() -> None:
        with Session(ctx.engine) as session:
            # The same row RAW_INSERT writes: system, low, "Aviso", "Mensagem"
            request = notification_for(
                user,
                priority=NotificationPriority.LOW,
                title="Aviso",
                message="Mensagem",
                dedupe_key=f"{BENCH_KEY_PREFIX}{uuid.uuid4()}",
            )
            NotificationService(session, SystemClock()).create_notification(request)
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
            connection.execute(text(RAW_MARK_ALL), params)  # the inbox trigger fires here too

    try:
        samples = _timed_after_setup(mark_unread, measured, MARK_ALL_ITERATIONS)
        baseline = _timed_after_setup(mark_unread, raw_mark_all, MARK_ALL_ITERATIONS)
    finally:
        _restore_read_state(ctx, user.user_id, read_before)
    return _row(
        "notifications: mark-all-read",
        samples,
        baseline,
        150,
        f"updated_count={max(updated)} per call (all re-marked unread between runs, untimed; "
        "read state restored afterwards)",
    )
