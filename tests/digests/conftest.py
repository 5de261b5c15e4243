"""Builders of the digest tests: an outbox in a temporary folder, and one tick of the digest."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine

from eduautismo.clock import FixedClock
from eduautismo.context import Context, build_context
from eduautismo.digests import service
from eduautismo.digests.schemas import TickSummary
from eduautismo.digests.senders import OutboxSender

Tick = Callable[..., TickSummary]


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sender = OutboxSender(folder)

    def messages(self) -> list[EmailMessage]:
        if not self.folder.exists():
            return []
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in sorted(self.folder.glob("*.eml"))
        ]

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages() if message["To"] == address]


def parts(message: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a digest."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    # Lines end in CRLF on the wire (RFC 5322); compare them as text.
    return str(text.get_content()).replace("\r\n", "\n"), str(html.get_content()).replace("\r\n", "\n")


def context_at(now: datetime) -> Context:
    """A job's context (no caller) whose clock says ``now``."""
    return build_context(clock=FixedClock(now))


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox")


@pytest.fixture
def tick(db: Engine, outbox: Outbox) -> Tick:
    def run(now: datetime, everyone: bool = False) -> TickSummary:
        return service.run_tick(context_at(now), service.Tick(now, everyone), outbox.sender)

    return run
