"""The layout docs/ARCHITECTURE.md promises, checked on the source: every feature has its four files (a job,
which has no routes, the other three), SQL is built only in repositories (and db/, migrations), and every
use case takes the context first."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import eduautismo

LAYER = Path(eduautismo.__file__).parent
FEATURES = (
    "plans",
    "students",
    "users",
    "reports",
    "notifications",
    "exports",
    "health",
    "digests",
    "plan_document",
)
FOUR_FILES = ("routes.py", "schemas.py", "service.py", "repository.py")
# Packages run by a schedule, not by routes: every public function of their service is a use case.
JOBS = ("jobs",)
JOB_FILES = ("schemas.py", "service.py", "repository.py")
# What a module may take from SQLAlchemy without building a query: sessions, engines and errors.
TYPES_ONLY = {"sqlalchemy.orm": {"Session"}, "sqlalchemy": {"Engine"}}
ERRORS_MODULE = "sqlalchemy.exc"


def layer_files() -> list[Path]:
    return sorted(path for path in LAYER.rglob("*.py") if "migrations" not in path.parts)


def may_build_queries(path: Path) -> bool:
    relative = path.relative_to(LAYER)
    return path.name == "repository.py" or relative.parts[0] == "db"


def sqlalchemy_imports(path: Path) -> list[tuple[str, str]]:
    """Every (module, name) the file imports from SQLAlchemy, at any depth (function-level imports too)."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found.extend((node.module or "", alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(
                (alias.name, "*") for alias in node.names if alias.name.split(".")[0] == "sqlalchemy"
            )
    return found


def test_every_feature_has_routes_schemas_service_and_repository() -> None:
    # Given the feature packages of the layer, and its jobs
    missing = [
        f"{package}/{name}"
        for package, files in [*((f, FOUR_FILES) for f in FEATURES), *((j, JOB_FILES) for j in JOBS)]
        for name in files
        if not (LAYER / package / name).exists()
    ]
    # Then each feature has the four files, and each job all but routes.py
    assert missing == []


def test_sqlalchemy_query_construction_is_only_in_repositories_and_db() -> None:
    # Given every module of the layer outside repositories, db/ and migrations
    offenders: dict[str, list[str]] = {}
    for path in layer_files():
        relative = path.relative_to(LAYER).as_posix()
        if may_build_queries(path):
            continue
        # When its SQLAlchemy imports are read
        building = [
            f"{module}.{name}"
            for module, name in sqlalchemy_imports(path)
            if module != ERRORS_MODULE and name not in TYPES_ONLY.get(module, set())
        ]
        if building:
            offenders[relative] = building
    # Then none of them takes anything that builds a statement
    assert offenders == {}


def test_the_check_sees_a_query_built_outside_a_repository(tmp_path: Path) -> None:
    # Given a service module that builds a select
    module = tmp_path / "service.py"
    module.write_text("from sqlalchemy import select\nfrom sqlalchemy.orm import Session\n", encoding="utf-8")
    # Then the import walk reports the select and lets the session type through
    imports = sqlalchemy_imports(module)
    assert ("sqlalchemy", "select") in imports
    assert [name for module_name, name in imports if name not in TYPES_ONLY.get(module_name, set())] == [
        "select"
    ]


def use_cases(feature: str) -> set[str]:
    """The service functions the feature's routes call: its use cases."""
    tree = ast.parse((LAYER / feature / "routes.py").read_text(encoding="utf-8"))
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "service"
    }


def not_taking_the_context_first(service: Path, names: Callable[[str], bool]) -> list[str]:
    """The top-level functions of ``service`` selected by ``names`` whose first parameter is not
    ``ctx: Context``."""
    wrong: list[str] = []
    for node in ast.parse(service.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and names(node.name):
            first = node.args.args[0] if node.args.args else None
            annotation = ast.unparse(first.annotation) if first and first.annotation else ""
            if (first and first.arg, annotation) != ("ctx", "Context"):
                wrong.append(node.name)
    return wrong


def is_public(name: str) -> bool:
    return not name.startswith("_")


def test_every_route_calls_its_service() -> None:
    # Given the features with routes (health's check runs without SQLAlchemy, so without the context: see
    # docs/ARCHITECTURE.md)
    silent = [feature for feature in FEATURES if feature != "health" and not use_cases(feature)]
    # Then each route module reaches its feature through the service
    assert silent == []


def test_every_public_service_function_takes_the_context_first() -> None:
    # Given every public function of the services of the features, the jobs and organizations (a helper a
    # use case needs is private, or lives in schemas/repository)
    packages = [*(feature for feature in FEATURES if feature != "health"), *JOBS, "organizations"]
    wrong = [
        f"{package}.service.{name}"
        for package in packages
        for name in not_taking_the_context_first(LAYER / package / "service.py", is_public)
    ]
    # Then each takes ``ctx: Context`` first
    assert wrong == []


def test_the_check_sees_a_use_case_without_the_context_first(tmp_path: Path) -> None:
    # Given a service with a use case taking the context first, one taking an engine, and a private helper
    service = tmp_path / "service.py"
    service.write_text(
        "def run(ctx: Context, request: Request) -> Summary: ...\n"
        "def run_old(engine: Engine, now: datetime) -> Summary: ...\n"
        "def _helper(session: Session) -> int: ...\n",
        encoding="utf-8",
    )
    # Then only the public one without the context is reported
    assert not_taking_the_context_first(service, is_public) == ["run_old"]
