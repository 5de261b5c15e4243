"""Watches every statement the suite's database connections send, for session state: statements that
make RDS Proxy pin a client connection to one server connection (docs/DEPLOY.md, "Database connections")
and that PgBouncer in transaction mode would hand to another client.

Installed as a ``connect`` listener on every SQLAlchemy pool, it wraps the driver connection's two ways of
sending SQL (pg8000's simple and extended query), so it also sees what goes around SQLAlchemy's cursor
events: a raw DBAPI cursor in a ``connect`` listener, a COPY. Only statements the server accepted count:
a refused ``CREATE TEMP TABLE`` (a test proving a login may not) leaves nothing on the connection.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

_PINNING = re.compile(
    r"""^\s*(?:
        SET\s+(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b)  # SET x / SET SESSION x (not one transaction's)
      | RESET\b
      | DISCARD\b
      | PREPARE\s+(?!TRANSACTION\b)
      | LISTEN\b
      | LOAD\b
      | DECLARE\b[^;]*\bWITH\s+HOLD\b
      | CREATE\s+(?:GLOBAL\s+|LOCAL\s+)?TEMP(?:ORARY)?\b
      | SELECT\b[^;]*\bINTO\s+(?:TEMP(?:ORARY)?|UNLOGGED)?\s*TABLE\b
    )
    | \bpg_(?:try_)?advisory_lock(?:_shared)?\s*\(
    """,
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_SET_CONFIG = re.compile(r"\bset_config\s*\(", re.IGNORECASE)


def _set_config_is_local(statement: str, start: int) -> bool:
    """True when the set_config( call at ``start`` has ``true`` as its last argument (this transaction
    only); its arguments are read up to the matching parenthesis."""
    depth, index = 1, start
    while index < len(statement) and depth:
        depth += {"(": 1, ")": -1}.get(statement[index], 0)
        index += 1
    arguments = statement[start : index - 1]
    return arguments.rsplit(",", 1)[-1].strip().lower() == "true"


def pins_session(statement: str) -> bool:
    """Whether a statement leaves state on the session (so pins it behind RDS Proxy)."""
    if _PINNING.search(statement):
        return True
    return any(not _set_config_is_local(statement, match.end()) for match in _SET_CONFIG.finditer(statement))


def watch_statements(dbapi_connection: Any, seen: Callable[[str], None]) -> None:
    """Call ``seen(statement)`` after each statement the server accepted on this pg8000 connection: its
    two ways of sending SQL (simple and extended query) are wrapped on the instance."""
    for name in ("execute_simple", "execute_unnamed"):
        send: Callable[..., Any] = getattr(dbapi_connection, name)

        def watched(statement: str, *args: Any, _send: Callable[..., Any] = send, **kwargs: Any) -> Any:
            result = _send(statement, *args, **kwargs)
            seen(statement)
            return result

        setattr(dbapi_connection, name, watched)


def count_statements(engine: Engine) -> list[str]:
    """Every statement the engine's connections opened from now on send (each one a round trip)."""
    sent: list[str] = []
    event.listen(
        engine, "connect", lambda dbapi_connection, _record: watch_statements(dbapi_connection, sent.append)
    )
    return sent


class PinningDetector:
    """Records every accepted statement that pins (``violations``) from the moment it is installed."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self._lock = threading.Lock()
        self._diverted: list[list[str]] = []

    def install(self) -> None:
        # insert=True: before any other connect listener, so a SET in an engine's own listener is seen.
        event.listen(Pool, "connect", self._watch, insert=True)

    def remove(self) -> None:
        event.remove(Pool, "connect", self._watch)

    def _record(self, statement: str) -> None:
        if pins_session(statement):
            with self._lock:
                (self._diverted[-1] if self._diverted else self.violations).append(statement.strip())

    def _watch(self, dbapi_connection: Any, _record: Any) -> None:
        watch_statements(dbapi_connection, self._record)

    @contextmanager
    def caught(self) -> Iterator[list[str]]:
        """What pins inside the block goes to the list yielded, not to ``violations`` (a test that sends
        a pinning statement on purpose, to show it is seen)."""
        caught: list[str] = []
        with self._lock:
            self._diverted.append(caught)
        try:
            yield caught
        finally:
            with self._lock:
                self._diverted.remove(caught)
