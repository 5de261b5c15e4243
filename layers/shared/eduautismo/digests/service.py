"""The email digest's use cases (README "Reminders"): the hourly dispatch, one digest's delivery, the
one-click unsubscribe and the suppression of bounced or complaining addresses.

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

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.clock import local_today
from eduautismo.db.engine import SessionScope
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


@dataclass(frozen=True)
class Mailer:
    """What a delivery needs besides the database: where it sends, and the unsubscribe key."""

    sender: Sender
    secret: bytes
    settings: Settings


def due_requests(engine: Engine, now: datetime, *, everyone: bool = False) -> list[DigestRequest]:
    """The users due at ``now`` (one set-based query), as queue messages."""
    with engine.connect() as connection:
        due = repository.due_users(connection, now, everyone)
    return [DigestRequest(user_id=user_id, period=period, at=now) for user_id, period in due]


def _content(session: Session, request: DigestRequest, settings: Settings) -> DigestContent | None:
    recipient = repository.recipient(session, request.user_id)
    if recipient is None or not repository.digest_enabled(session, recipient.user_id, recipient.email):
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


def deliver(request: DigestRequest, *, sessions: SessionScope, mailer: Mailer) -> Outcome:
    """Send one digest at most once; raises when the send failed (the message is retried)."""
    settings = mailer.settings
    with sessions() as session:
        if not repository.claim_delivery(session, request.user_id, request.period, request.at):
            return Outcome.SKIPPED
        content = _content(session, request, settings)
        if content is None or content.is_empty:
            outcome = Outcome.SKIPPED if content is None else Outcome.EMPTY
            repository.finish_delivery(
                session, request.user_id, request.period, outcome.value, request.at, None
            )
            return outcome
        token = tokens.sign(mailer.secret, request.user_id, request.period)
        email = rendering.render(
            content,
            email_from=settings.email_from,
            app_base_url=settings.app_base_url,
            unsubscribe=rendering.unsubscribe_url(settings.api_base_url, token),
            escalate_after_days=settings.escalate_after_days,
            at=request.at,
        )
        message_id = mailer.sender.send(email)
        repository.finish_delivery(
            session, request.user_id, request.period, Outcome.SENT.value, request.at, message_id
        )
        return Outcome.SENT


def run_tick(
    engine: Engine,
    now: datetime,
    *,
    sessions: SessionScope,
    mailer: Mailer,
    everyone: bool = False,
    timer: Callable[[], float] = time.perf_counter,
) -> TickSummary:
    """One hourly tick in one process (local mode): select, then deliver each digest in turn."""
    started = timer()
    requests = due_requests(engine, now, everyone=everyone)
    summary = TickSummary(selected=len(requests))
    for request in requests:
        outcome = deliver(request, sessions=sessions, mailer=mailer)
        summary.sent += outcome is Outcome.SENT
        summary.empty += outcome is Outcome.EMPTY
        summary.already_sent += outcome is Outcome.SKIPPED
    summary.duration_ms = round((timer() - started) * 1000)
    return summary


def unsubscribe(token: str, *, sessions: SessionScope, secret: bytes) -> None:
    """One-click unsubscribe: the signed token is the credential; the digest is turned off."""
    claim = tokens.verify(secret, token)
    with sessions() as session:
        if not repository.turn_digest_off(session, claim.user_id):
            raise BadRequest("the unsubscribe link is invalid")


def check_token(token: str, *, secret: bytes) -> None:
    """The confirmation page is shown only for a genuine link; nothing changes."""
    tokens.verify(secret, token)


# SES event types (configuration set event destination) that stop further mail to the address.
SUPPRESSING_EVENTS = {"Bounce": "bounce", "Complaint": "complaint"}


def suppress_addresses(events: Iterable[dict[str, object]], *, sessions: SessionScope, now: datetime) -> int:
    """Record the addresses of permanent bounces and complaints (SES event publishing's JSON)."""
    suppressed = 0
    with sessions() as session:
        for event in events:
            reason = SUPPRESSING_EVENTS.get(str(event.get("eventType") or event.get("notificationType")))
            if reason is None or not _is_permanent(event):
                continue
            for address in _addresses(event, reason):
                repository.suppress(session, address, reason, now)
                suppressed += 1
    return suppressed


def _is_permanent(event: dict[str, object]) -> bool:
    bounce = event.get("bounce")
    return not isinstance(bounce, dict) or bounce.get("bounceType") == "Permanent"


def _addresses(event: dict[str, object], reason: str) -> list[str]:
    detail = event.get(reason)
    key = "bouncedRecipients" if reason == "bounce" else "complainedRecipients"
    recipients = detail.get(key, []) if isinstance(detail, dict) else []
    return [
        str(item["emailAddress"]) for item in recipients if isinstance(item, dict) and "emailAddress" in item
    ]
