"""Every per-container cache of the layer joins the reset registry where it is created, and forgetting
through the registry empties each of them (tests, the local server and a SnapStart restore rely on it)."""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine

import eduautismo
from eduautismo import resettable
from eduautismo.runtime import reset_runtime, restore_runtime

# Alembic's scripts run only under Alembic (env.py reads its config at import).
NOT_IMPORTABLE = ("eduautismo.db.migrations",)


def layer_modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(eduautismo.__path__, prefix="eduautismo."):
        if not info.name.startswith(NOT_IMPORTABLE):
            yield importlib.import_module(info.name)


def module_level_caches() -> list[tuple[str, Any]]:
    """Every cache defined at the top level of a module of the layer: lru_cache'd functions and memos,
    and any mutable dict, set or list held under a lowercase (not constant) name."""
    found: list[tuple[str, Any]] = []
    for module in layer_modules():
        if module is resettable:
            continue
        for name, value in vars(module).items():
            defined_here = getattr(value, "__module__", module.__name__) == module.__name__
            mutable = (
                isinstance(value, dict | set | list) and not name.isupper() and not name.startswith("__")
            )
            cache = isinstance(value, resettable.Memo) or hasattr(value, "cache_clear")
            if (cache and defined_here) or mutable:
                found.append((f"{module.__name__}.{name}", value))
    return found


def test_every_module_level_cache_is_in_the_registry() -> None:
    # Given every module of the layer imported, and the caches found at their top level
    caches = module_level_caches()
    covered = [cached for entry in resettable.entries() for cached in entry.covers]
    # Then each of them is covered by an entry of the registry (a plain dict or set never is)
    assert caches, "the walk found no cache at all"
    missing = [name for name, value in caches if not any(value is entry for entry in covered)]
    assert missing == []


def _filled(value: Any) -> bool:
    if isinstance(value, resettable.Memo):
        return len(value) > 0
    return bool(value.cache_info().currsize)


def test_a_reset_empties_every_cache(db: Engine) -> None:
    # Given every registered cache filled: the singletons and memos by use, the memos by hand
    for name, value in module_level_caches():
        if isinstance(value, resettable.Memo):
            value.put(name, None)
        elif value.cache_info().maxsize == 1:
            value()
    assert all(_filled(value) for _, value in module_level_caches() if not _is_memo_of_args(value))
    # When the runtime is reset
    reset_runtime()
    # Then every one of them is empty
    assert [name for name, value in module_level_caches() if _filled(value)] == []


def _is_memo_of_args(value: Any) -> bool:
    return not isinstance(value, resettable.Memo) and value.cache_info().maxsize != 1


@pytest.mark.usefixtures("db")
def test_a_restore_drops_live_state_and_keeps_settings() -> None:
    # Given the settings read and a Redis client and a memo in use
    from eduautismo.cache.client import get_redis
    from eduautismo.identity import provisioning
    from eduautismo.settings import get_settings

    settings, client = get_settings(), get_redis()
    provisioning._provisioned.put(uuid.uuid4(), None)  # type: ignore[arg-type]
    # When a SnapStart copy is restored
    restore_runtime()
    # Then the settings object is the same, the client and the memo are not
    assert get_settings() is settings
    assert get_redis() is not client
    assert len(provisioning._provisioned) == 0
