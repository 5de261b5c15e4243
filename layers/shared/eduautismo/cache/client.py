"""One Redis client per container, with short timeouts and a circuit breaker."""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from redis.credentials import CredentialProvider

from eduautismo import resettable
from eduautismo.settings import Settings, get_settings

MEMORY_URL_SCHEME = "memory://"


class CircuitBreaker:
    """After a failure, stop calling the dependency for ``cooldown_seconds``; then let one call try again."""

    def __init__(self, cooldown_seconds: float, clock: Any = time.monotonic) -> None:
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return bool(self._clock() < self._open_until)

    def record_failure(self) -> None:
        with self._lock:
            self._open_until = self._clock() + self.cooldown_seconds


class SecretPassword(CredentialProvider):
    """The AUTH token from Secrets Manager, read (cached briefly) for every new connection, so that
    connections opened after a token rotation use the new token."""

    def __init__(self, secret_arn: str) -> None:
        self.secret_arn = secret_arn

    def get_credentials(self) -> tuple[str]:
        from aws_lambda_powertools.utilities import parameters

        return (str(parameters.get_secret(self.secret_arn, max_age=300)),)


def build_redis(settings: Settings) -> redis.Redis | None:
    url = settings.redis_url
    if not url:
        return None
    if url.startswith(MEMORY_URL_SCHEME):
        import fakeredis  # local mode only: an in-process stand-in, not shipped in the layer

        return fakeredis.FakeRedis(server=_memory_server())
    credentials = SecretPassword(settings.redis_auth_secret_arn) if settings.redis_auth_secret_arn else None
    return redis.Redis.from_url(
        url,
        credential_provider=credentials,
        socket_connect_timeout=settings.redis_connect_timeout_ms / 1000,
        socket_timeout=settings.redis_command_timeout_ms / 1000,
        retry_on_timeout=False,
        health_check_interval=30,
    )


@resettable.once()
def _memory_server() -> Any:
    import fakeredis

    return fakeredis.FakeServer()


@resettable.once()
def get_redis() -> redis.Redis | None:
    return build_redis(get_settings())


@resettable.once()
def get_breaker() -> CircuitBreaker:
    return CircuitBreaker(get_settings().cache_breaker_seconds)
