"""The digest queue: the dispatcher sends requests in batches of ten (SQS's maximum per call)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eduautismo.digests.schemas import DigestRequest

SQS_BATCH = 10


class QueueSendFailed(RuntimeError):
    """SQS refused some messages: the dispatcher fails, its retry sends again (workers deduplicate)."""


def publish(client: Any, queue_url: str, requests: Sequence[DigestRequest]) -> int:
    for start in range(0, len(requests), SQS_BATCH):
        batch = requests[start : start + SQS_BATCH]
        entries = [
            {"Id": str(index), "MessageBody": request.model_dump_json()}
            for index, request in enumerate(batch)
        ]
        answer = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if answer.get("Failed"):
            raise QueueSendFailed(f"{len(answer['Failed'])} digest requests refused by SQS")
    return len(requests)
