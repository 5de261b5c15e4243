"""Cold start: how long a fresh interpreter takes to import each function's handler module (template.yaml).

Measured as Lambda runs it: LAMBDA_TASK_ROOT set and tracing on (template.yaml: Tracing Active). The raw
baseline is the import floor, a fresh interpreter importing only what every API function must have: the
Powertools resolver, pydantic, sqlalchemy.orm, pg8000 and redis. The API functions that are not exports
must stay near it (<= 1.25x), without openpyxl and without boto3 (the S3 client); health, which needs no
SQLAlchemy, below it (<= 0.75x). A second baseline, reported only, adds what any typed function on the ORM
imports (MODELS_FLOOR_MODULES): each function's ratio to it is in its notes. botocore is reported, with
who imported it. Export and scheduled functions
are reported only. Floor and handlers are sampled in turns, so a burst of load on the machine hits all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import BenchContext, BenchRow, latency_row, percentile
from eduautismo_local.template_routes import PROJECT_ROOT, functions, load_template

RUNS = 9
FORBIDDEN_MODULES = ("openpyxl", "boto3")
REPORTED_MODULES = (*FORBIDDEN_MODULES, "botocore", "sqlalchemy")
FLOOR_MODULES = "aws_lambda_powertools.event_handler, pydantic, sqlalchemy.orm, pg8000, redis"
# What a typed API function on the ORM imports beyond the floor whatever its routes: pydantic's BaseModel
# (the floor's `import pydantic` is lazy), Powertools' validation, the PostgreSQL dialect (the models'
# partial indexes and JSONB load it; the engine needs it on its first connection) and the ORM models.
# Reported beside the floor, so that a function's excess splits into what that stack asks and our code.
MODELS_FLOOR_MODULES = (
    f"{FLOOR_MODULES}, pydantic.main, aws_lambda_powertools.event_handler.openapi.params, "
    "sqlalchemy.dialects.postgresql, eduautismo.db.models"
)
LIGHT_FACTOR = 1.25
# Functions that owe less than the floor: health runs SELECT 1 on a plain pg8000 connection.
FACTORS = {"HealthFunction": 0.75}
EXPORT_PATH_PREFIX = "/api/v1/export"

_PROBE = """
import json, sys, time
started = time.perf_counter()
import {module}
elapsed = (time.perf_counter() - started) * 1000
print(json.dumps({{"ms": elapsed, "loaded": [m for m in {reported!r} if m in sys.modules]}}))
"""


@dataclass(frozen=True)
class HandlerModule:
    function: str
    code_dir: Path
    module: str
    light: bool  # an API function outside exports: the budget applies


def handler_modules() -> list[HandlerModule]:
    modules = []
    for name, properties in sorted(functions(load_template()).items()):
        events = (properties.get("Events") or {}).values()
        paths = [event["Properties"]["Path"] for event in events if event["Type"] == "HttpApi"]
        modules.append(
            HandlerModule(
                function=name,
                code_dir=(PROJECT_ROOT / properties["CodeUri"]).resolve(),
                module=properties["Handler"].rsplit(".", 1)[0],
                light=bool(paths) and not any(path.startswith(EXPORT_PATH_PREFIX) for path in paths),
            )
        )
    return modules


def _fresh_interpreter(code: str, code_dir: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    # Bytecode is cached as in a deployed package (the sandbox may set PYTHONDONTWRITEBYTECODE).
    unset = ("PYTHONDONTWRITEBYTECODE", "POWERTOOLS_TRACE_DISABLED")
    environment = {name: value for name, value in os.environ.items() if name not in unset}
    environment.update({"PYTHONPATH": str(code_dir), "LAMBDA_TASK_ROOT": str(code_dir)})
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=code_dir,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )


def import_once(module: str, code_dir: Path) -> tuple[float, list[str]]:
    completed = _fresh_interpreter(_PROBE.format(module=module, reported=REPORTED_MODULES), code_dir)
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    return float(measured["ms"]), list(measured["loaded"])


@dataclass(frozen=True)
class ImportLine:
    depth: int
    name: str
    cumulative_ms: float


def import_tree(module: str, code_dir: Path) -> list[ImportLine]:
    """`python -X importtime` output, in its order: a module's imports come before it, one level deeper."""
    completed = _fresh_interpreter(f"import {module}", code_dir, "-X", "importtime")
    lines = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _self, cumulative, name = line.split(":", 1)[1].split("|")
        if cumulative.strip().isdigit():
            depth = (len(name) - len(name.lstrip()) - 1) // 2
            lines.append(ImportLine(depth, name.strip(), int(cumulative) / 1000))
    return lines


