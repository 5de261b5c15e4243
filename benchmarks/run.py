"""`make bench`: a private database at benchmark scale, every scenario of benchmarks/scenarios, one table.

PostgreSQL and Redis are found as the test suite finds them (REQUIRE_REAL_SERVICES=1 refuses fallbacks).
The database and the Redis keys of the run are removed afterwards. Exit status 1 when a scenario errored.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import scenarios
from benchmarks.dataset import ScaleSize, seed_scale
from benchmarks.harness import BenchContext, BenchRow
from tests.support import services

COLUMNS = ("scenario", "p50", "p95", "throughput", "baseline", "baseline p95", "ratio", "target", "result")


def discover(only: Sequence[str] = ()) -> list[tuple[str, ModuleType | Exception]]:
    """Every module of benchmarks/scenarios/ (or the named ones); an import failure is kept, not raised."""
    found: list[tuple[str, ModuleType | Exception]] = []
    for module_info in sorted(pkgutil.iter_modules(scenarios.__path__), key=lambda info: info.name):
        if only and module_info.name not in only:
            continue
        try:
            found.append(
                (module_info.name, importlib.import_module(f"{scenarios.__name__}.{module_info.name}"))
            )
        except Exception as exc:
            found.append((module_info.name, exc))
    return found


def error_row(name: str, exc: BaseException) -> BenchRow:
    return BenchRow(
        scenario=name,
        p50_ms=None,
        p95_ms=None,
        throughput_rps=None,
        baseline="",
        baseline_p95_ms=None,
        target="",
        passed=False,
        notes=f"{type(exc).__name__}: {exc}"[:300],
        error=True,
    )


def run_scenarios(modules: Iterable[tuple[str, ModuleType | Exception]], ctx: BenchContext) -> list[BenchRow]:
    """Run each scenario in turn; one that raises becomes an ERROR row and the others still run.
    Environment changes a scenario leaves behind are undone, so each starts from the same settings."""
    from eduautismo.runtime import reset_runtime

    rows: list[BenchRow] = []
    for name, module in modules:
        environment = dict(os.environ)
        started = time.perf_counter()
        print(f"-> {name}", file=sys.stderr, flush=True)
        try:
            if isinstance(module, Exception):
                raise module
            rows.extend(module.run(ctx))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            rows.append(error_row(name, exc))
        finally:
            if dict(os.environ) != environment:
                os.environ.clear()
                os.environ.update(environment)
                reset_runtime()
        print(f"   {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    return rows


def _ms(value: float | None) -> str:
    """Tenths of a millisecond, thousandths below one (a Redis round trip, the limiter's step)."""
    if value is None:
        return "-"
    return f"{value:.1f} ms" if value >= 1 else f"{value:.3f} ms"


def table_lines(rows: Sequence[BenchRow]) -> list[str]:
    cells = [
        (
            row.scenario,
            _ms(row.p50_ms),
            _ms(row.p95_ms),
            "-" if row.throughput_rps is None else f"{row.throughput_rps:.0f}/s",
            row.baseline or "-",
            _ms(row.baseline_p95_ms),
            "-" if row.ratio is None else f"{row.ratio:.1f}x",
            row.target or "-",
            row.verdict,
        )
        for row in rows
    ]
    widths = [
        max([len(column), *(len(line[index]) for line in cells)]) for index, column in enumerate(COLUMNS)
    ]

    def line(values: Sequence[str]) -> str:
        return " | ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)).rstrip()

    lines = [line(COLUMNS), "-+-".join("-" * width for width in widths)]
    lines.extend(line(values) for values in cells)
    notes = [f"  {row.scenario}: {row.notes}" for row in rows if row.notes]
    if notes:
        lines.extend(["", "notes:", *notes])
    return lines


def results_document(rows: Sequence[BenchRow], summary: dict[str, Any]) -> dict[str, Any]:
    return {
        **summary,
        "rows": [{**asdict(row), "ratio": row.ratio, "result": row.verdict} for row in rows],
    }


def _configure_environment(database_url: str, redis_url: str, cache_prefix: str) -> None:
    os.environ.update(services.base_environment())
    os.environ.update(
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "CACHE_KEY_PREFIX": cache_prefix}
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the benchmark data set (default 1)"
    )
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    parser.add_argument("scenarios", nargs="*", help="scenario module names (default: all)")
    args = parser.parse_args(argv)

    from eduautismo.cache.client import get_redis
    from eduautismo.db.engine import build_engine
    from eduautismo.db.migrate import upgrade
    from eduautismo.runtime import reset_runtime
    from eduautismo.settings import get_settings

    run_started = time.perf_counter()
    server_url, embedded = services.server_database_url()
    redis_url = services.redis_url()
    database_url = services.create_private_database(server_url, prefix="eduautismo_bench")
    cache_prefix = f"eduautismo-bench-{uuid.uuid4().hex[:8]}"
    try:
        _configure_environment(database_url, redis_url, cache_prefix)
        reset_runtime()
        engine = build_engine(get_settings())
        upgrade(engine)
        seed_started = time.perf_counter()
        dataset = seed_scale(engine, ScaleSize(args.scale))
        seed_seconds = time.perf_counter() - seed_started
        print(f"seeded in {seed_seconds:.1f}s", file=sys.stderr, flush=True)
        ctx = BenchContext(engine=engine, dataset=dataset, redis_url=redis_url, cache_key_prefix=cache_prefix)
        rows = run_scenarios(discover(args.scenarios), ctx)
        engine.dispose()
    finally:
        reset_runtime()
        services.purge_cache_prefix(get_redis(), cache_prefix)
        reset_runtime()
        services.drop_database(server_url, database_url)
        if embedded is not None:
            embedded.cleanup()

    summary = {
        "finished_at": datetime.now(UTC).isoformat(),
        # Other processes on the machine slow every figure: the 1-minute load average says how much.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "scale": args.scale,
        "dataset": {
            "plans": dataset.plans,
            "notifications": dataset.notifications,
            "reviews": dataset.reviews,
        },
        "seed_seconds": round(seed_seconds, 1),
        "total_seconds": round(time.perf_counter() - run_started, 1),
    }
    print("\n".join(table_lines(rows)))
    print(
        f"\n{dataset.plans} plans, {dataset.notifications} notifications seeded in {seed_seconds:.0f}s; "
        f"whole run {summary['total_seconds']:.0f}s; load average {summary['load_average_1m']} "
        f"on {summary['cpus']} CPUs"
    )
    args.output.write_text(json.dumps(results_document(rows, summary), indent=2, default=str) + "\n")
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
