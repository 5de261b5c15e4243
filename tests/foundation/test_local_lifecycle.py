"""Local mode applies the export bucket's lifecycle rule (moto stores it but never applies it): export files
older than a day are deleted, as in AWS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from eduautismo_local.embedded import LOCAL_BUCKET, local_s3_client, start_s3_server
from eduautismo_local.lifecycle import LifecycleSweeper, apply_lifecycle, configure_lifecycle


@pytest.fixture
def local_s3() -> Iterator[Any]:
    """Local mode's S3 server with an empty bucket and its own rule again afterwards (moto keeps buckets per
    process: another test's local server may have made the bucket, and later ones reuse it)."""
    server, endpoint = start_s3_server()
    s3 = local_s3_client(endpoint)
    _empty(s3)
    try:
        yield s3
    finally:
        _empty(s3)
        configure_lifecycle(s3, LOCAL_BUCKET)
        server.stop()


def _empty(s3: Any) -> None:
    for key in _keys(s3):
        s3.delete_object(Bucket=LOCAL_BUCKET, Key=key)


def _keys(s3: Any) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=LOCAL_BUCKET).get("Contents", [])}


def test_export_files_older_than_a_day_are_deleted_and_newer_ones_kept(local_s3: Any) -> None:
    # Given local mode's bucket with an export file and a file outside the rule's prefix
    local_s3.put_object(Bucket=LOCAL_BUCKET, Key="exports/a.csv", Body=b"Helena")
    local_s3.put_object(Bucket=LOCAL_BUCKET, Key="other/b.txt", Body=b"x")
    written = local_s3.head_object(Bucket=LOCAL_BUCKET, Key="exports/a.csv")["LastModified"]
    # When the bucket's rule is applied just before a day has passed, then just after
    kept = apply_lifecycle(local_s3, LOCAL_BUCKET, written + timedelta(days=1) - timedelta(seconds=1))
    keys_before = _keys(local_s3)
    deleted = apply_lifecycle(local_s3, LOCAL_BUCKET, written + timedelta(days=1, seconds=1))
    # Then the export file lives its day and is gone after it; nothing outside exports/ is touched
    assert (kept, keys_before) == (0, {"exports/a.csv", "other/b.txt"})
    assert (deleted, _keys(local_s3)) == (1, {"other/b.txt"})


def test_the_local_server_sweeps_with_the_bucket_rule(local_s3: Any) -> None:
    # Given an export file and a rule that expires files at once (moto stamps files with the real time)
    rule = {"ID": "now", "Status": "Enabled", "Filter": {"Prefix": "exports/"}, "Expiration": {"Days": 0}}
    local_s3.put_bucket_lifecycle_configuration(Bucket=LOCAL_BUCKET, LifecycleConfiguration={"Rules": [rule]})
    local_s3.put_object(Bucket=LOCAL_BUCKET, Key="exports/a.csv", Body=b"Helena")
    # When the local server's sweeper starts, then stops
    sweeper = LifecycleSweeper(local_s3, LOCAL_BUCKET, interval=3600)
    sweeper.start()
    sweeper.stop()
    # Then its first sweep applied the bucket's rule
    assert _keys(local_s3) == set()
