"""The export bucket's lifecycle rule in local mode. moto stores a bucket's lifecycle configuration but never
applies it: without this sweep, local export files (children's data) would stay forever, where AWS deletes
them a day after they were written (infra/stacks/storage.yaml)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

# The rule of infra/stacks/storage.yaml, as the S3 API writes it.
EXPORT_LIFECYCLE = {
    "Rules": [
        {
            "ID": "expire-exports-after-one-day",
            "Status": "Enabled",
            "Filter": {"Prefix": "exports/"},
            "Expiration": {"Days": 1},
        }
    ]
}
# How often the local server applies it.
SWEEP_SECONDS = 300.0


def configure_lifecycle(s3: Any, bucket: str) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=EXPORT_LIFECYCLE)


def apply_lifecycle(s3: Any, bucket: str, now: datetime) -> int:
    """Delete what the bucket's enabled expiration rules say has expired at ``now``; the count deleted."""
    deleted = 0
    for rule in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]:
        days = rule.get("Expiration", {}).get("Days")
        if rule.get("Status") != "Enabled" or days is None:
            continue
        prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix", ""))
        cutoff = now - timedelta(days=days)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            expired = [
                {"Key": item["Key"]} for item in page.get("Contents", []) if item["LastModified"] <= cutoff
            ]
            if expired:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": expired, "Quiet": True})
                deleted += len(expired)
    return deleted


class LifecycleSweeper:
    """Applies the lifecycle rule now and every ``SWEEP_SECONDS`` until stopped."""

    def __init__(self, s3: Any, bucket: str, interval: float = SWEEP_SECONDS) -> None:
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(s3, bucket, interval), name="s3-lifecycle", daemon=True
        )

    def _run(self, s3: Any, bucket: str, interval: float) -> None:
        while True:
            apply_lifecycle(s3, bucket, datetime.now(UTC))
            if self._stopped.wait(interval):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
