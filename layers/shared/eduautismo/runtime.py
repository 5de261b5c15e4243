"""Per-container singletons (settings, engine, Redis, AWS clients, in-process memos) and their reset.

Only what the function has loaded is reset: importing a module here just to clear its cache would put
SQLAlchemy or boto3 into functions that never use them (health imports neither).
"""

from __future__ import annotations

import random
import sys
from types import ModuleType


def _loaded(name: str) -> ModuleType | None:
    return sys.modules.get(name)


def forget_memos() -> None:
    """In-process memos of what the database said: provisioned principals, organization timezones."""
    if provisioning := _loaded("eduautismo.identity.provisioning"):
        provisioning.forget_provisioned()
    if plans_service := _loaded("eduautismo.plans.service"):
        plans_service.forget_organization_timezones()


def _clear_aws_clients() -> None:
    if storage := _loaded("eduautismo.exports.storage"):
        storage.get_s3_client.cache_clear()
    if dispatch := _loaded("eduautismo.exports.dispatch"):
        dispatch.get_lambda_client.cache_clear()
    if parameters := _loaded("aws_lambda_powertools.utilities.parameters"):
        parameters.clear_caches()  # secrets read before a snapshot are read again


def reset_runtime() -> None:
    """Tests and the local server switch databases and settings: rebuild everything on next use."""
    from eduautismo.settings import get_settings

    if engine := _loaded("eduautismo.db.engine"):
        engine.reset_engine()
    if cache := _loaded("eduautismo.cache.client"):
        cache.reset_redis()
    forget_memos()
    get_settings.cache_clear()
    _clear_aws_clients()


def restore_runtime() -> None:
    """After a SnapStart restore: this copy of the snapshot must share nothing live with the others.

    The pooled database connections are dropped without being closed (their sockets belong to the
    snapshot; closing would send a Terminate on a connection another copy may think it owns) while the
    engine is kept, with its initialised dialect and compiled statements. Redis clients, the cache breaker,
    AWS clients and the memos are dropped, and the random generator (cache TTL jitter) reseeded from the OS
    so copies do not draw the same numbers.
    """
    if engine := _loaded("eduautismo.db.engine"):
        engine.drop_pooled_connections()
    if cache := _loaded("eduautismo.cache.client"):
        cache.reset_redis()
    forget_memos()
    _clear_aws_clients()
    random.seed()
