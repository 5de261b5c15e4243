"""Forgetting per-container state: settings, engine, Redis, AWS clients and in-process memos, each of which
registered itself in ``eduautismo.resettable`` where it was created.

Only what the function has loaded is registered: importing a module here just to clear its cache would put
SQLAlchemy or boto3 into functions that never use them (health imports neither).
"""

from __future__ import annotations

import random
import sys

from eduautismo import resettable


def _clear_powertools_parameters() -> None:
    """Secrets read before a snapshot (or under other settings) are read again."""
    if parameters := sys.modules.get("aws_lambda_powertools.utilities.parameters"):
        parameters.clear_caches()


def reset_runtime() -> None:
    """Tests and the local server switch databases and settings: rebuild everything on next use."""
    resettable.reset_all()
    _clear_powertools_parameters()


def restore_runtime() -> None:
    """After a SnapStart restore: this copy of the snapshot must share nothing live with the others.

    The pooled database connections are dropped without being closed (their sockets belong to the
    snapshot; closing would send a Terminate on a connection another copy may think it owns) while the
    engine is kept, with its initialised dialect and compiled statements. Redis clients, the cache breaker,
    AWS clients and the memos are dropped, and the random generator (cache TTL jitter) reseeded from the OS
    so copies do not draw the same numbers.
    """
    resettable.restore_all()
    _clear_powertools_parameters()
    random.seed()
