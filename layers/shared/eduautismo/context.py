"""The one context every use case receives: ``service.verb(ctx, request) -> ResponseModel``.

Routes get it from one Powertools ``Depends`` provider (``eduautismo.api.dependencies.Ctx``); jobs and
workers build the same object with ``build_context``. A use case opens and commits its own transaction
with ``with ctx.uow() as session:`` and passes the session, never the context, to its repository. Nothing
below a service reads a clock, the settings or a client of its own: they come from here. See
docs/ARCHITECTURE.md.

Light to import: the types are only named here, so a function that never touches SQLAlchemy, Redis or
boto3 loads none of them by importing this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eduautismo.cache.manager import CacheManager
    from eduautismo.clock import Clock
    from eduautismo.db.engine import SessionScope
    from eduautismo.exports.storage import ExportStorage
    from eduautismo.identity.principal import Principal
    from eduautismo.settings import Settings


class NoCaller(RuntimeError):
    """A use case that needs a caller ran in a context without one (a job, a route without
    authentication): a wiring mistake, never the client's."""


@dataclass(frozen=True, slots=True)
class Context:
    """Who is asking (None for jobs and workers acting for nobody) and the adapters of this request.

    ``uow()`` is the unit-of-work factory: the block commits when it succeeds and rolls back when it
    raises. ``storage`` is the container's one export storage (its S3 client is built on first use)."""

    principal: Principal | None
    uow: SessionScope
    clock: Clock
    cache: CacheManager
    storage: ExportStorage
    settings: Settings

    @property
    def caller(self) -> Principal:
        """The principal of a request; raises ``NoCaller`` in a context built without one."""
        if self.principal is None:
            raise NoCaller("this use case needs an authenticated caller")
        return self.principal


def build_context(principal: Principal | None = None, *, clock: Clock | None = None) -> Context:
    """The context of this container's adapters: what the API provider, jobs and workers use.

    ``principal``: the caller of a request, a principal a job captured (an export worker acts with the
    scope its requester had), or None. ``clock``: the system clock unless a test or job fixes "now"."""
    from eduautismo.cache.manager import get_cache_manager
    from eduautismo.clock import SystemClock
    from eduautismo.db.engine import session_scope
    from eduautismo.exports.storage import get_export_storage
    from eduautismo.settings import get_settings

    return Context(
        principal=principal,
        uow=session_scope,
        clock=clock or SystemClock(),
        cache=get_cache_manager(),
        storage=get_export_storage(),
        settings=get_settings(),
    )
