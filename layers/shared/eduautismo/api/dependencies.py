"""What routes receive through Powertools ``Depends`` instead of reaching for module globals: above all
``Ctx``, the one context of a use case (``eduautismo.context``). Tests replace a provider with
``app.dependency_overrides`` (``tests.support.api.override_dependency``; ``get_clock`` fixes "now" for
every route); production wiring lives here alone.

No ``from __future__ import annotations`` here or in routes modules: Powertools reads the type hints of a
route and of each provider on every request, and string annotations would be compiled and evaluated
again each time (most of a cached pending-review answer's cost)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.depends import Depends

from eduautismo.clock import Clock, SystemClock
from eduautismo.context import Context, build_context
from eduautismo.identity.principal import PRINCIPAL_KEY, Principal

_SYSTEM_CLOCK = SystemClock()


def get_principal(request: Request) -> Principal:
    """The caller, put in the resolver context by the authentication middleware."""
    principal = request.context.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):  # a route mounted without authenticate()
        raise RuntimeError("route requires authentication middleware")
    return principal


def get_clock() -> Clock:
    return _SYSTEM_CLOCK


CurrentClock = Annotated[Clock, Depends(get_clock)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def get_context(principal: CurrentPrincipal, clock: CurrentClock) -> Context:
    """The context of one authenticated request."""
    return build_context(principal, clock=clock)


def get_public_context(clock: CurrentClock) -> Context:
    """The context of a route without login (the unsubscribe link): no caller."""
    return build_context(None, clock=clock)


Ctx = Annotated[Context, Depends(get_context)]
PublicCtx = Annotated[Context, Depends(get_public_context)]
