"""The email digest's use cases (README "Reminders"), each ``verb(ctx, request)`` in its own unit of work:
the hourly selection, one digest's delivery, a local tick, the one-click unsubscribe and the suppression
of bounced or complaining addresses.

Each digest goes out once: the worker takes the user's delivery row of the period (unique per user and
period) in the transaction that sends, so a duplicate SQS delivery or a concurrent worker finds it taken
or sent. A failed send rolls the row back and raises: SQS delivers the message again, then to the DLQ.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from eduautismo.clock import local_today
from eduautismo.context import Context
from eduautismo.digests import rendering, repository, tokens
from eduautismo.digests.schemas import DigestContent, DigestRequest, TickSummary
from eduautismo.digests.senders import Sender
from eduautismo.errors import BadRequest
from eduautismo.notifications import repository as notifications
from eduautismo.settings import Settings


class Outcome(StrEnum):
    SENT = "sent"
    EMPTY = "empty"  # nothing to report: no email
    SKIPPED = "skipped"  # sent, taken by another worker, turned off or suppressed meanwhile


@dataclass(frozen=True, slots=True)
class Tick:
    """One hourly tick at ``at``; ``everyone``: whatever their hour (local mode's ``--all``)."""

    at: datetime
    everyone: bool = False


def due_requests(ctx: Context, tick: Tick) -> list[DigestRequest]:
    """The users due at the tick's time (one set-based query), as queue messages."""
    with ctx.uow() as session:
        due = repository.due_users(session.connection(), tick.at, tick.everyone)
    # Built without validation: the values come from the database and this tick (90,000 models of a
    # large organization's hour cost a second when validated).
    return [
        DigestRequest.model_construct(user_id=user_id, period=period, at=tick.at) for user_id, period in due
    ]


def _content(session: Session, request: DigestRequest, settings: Settings) -> DigestContent | None:
    recipient = repository.recipient(session, request.user_id)
    if recipient is None:
        return None
    today = local_today(request.at, recipient.timezone)
    overdue, due_soon, overdue_total, due_soon_total = repository.own_plans(
        session, recipient.user_id, today, settings.review_due_soon_days, settings.digest_max_plans
    )
    content = DigestContent(
        recipient, request.period, today, overdue, due_soon, overdue_total, due_soon_total
    )
    content.unread_count = notifications.badge_counts(session, recipient.user_id, request.at)[0]
    if recipient.is_coordinator:
        content.escalations = repository.escalations(
            session, recipient.organization_id, today, settings.escalate_after_days, settings.digest_max_plans
        )
    return content


def deliver(ctx: Context, request: DigestRequest, sender: Sender) -> Outcome:
    """Send one digest at most once; raises when the send failed (the message is retried)."""
    settings = ctx.settings
    with ctx.uow() as session:
        if not repository.claim_delivery(session, request.user_id, request.period, request.at):
            return Outcome.SKIPPED
        content = _content(session, request, settings)
        if content is None or content.is_empty:
            outcome = Outcome.SKIPPED if content is None else Outcome.EMPTY
            repository.finish_delivery(
                session, request.user_id, request.period, outcome.value, request.at, None
            )
            return outcome
        token = tokens.sign(tokens.unsubscribe_secret(settings), request.user_id, request.period)
        email = rendering.render(
            content,
            email_from=settings.email_from,
            app_base_url=settings.app_base_url,
            unsubscribe=rendering.unsubscribe_url(settings.api_base_url, token),
            escalate_after_days=settings.escalate_after_days,
            at=request.at,
        )
        message_id = sender.send(email)
        repository.finish_delivery(
            session, request.user_id, request.period, Outcome.SENT.value, request.at, message_id
        )
        return Outcome.SENT


def run_tick(
    ctx: Context, tick: Tick, sender: Sender, timer: Callable[[], float] = time.perf_counter
) -> TickSummary:
    """One hourly tick in one process (local mode): select, then deliver each digest in turn."""
    started = timer()
    requests = due_requests(ctx, tick)
    summary = TickSummary(selected=len(requests))
    for request in requests:
        outcome = deliver(ctx, request, sender)
        summary.sent += outcome is Outcome.SENT
        summary.empty += outcome is Outcome.EMPTY
        summary.already_sent += outcome is Outcome.SKIPPED
    summary.duration_ms = round((timer() - started) * 1000)
    return summary


def unsubscribe(ctx: Context, token: str) -> None:
    """One-click unsubscribe: the signed token is the credential; the digest is turned off."""
    claim = tokens.verify(tokens.unsubscribe_secret(ctx.settings), token)
    with ctx.uow() as session:
        if not repository.turn_digest_off(session, claim.user_id):
            raise BadRequest("the unsubscribe link is invalid")


def check_token(ctx: Context, token: str) -> None:
    """The confirmation page is shown only for a genuine link; nothing changes."""
    tokens.verify(tokens.unsubscribe_secret(ctx.settings), token)


# SES event types (configuration set event destination) that stop further mail to the address.
SUPPRESSING_EVENTS = {"Bounce": "bounce", "Complaint": "complaint"}


def suppress_addresses(ctx: Context, events: Iterable[dict[str, Any]]) -> int:
    """Record the addresses of permanent bounces and complaints (SES event publishing's JSON)."""
    suppressed = 0
    now = ctx.clock.now()
    with ctx.uow() as session:
        for event in events:
            reason = SUPPRESSING_EVENTS.get(str(event.get("eventType") or event.get("notificationType")))
            if reason is None or not _is_permanent(event):
                continue
            for address in _addresses(event, reason):
                repository.suppress(session, address, reason, now)
                suppressed += 1
    return suppressed


def _is_permanent(event: dict[str, Any]) -> bool:
    bounce = event.get("bounce")
    return not isinstance(bounce, dict) or bounce.get("bounceType") == "Permanent"


def _addresses(event: dict[str, Any], reason: str) -> list[str]:
    detail = event.get(reason)
    key = "bouncedRecipients" if reason == "bounce" else "complainedRecipients"
    recipients = detail.get(key, []) if isinstance(detail, dict) else []
    return [
        str(item["emailAddress"]) for item in recipients if isinstance(item, dict) and "emailAddress" in item
    ]
