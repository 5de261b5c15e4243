"""`eduautismo-local digest`: one hourly tick of the email digest, written to DATA_DIR/outbox/ as .eml
files (nothing is sent in local mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eduautismo.clock import FixedClock
from eduautismo.context import build_context
from eduautismo.digests import service
from eduautismo.digests.senders import OutboxSender
from eduautismo.jobs.schemas import event_time


def outbox_dir(data_dir: Path) -> Path:
    return data_dir / "outbox"


def run_digest(event: dict[str, Any], data_dir: Path, everyone: bool) -> dict[str, Any]:
    """The dispatcher's selection and the worker's delivery in one process, at the event's time."""
    at = event_time(event)
    ctx = build_context(clock=FixedClock(at))
    summary = service.run_tick(ctx, service.Tick(at, everyone), OutboxSender(outbox_dir(data_dir)))
    return {"time": event["time"], "outbox": str(outbox_dir(data_dir).resolve()), **vars(summary)}


def digest_summary(result: dict[str, Any], title: str = "email digest") -> str:
    lines = [
        f"{title} at {result['time']}",
        f"  users due:              {result['selected']}",
        f"  emails written:         {result['sent']}",
        f"  nothing to report:      {result['empty']}",
        f"  already sent:           {result['already_sent']}",
        f"  outbox:                 {result['outbox']}",
        f"  duration:               {result['duration_ms']} ms",
    ]
    return "\n".join(lines)
