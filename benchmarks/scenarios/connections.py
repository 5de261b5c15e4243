"""Connection checkout: what a warm container pays to borrow a pooled connection for one short unit of
work (BEGIN, SELECT 1, COMMIT), with the engine the functions use (no pre-ping: a connection idle longer
than DB_IDLE_SECONDS is replaced instead, docs/DEPLOY.md "Database connections"), beside the same engine
with ``pool_pre_ping`` (the setting it replaced: one more round trip per checkout), and through PgBouncer
in transaction mode. The raw baseline is pg8000 on one open connection sending the same three statements.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import Any

import pg8000.dbapi
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.harness import BenchContext, BenchRow, percentile, sample_ms
from eduautismo.db.engine import build_engine, normalize_database_url
from eduautismo.settings import Settings
from tests.support.pgbouncer import start_pgbouncer
from tests.support.pinning import count_statements

ITERATIONS = 2000


def _raw(url: str) -> Callable[[], None]:
    parsed = make_url(url)
    connection = pg8000.dbapi.connect(
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        database=parsed.database,
    )

    def unit() -> None:
        with closing(connection.cursor()) as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        connection.commit()

    unit.close = connection.close  # type: ignore[attr-defined]
    return unit


def _round_trips(engine: Engine) -> int:
    """Statements one warm unit of work sends."""
    sent = count_statements(engine)
    unit = _through(engine)
    unit()  # opens the pooled connection
    sent.clear()
    unit()
    return len(sent)


def _through(engine: Engine) -> Callable[[], None]:
    def unit() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar()
            connection.commit()

    return unit


def _measure(*units: Callable[[], Any]) -> list[list[float]]:
    """Samples of each unit, taken in turns (one of each per round) so that a busy moment of the machine
    falls on all of them alike."""
    samples: list[list[float]] = [[] for _ in units]
    for _ in range(ITERATIONS):
        for unit, collected in zip(units, samples, strict=True):
            collected += sample_ms(unit, 1, warmup=0)
    return samples


def _row(
    scenario: str, samples: list[float], baseline: list[float], target: str, passed: bool, notes: str
) -> BenchRow:
    return BenchRow(
        scenario=scenario,
        p50_ms=percentile(samples, 50),
        p95_ms=percentile(samples, 95),
        throughput_rps=1000 / percentile(samples, 50),
        baseline="raw pg8000, one open connection",
        baseline_p95_ms=percentile(baseline, 95),
        target=target,
        passed=passed,
        notes=notes,
    )


def _engines(url: str) -> tuple[Engine, Engine]:
    """The functions' engine, and the same pool with ``pool_pre_ping`` (the setting it replaced)."""
    database_url, connect_args = normalize_database_url(url)
    pre_ping = create_engine(database_url, connect_args=connect_args, pool_size=2, pool_pre_ping=True)
    return build_engine(Settings(database_url=url)), pre_ping


def _rows(label: str, url: str) -> list[BenchRow]:
    ours_engine, pre_ping_engine = _engines(url)
    raw = _raw(url)
    try:
        trips = (_round_trips(ours_engine), _round_trips(pre_ping_engine))
        for unit in (raw, _through(ours_engine), _through(pre_ping_engine)):
            sample_ms(unit, 1, warmup=20)
        baseline, ours, pinged = _measure(raw, _through(ours_engine), _through(pre_ping_engine))
    finally:
        raw.close()  # type: ignore[attr-defined]
        ours_engine.dispose()
        pre_ping_engine.dispose()
    return [
        _row(
            f"checkout + SELECT 1, no pre-ping{label}",
            ours,
            baseline,
            "round trips = raw's 3",
            trips[0] == 3,
            f"{trips[0]} round trips per unit; p50 {percentile(ours, 50) / percentile(pinged, 50):.2f}x "
            "the pre-ping engine's",
        ),
        _row(
            f"checkout + SELECT 1, pool_pre_ping (before){label}",
            pinged,
            baseline,
            "reported (the replaced setting)",
            True,
            f"{trips[1]} round trips per unit (the ping is an empty query after BEGIN)",
        ),
    ]


def run(ctx: BenchContext) -> list[BenchRow]:
    url = ctx.engine.url.render_as_string(hide_password=False)
    rows = _rows("", url)
    # Through a proxy every round trip crosses one more hop: what the ping costs behind RDS Proxy.
    server_url = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    proxy = start_pgbouncer(server_url, pool_size=2)
    try:
        rows += _rows(" via PgBouncer", proxy.url(url))
    finally:
        proxy.stop()
    return rows
