"""The `make bench` runner: a scenario that raises is one ERROR row and the others still run; the table
and the JSON carry every column; the scale seed gives the heavy user its notifications."""

from __future__ import annotations

import os
import types
from typing import Any

from sqlalchemy import Engine, text

from benchmarks.dataset import ScaleSize, seed_scale
from benchmarks.harness import BenchContext, BenchRow
from benchmarks.run import COLUMNS, results_document, run_scenarios, table_lines
from benchmarks.scenarios.cold_start import ImportLine, importer_chain


def _row(name: str, p95: float, baseline_p95: float, passed: bool) -> BenchRow:
    return BenchRow(name, p95 / 2, p95, 100.0, "raw SQL", baseline_p95, "p95 <= 30 ms", passed, notes="n")


def _module(run: Any) -> types.ModuleType:
    module = types.ModuleType("scenario")
    module.run = run  # type: ignore[attr-defined]
    return module


def test_a_raising_scenario_becomes_an_error_row_and_the_next_one_still_runs(db: Engine) -> None:
    # Given a scenario that raises (and changes the environment first) and one that measures
    def broken(ctx: BenchContext) -> list[BenchRow]:
        os.environ["CACHE_KEY_PREFIX"] = "changed-by-a-scenario"
        raise RuntimeError("boom")

    before = os.environ["CACHE_KEY_PREFIX"]
    scenarios = [
        ("broken", _module(broken)),
        ("import_failed", ImportError("no module")),
        ("fine", _module(lambda ctx: [_row("fine", 12.0, 4.0, True)])),
    ]
    # When the runner runs them
    rows = run_scenarios(scenarios, BenchContext(engine=db, dataset=None, redis_url="memory://"))  # type: ignore[arg-type]
    # Then the failures are ERROR rows with their cause, the last one measured, the environment restored
    assert [(row.scenario, row.verdict) for row in rows] == [
        ("broken", "ERROR"),
        ("import_failed", "ERROR"),
        ("fine", "PASS"),
    ]
    assert rows[0].notes == "RuntimeError: boom"
    assert os.environ["CACHE_KEY_PREFIX"] == before


def test_table_and_json_show_every_column_with_the_ratio_to_the_baseline() -> None:
    # Given a passing and a missing row
    rows = [_row("fast", 12.0, 4.0, True), _row("slow", 90.0, 10.0, False)]
    # When rendered
    lines = table_lines(rows)
    document = results_document(rows, {"scale": 1.0})
    # Then the header has every column and each row its ratio and verdict
    assert [cell.strip() for cell in lines[0].split("|")] == list(COLUMNS)
    assert "3.0x" in lines[2] and lines[2].endswith("PASS")
    assert "9.0x" in lines[3] and lines[3].endswith("MISS")
    assert [(row["ratio"], row["result"]) for row in document["rows"]] == [(3.0, "PASS"), (9.0, "MISS")]


def test_sub_millisecond_figures_keep_their_thousandths_and_no_row_is_still_a_table() -> None:
    # Given a row of a Redis round trip (under a millisecond), and a run whose scenarios gave no row
    lines = table_lines([_row("round trip", 0.159, 0.132, True)])
    empty = table_lines([])
    # Then the figures are not rounded to a tenth, and the empty run prints its header
    assert "0.159 ms" in lines[2] and "0.132 ms" in lines[2] and "0.080 ms" in lines[2]
    assert [cell.strip() for cell in empty[0].split("|")] == list(COLUMNS)


def test_scale_seed_gives_the_heavy_user_its_notifications_within_its_organization(db: Engine) -> None:
    # Given a small fraction of the benchmark data set
    size = ScaleSize(scale=0.002)
    # When it is seeded
    dataset = seed_scale(db, size)
    # Then the heavy user owns exactly its share, and no notification crosses organizations
    with db.connect() as connection:
        heavy = connection.execute(
            text("SELECT count(*) FROM notifications WHERE user_id = :id"), {"id": dataset.heavy_user.user_id}
        ).scalar_one()
        crossing = connection.execute(
            text(
                "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
                "LEFT JOIN intervention_plans p ON p.id = n.intervention_plan_id "
                "WHERE u.organization_id <> n.organization_id OR p.organization_id <> n.organization_id"
            )
        ).scalar_one()
    assert heavy == size.seed_size().heavy_user_notifications
    assert dataset.notifications == size.seed_size().notifications
    assert crossing == 0
    assert dataset.coordinator.organization_id == dataset.organization_ids[0]
    assert all(actor.organization_id == dataset.organization_ids[0] for actor in dataset.professionals)


def test_importer_chain_names_who_imported_a_package_first() -> None:
    # Given `python -X importtime` lines (children before their parent, one level deeper)
    tree = [
        ImportLine(3, "botocore.session", 50.0),
        ImportLine(2, "aws_lambda_powertools.shared.user_agent", 60.0),
        ImportLine(1, "aws_lambda_powertools", 90.0),
        ImportLine(0, "health_handler", 120.0),
    ]
    # When asked who imported botocore
    chain = importer_chain(tree, "botocore")
    # Then the parents come in order up to the handler module
    assert chain == ["aws_lambda_powertools.shared.user_agent", "aws_lambda_powertools", "health_handler"]
