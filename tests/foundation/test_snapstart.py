"""SnapStart: the runtime hooks, run in the order Lambda runs them, in one process. After a restore no
database or Redis connection of the snapshot is used, the memos are empty, random draws differ between
restored copies, and the next request opens its own connections and works."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import snapshot_restore_py
from sqlalchemy import Engine, text

from eduautismo.cache.client import get_redis
from eduautismo.db.engine import get_engine
from eduautismo.identity import provisioning
from eduautismo.organizations import service as organizations
from eduautismo_local.template_routes import PROJECT_ROOT
from tests.support.api import call_api
from tests.support.factories import Factory

PENDING_REVIEW = "/api/v1/intervention-plans/pending-review"


def _run(hooks: list[Any]) -> None:
    for function, args, kwargs in hooks:
        function(*args, **kwargs)


def take_snapshot() -> None:
    """Lambda runs the before-snapshot hooks in reverse order of registration."""
    _run(list(reversed(snapshot_restore_py.get_before_snapshot())))


def restore() -> None:
    _run(list(snapshot_restore_py.get_after_restore()))


def backend_pids(engine: Engine) -> set[int]:
    """The server processes of the connections resting in the engine's pool."""
    pids = set()
    pooled = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
    try:
        for connection in pooled:
            cursor = connection.cursor()
            cursor.execute("SELECT pg_backend_pid()")
            pids.add(int(cursor.fetchone()[0]))
            cursor.close()
    finally:
        for connection in pooled:
            connection.close()
    return pids


def test_after_restore_the_next_request_opens_new_connections_and_works(factory: Factory) -> None:
    # Given a warm plans function: one pending-review request served, its connections pooled
    professional = factory.user(factory.organization())
    factory.plan(professional, title="Plano em revisão", start_date=date.today() - timedelta(days=30))
    assert call_api("GET", PENDING_REVIEW, claims=professional.claims).status == 200
    pids_before = backend_pids(get_engine())
    redis_before = get_redis()
    assert pids_before and redis_before is not None
    assert provisioning._provisioned and organizations._timezones

    # When Lambda takes the snapshot and restores it
    take_snapshot()
    assert get_engine().pool.checkedin() == 0  # the snapshot holds no database connection
    restore()

    # Then the memos are empty and Redis is a new client (no socket shared between restored copies)
    assert not provisioning._provisioned and not organizations._timezones
    assert get_redis() is not redis_before
    # And the next request works on connections of its own
    response = call_api("GET", PENDING_REVIEW, claims=professional.claims)
    assert response.status == 200
    assert [item["title"] for item in response.json["items"]] == ["Plano em revisão"]
    pids_after = backend_pids(get_engine())
    assert pids_after and not pids_after & pids_before


def test_restored_copies_draw_different_random_numbers(db: Engine) -> None:
    # Given two copies restored from the same snapshot (the same generator state)
    snapshot_state = random.getstate()
    restore()
    first_copy = [random.random() for _ in range(4)]
    random.setstate(snapshot_state)
    restore()
    second_copy = [random.random() for _ in range(4)]
    # Then each was reseeded: their cache TTL jitter does not move in lockstep
    assert first_copy != second_copy


def test_the_snapshot_hook_leaves_no_connection_open_on_the_server(factory: Factory) -> None:
    # Given a served request (pooled connections exist)
    professional = factory.user(factory.organization())
    assert call_api("GET", PENDING_REVIEW, claims=professional.claims).status == 200
    with get_engine().connect() as connection:
        own_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    # When the snapshot is taken
    take_snapshot()
    # Then the server no longer has the pooled connection
    with factory.engine.connect() as connection:
        alive = connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": own_pid}
        ).scalar_one()
    assert alive == 0


# A fresh interpreter, as a Lambda container: import a function's handler, count its built models, run the
# before-snapshot hooks Lambda would run, count again.
_MODELS_BUILT_BY_THE_HOOK = """
import json, snapshot_restore_py
import {module}
from eduautismo.api.model import ApiModel

def models(base):
    for model in base.__subclasses__():
        yield model
        yield from models(model)

def built():
    return sorted(model.__name__ for model in models(ApiModel) if model.__pydantic_complete__)

after_import = built()
for function, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
    function(*args, **kwargs)
print(json.dumps({{"after_import": after_import, "after_hook": built(), "all": len(list(models(ApiModel)))}}))
"""


def test_models_are_built_by_the_snapshot_hook_not_at_import(db: Engine) -> None:
    # Given a fresh interpreter that imports the plans function's handler
    code_dir = PROJECT_ROOT / "functions" / "plans"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code_dir), *sys.path])}
    # When it is imported and then the before-snapshot hooks run
    completed = subprocess.run(
        [sys.executable, "-c", _MODELS_BUILT_BY_THE_HOOK.format(module="plans_handler")],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    built = json.loads(completed.stdout.strip().splitlines()[-1])
    # Then the import built (almost) none of the request and response models
    assert len(built["after_import"]) <= 2, built["after_import"]
    # And the hook built those of every route the function serves
    for name in ("PlanCreate", "PlanOut", "StudentOut", "UserOut", "ErrorEnvelope", "ExportLink"):
        assert name in built["after_hook"], name