def heaviest_packages(tree: list[ImportLine], module: str, count: int = 3) -> list[tuple[str, float]]:
    """Third-party packages by the cumulative time of their outermost import."""
    costs: dict[str, float] = {}
    for line in tree:
        package = line.name.split(".")[0]
        if package not in (module, "eduautismo"):
            costs[package] = max(costs.get(package, 0.0), line.cumulative_ms)
    return sorted(costs.items(), key=lambda item: item[1], reverse=True)[:count]


def importer_chain(tree: list[ImportLine], package: str) -> list[str]:
    """Who imported ``package`` first: its parent, the parent's parent, ... up to the handler module."""
    start = next((i for i, line in enumerate(tree) if line.name.split(".")[0] == package), None)
    if start is None:
        return []
    chain, depth = [], tree[start].depth
    for line in tree[start + 1 :]:
        if line.depth < depth:
            chain.append(line.name)
            depth = line.depth
    return chain


def _interleaved_samples(modules: list[tuple[str, Path]]) -> tuple[list[list[float]], list[set[str]]]:
    """RUNS imports of each module, taken in turns (one of each per round)."""
    samples: list[list[float]] = [[] for _ in modules]
    loaded: list[set[str]] = [set() for _ in modules]
    for _ in range(RUNS):
        for index, (module, code_dir) in enumerate(modules):
            elapsed, names = import_once(module, code_dir)
            samples[index].append(elapsed)
            loaded[index].update(names)
    return samples, loaded


def _notes(loaded: set[str], tree: list[ImportLine], module: str) -> str:
    parts = []
    for package in sorted(loaded):
        chain = importer_chain(tree, package)
        via = next((name for name in chain if name.split(".")[0] != package), "?")
        parts.append(f"{package} (via {via})")
    top = ", ".join(f"{name} {ms:.0f} ms" for name, ms in heaviest_packages(tree, module))
    return f"loads {', '.join(parts) or 'none of ' + '/'.join(REPORTED_MODULES)}; heaviest: {top}"


def _reported(scenario: str, samples: list[float], notes: str, floor_p95: float | None = None) -> BenchRow:
    """A baseline's own row: reported, against the floor when ``floor_p95`` is given."""
    return latency_row(
        scenario,
        samples,
        baseline="" if floor_p95 is None else "import floor",
        baseline_p95_ms=floor_p95,
        target="reported",
        passed=True,
        notes=notes,
    )


def run(ctx: BenchContext) -> list[BenchRow]:
    handlers = handler_modules()
    trees = [import_tree(handler.module, handler.code_dir) for handler in handlers]  # fills bytecode too
    import_once(MODELS_FLOOR_MODULES, PROJECT_ROOT)
    samples, loaded = _interleaved_samples(
        [
            (FLOOR_MODULES, PROJECT_ROOT),
            (MODELS_FLOOR_MODULES, PROJECT_ROOT),
            *((handler.module, handler.code_dir) for handler in handlers),
        ]
    )
    floor_p95, models_p95 = percentile(samples[0], 95), percentile(samples[1], 95)
    rows = [
        _reported("cold start import floor", samples[0], f"import {FLOOR_MODULES}"),
        _reported(
            "cold start import floor + typed routes and ORM models",
            samples[1],
            f"import {MODELS_FLOOR_MODULES}",
            floor_p95,
        ),
    ]
    for handler, tree, handler_samples, handler_loaded in zip(
        handlers, trees, samples[2:], loaded[2:], strict=True
    ):
        p95 = percentile(handler_samples, 95)
        factor = FACTORS.get(handler.function, LIGHT_FACTOR)
        forbidden = handler_loaded.intersection(FORBIDDEN_MODULES)
        rows.append(
            latency_row(
                f"cold start {handler.function}",
                handler_samples,
                baseline="import floor",
                baseline_p95_ms=floor_p95,
                target=f"<= {factor}x floor, no openpyxl/boto3" if handler.light else "reported",
                passed=not handler.light or (p95 <= factor * floor_p95 and not forbidden),
                notes=f"{p95 / models_p95:.2f}x the floor with models; "
                + _notes(handler_loaded, tree, handler.module),
            )
        )
    return rows
