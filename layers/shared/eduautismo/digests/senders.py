"""Where a digest goes: Amazon SES v2 in AWS (raw MIME, so the RFC 8058 headers travel as written, and a
configuration set whose event destination reports bounces and complaints), or ``.eml`` files in
``DATA_DIR/outbox/`` in local mode."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Protocol

from eduautismo.digests.schemas import Email


class Sender(Protocol):
    def send(self, email: Email) -> str:
        """Send ``email``; answers the provider's message id. Raises when it was not accepted."""
        ...


class OutboxSender:
    """Local mode: each email written as an RFC 5322 file, nothing sent."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def send(self, email: Email) -> str:
        self.outbox.mkdir(parents=True, exist_ok=True)
        message_id = uuid.uuid4().hex
        path = self.outbox / f"{message_id}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(email.raw)
        temporary.replace(path)  # a reader never sees half a file
        return message_id


class SesSender:
    def __init__(self, client: Any, email_from: str, configuration_set: str | None) -> None:
        self.client = client
        self.email_from = email_from
        self.configuration_set = configuration_set

    def send(self, email: Email) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": self.email_from,
            "Destination": {"ToAddresses": [email.to]},
            "Content": {"Raw": {"Data": email.raw}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        return str(self.client.send_email(**request)["MessageId"])
