"""The contract between `make bench` and its scenarios.

Each module in benchmarks/scenarios/ exposes ``run(ctx: BenchContext) -> list[BenchRow]``. The runner
seeds the scale data set once (benchmark scale: 2 organizations, 200 professionals, 5,000 students,
100,000 plans, 500,000 notifications of which 10,000 belong to ``ctx.dataset.heavy_user``), then calls
every scenario and prints one table (and JSON). Targets are reported PASS/MISS, never asserted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from tests.support.factories import Actor


@dataclass(frozen=True)
class BenchDataset:
    organization_ids: tuple[Any, ...]
    coordinator: Actor  # coordinator of organization_ids[0]
    professionals: tuple[Actor, ...]  # professionals of organization_ids[0]
    heavy_user: Actor  # a professional with 10,000 notifications
    plans: int
    notifications: int
    reviews: int = 0  # plan_reviews, the history of the reviewed plans


@dataclass
class BenchContext:
    engine: Engine
    dataset: BenchDataset
    redis_url: str
    extra: dict[str, Any] = field(default_factory=dict)
    # The run's private key prefix (settings.cache_key_prefix): raw baselines read and write under it.
    cache_key_prefix: str = "eduautismo"


@dataclass
class BenchRow:
    scenario: str
    p50_ms: float | None
    p95_ms: float | None
    throughput_rps: float | None
    baseline: str  # what the raw baseline is, e.g. "raw SQL", "raw Redis GET"
    baseline_p95_ms: float | None
    target: str  # human-readable, e.g. "p95 <= 30 ms and <= 3x baseline"
    passed: bool
    notes: str = ""
    error: bool = False  # the scenario raised: the row carries the error, not a measurement

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        return "PASS" if self.passed else "MISS"

    @property
    def ratio(self) -> float | None:
        if self.p95_ms is None or not self.baseline_p95_ms:
            return None
        return self.p95_ms / self.baseline_p95_ms


def latency_row(
    scenario: str,
    samples: list[float],
    *,
    baseline: str,
    baseline_p95_ms: float | None,
    target: str,
    passed: bool,
    notes: str = "",
) -> BenchRow:
    """A row of per-call latencies: the p50 and p95 of ``samples`` (milliseconds), no throughput."""
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    return BenchRow(scenario, p50, p95, None, baseline, baseline_p95_ms, target, passed, notes)


def sample_ms(fn: Callable[[], Any], iterations: int, warmup: int = 5) -> list[float]:
    """Wall-clock milliseconds of ``iterations`` calls after ``warmup`` unmeasured ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]
