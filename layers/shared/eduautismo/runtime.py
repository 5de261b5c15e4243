"""Per-container singletons (settings, engine, Redis) and their reset for tests and the local server."""

from __future__ import annotations

from eduautismo.cache.client import reset_redis
from eduautismo.db.engine import reset_engine
from eduautismo.exports.dispatch import get_lambda_client
from eduautismo.exports.storage import get_s3_client
from eduautismo.identity.provisioning import forget_provisioned
from eduautismo.settings import get_settings


def reset_runtime() -> None:
    reset_engine()
    reset_redis()
    forget_provisioned()
    get_settings.cache_clear()
    get_s3_client.cache_clear()
    get_lambda_client.cache_clear()
