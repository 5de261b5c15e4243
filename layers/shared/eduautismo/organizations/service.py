"""An organization's timezone and its "today": every date the API shows or filters by is the
organization's local date, never the server's."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from eduautismo import resettable
from eduautismo.context import Context
from eduautismo.domain import DEFAULT_TIMEZONE
from eduautismo.organizations import repository
from eduautismo.organizations.schemas import LocalDay

# Timezones kept in-process for ORGANIZATION_TIMEZONE_TTL_SECONDS: a cached page needs no query.
_timezones: resettable.Memo[uuid.UUID, tuple[str, float]] = resettable.Memo(f"{__name__}._timezones")


def timezone(ctx: Context, organization_id: uuid.UUID) -> str:
    """The organization's timezone (read in a unit of work of its own when not memoized)."""
    now = time.monotonic()
    known = _timezones.get(organization_id)
    if known is not None and known[1] > now:
        return known[0]
    with ctx.uow() as session:
        found = repository.timezone(session, organization_id) or DEFAULT_TIMEZONE
    _timezones.put(organization_id, (found, now + ctx.settings.organization_timezone_ttl_seconds))
    return found


def local_day(ctx: Context, organization_id: uuid.UUID, now: datetime | None = None) -> LocalDay:
    """The organization's day at ``now`` (by default the context's clock)."""
    return LocalDay.at(
        now or ctx.clock.now(), timezone(ctx, organization_id), ctx.settings.review_due_soon_days
    )
