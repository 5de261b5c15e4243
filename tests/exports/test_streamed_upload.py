"""Streamed (multipart) uploads of exports: parts in order, encrypted like any export, nothing left behind
when the producer fails."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from eduautismo.domain import ExportFormat
from eduautismo.errors import DependencyUnavailable
from eduautismo.exports.storage import PART_BYTES, ExportStorage
from tests.exports.conftest import BUCKET


def _storage(s3: Any) -> ExportStorage:
    return ExportStorage(s3, BUCKET, url_ttl_seconds=60, kms_key_id=None)


def _open_uploads(s3: Any) -> list[Any]:
    return list(s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []))


def test_a_streamed_upload_stores_every_part_in_order_encrypted(s3: Any) -> None:
    # Given a producer writing three parts, in uneven pieces (parts are sent while the next one fills)
    pieces = [bytes([index % 251]) * 1_000_003 for index in range(2 * PART_BYTES // 1_000_003 + 2)]
    # When it streams them into an upload
    with _storage(s3).streamed_upload(ExportFormat.CSV, "planos.csv") as upload:
        for piece in pieces:
            upload.write(piece)
    # Then the object holds the bytes in order, counted, encrypted and typed; no upload stays open
    stored = s3.get_object(Bucket=BUCKET, Key=upload.key)
    assert stored["Body"].read() == b"".join(pieces)
    assert upload.size_bytes == sum(map(len, pieces)) > 2 * PART_BYTES
    assert stored["ServerSideEncryption"] == "AES256"
    assert stored["ContentType"] == "text/csv; charset=utf-8"
    assert stored["ContentDisposition"] == 'attachment; filename="planos.csv"'
    assert _open_uploads(s3) == []


def test_a_failing_producer_leaves_no_object_and_no_open_upload(s3: Any) -> None:
    # Given a producer that fails after a part has been sent
    with (
        pytest.raises(RuntimeError, match="consulta falhou"),
        _storage(s3).streamed_upload(ExportFormat.CSV, "planos.csv") as upload,
    ):
        upload.write(b"x" * (PART_BYTES + 1))
        raise RuntimeError("consulta falhou")
    # Then nothing is stored and the upload is aborted (its parts dropped)
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    assert _open_uploads(s3) == []


class SecondPartRefused:
    """The moto S3 client, except that S3 refuses the second part of an upload."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def __getattr__(self, name: str) -> Any:
        return getattr(self.s3, name)

    def upload_part(self, **arguments: Any) -> Any:
        if arguments["PartNumber"] == 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "S3 falhou"}}, "UploadPart")
        return self.s3.upload_part(**arguments)


def test_a_part_refused_by_s3_fails_the_upload_and_leaves_nothing(s3: Any) -> None:
    # Given S3 that refuses the second part, which is sent while the producer goes on
    storage = ExportStorage(SecondPartRefused(s3), BUCKET, url_ttl_seconds=60, kms_key_id=None)
    # When a producer streams three parts
    with (
        pytest.raises(DependencyUnavailable),
        storage.streamed_upload(ExportFormat.CSV, "planos.csv") as upload,
    ):
        for _ in range(3):
            upload.write(b"y" * PART_BYTES)
    # Then the failure reaches the producer as storage unavailable (503), nothing is stored, none stays open
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    assert _open_uploads(s3) == []
