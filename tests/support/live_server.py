"""The local HTTP server (the one `eduautismo-local serve` runs) on a free loopback port, in a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from eduautismo.settings import get_settings
from eduautismo_local.embedded import free_port
from eduautismo_local.server import make_server
from eduautismo_local.tokens import issue_token
from tests.support.factories import Actor


@contextmanager
def running_server() -> Iterator[str]:
    """Yields the base URL; the server uses the process's current settings (database, cache)."""
    server = make_server(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def token_for(actor: Actor) -> str:
    """A local JWT (as `eduautismo-local token` issues) for a user the factory made."""
    return issue_token(
        get_settings(),
        sub=actor.user_id,
        organization_id=actor.organization_id,
        role=actor.role.value,
        email=actor.email,
        name=actor.name,
    )
