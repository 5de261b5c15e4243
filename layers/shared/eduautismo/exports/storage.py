"""S3 adapter of exports: encrypted objects under random keys, SigV4 presigned download links.

A presigned link is a bearer credential to children's data: it is returned to the requester and never
logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from eduautismo import resettable
from eduautismo.domain import ExportFormat
from eduautismo.errors import DependencyUnavailable
from eduautismo.observability import logger, trace_aws_sdk
from eduautismo.settings import get_settings

CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.JSON: "application/json",
    ExportFormat.PDF: "application/pdf",
}


# Parts of a streamed upload: S3 takes 5 MiB at least (but the last part); a part is all a stream holds.
PART_BYTES = 8 * 1024 * 1024
# Keys one DeleteObjects call takes at most.
DELETE_BATCH = 1000


# Kept across a SnapStart restore: exception classes are not live state.
@resettable.once(restore="keep")
def _storage_errors() -> tuple[type[Exception], ...]:
    """What a failing S3 call raises (Boto3Error: the transfer's own wrapper). boto3 and botocore are
    imported on first use, not with this module: the plans function routes here only for a student's data
    export."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return (Boto3Error, BotoCoreError, ClientError)


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: datetime


@resettable.once()
def get_s3_client() -> Any:
    """One client per container. SigV4 explicitly: boto3 may otherwise presign with SigV2."""
    import boto3
    from botocore.config import Config

    trace_aws_sdk()
    settings = get_settings()
    config = Config(
        signature_version="s3v4",
        connect_timeout=3,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
        # A local endpoint (moto) has no per-bucket DNS names.
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
    )
    return boto3.client(
        "s3", region_name=settings.aws_region, endpoint_url=settings.s3_endpoint_url, config=config
    )


def _unavailable(event: str, exc: BaseException) -> DependencyUnavailable:
    logger.warning(event, extra={"error_type": type(exc).__name__})
    return DependencyUnavailable("export storage unavailable, try again shortly")


class StreamedUpload:
    """The open multipart upload of one object: bytes are gathered into parts of ``PART_BYTES``. A full part
    is sent by a thread of its own while the next one fills, so the producer (a COPY streaming from
    PostgreSQL) goes on during the upload; memory holds two parts at most."""

    def __init__(self, client: Any, bucket: str, key: str, upload_id: str) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.upload_id = upload_id
        self.size_bytes = 0
        self._part = bytearray()
        self._sent: list[dict[str, Any]] = []
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-part")
        self._in_flight: Future[dict[str, Any]] | None = None

    def write(self, data: bytes) -> None:
        self._part += data
        self.size_bytes += len(data)
        if len(self._part) >= PART_BYTES:
            self._send_part()

    def _upload_part(self, number: int, body: bytes) -> dict[str, Any]:
        try:
            sent = self.client.upload_part(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
            )
        except _storage_errors() as exc:
            raise _unavailable("export upload failed", exc) from exc
        return {"PartNumber": number, "ETag": sent["ETag"]}

    def _settle(self) -> None:
        """Wait for the part in flight; its failure is raised here, in the producer's thread."""
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            self._sent.append(in_flight.result())

    def _send_part(self) -> None:
        self._settle()
        number = len(self._sent) + 1
        self._in_flight = self._sender.submit(self._upload_part, number, bytes(self._part))
        self._part.clear()

    def complete(self) -> None:
        if self._part or not self._sent:
            self._send_part()
        self._settle()
        self._sender.shutdown()
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self._sent},
            )
        except _storage_errors() as exc:
            raise _unavailable("export upload failed", exc) from exc

    def abort(self) -> None:
        """Drop the parts sent (S3 keeps, and bills, an unfinished upload's parts), once the part in flight
        has landed or failed (it would otherwise outlive the abort)."""
        self._sender.shutdown(wait=True)
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        except _storage_errors() as exc:
            logger.warning("export upload abort failed", extra={"error_type": type(exc).__name__})


class ExportStorage:
    """``client=None``: this container's S3 client, built on first use (boto3 is imported then, not when
    the storage is created)."""

    def __init__(self, client: Any, bucket: str | None, url_ttl_seconds: int, kms_key_id: str | None) -> None:
        self._client = client
        self.bucket = bucket
        self.url_ttl_seconds = url_ttl_seconds
        self.kms_key_id = kms_key_id

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else get_s3_client()

    def _encryption(self) -> dict[str, str]:
        """Asked on every upload, whatever the bucket's default: never an unencrypted export."""
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "AES256"}

    def _bucket(self) -> str:
        if not self.bucket:
            raise DependencyUnavailable("export storage is not configured")
        return self.bucket

    def _object_args(self, export_format: ExportFormat, filename: str) -> dict[str, str]:
        return {
            **self._encryption(),
            "ContentType": CONTENT_TYPES[export_format],
            "ContentDisposition": f'attachment; filename="{filename}"',
        }

    @staticmethod
    def _new_key(export_format: ExportFormat) -> str:
        """A random key: no names in keys."""
        return f"exports/{uuid.uuid4()}.{export_format.value}"

    def upload(self, path: Path, export_format: ExportFormat, filename: str) -> str:
        """Store the file under a random key and return the key."""
        key = self._new_key(export_format)
        try:
            self.client.upload_file(
                str(path), self._bucket(), key, ExtraArgs=self._object_args(export_format, filename)
            )
        except _storage_errors() as exc:
            raise _unavailable("export upload failed", exc) from exc
        return key

    @contextmanager
    def streamed_upload(self, export_format: ExportFormat, filename: str) -> Iterator[StreamedUpload]:
        """An object written as it is produced (an S3 multipart upload, so memory holds two parts at most):
        stored when the block ends, aborted (nothing left behind) when it raises."""
        key = self._new_key(export_format)
        try:
            started = self.client.create_multipart_upload(
                Bucket=self._bucket(), Key=key, **self._object_args(export_format, filename)
            )
        except _storage_errors() as exc:
            raise _unavailable("export upload failed", exc) from exc
        upload = StreamedUpload(self.client, self._bucket(), key, started["UploadId"])
        try:
            yield upload
            upload.complete()
        except BaseException:
            upload.abort()
            raise

    def delete(self, keys: Collection[str]) -> None:
        """Delete these objects now (S3 DeleteObjects, 1,000 keys a call); any key S3 could not delete
        fails the whole call, so the caller's transaction (an erasure) is not committed."""
        ordered = sorted(keys)
        for start in range(0, len(ordered), DELETE_BATCH):
            batch = [{"Key": key} for key in ordered[start : start + DELETE_BATCH]]
            try:
                answer = self.client.delete_objects(
                    Bucket=self._bucket(), Delete={"Objects": batch, "Quiet": True}
                )
            except _storage_errors() as exc:
                raise _unavailable("export delete failed", exc) from exc
            if answer.get("Errors"):
                logger.warning("export delete failed", extra={"keys_failed": len(answer["Errors"])})
                raise DependencyUnavailable("export storage unavailable, try again shortly")

    def link(self, key: str, now: datetime) -> DownloadLink:
        try:
            url = self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket(), "Key": key},
                ExpiresIn=self.url_ttl_seconds,
            )
        except _storage_errors() as exc:
            raise _unavailable("export link failed", exc) from exc
        return DownloadLink(str(url), now + timedelta(seconds=self.url_ttl_seconds))


@resettable.once()
def get_export_storage() -> ExportStorage:
    """The container's one export storage."""
    settings = get_settings()
    return ExportStorage(
        None, settings.export_bucket, settings.export_url_ttl_seconds, settings.export_kms_key_id
    )
