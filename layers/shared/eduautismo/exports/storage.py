"""S3 adapter of exports: encrypted objects under random keys, SigV4 presigned download links.

A presigned link is a bearer credential to children's data: it is returned to the requester and never
logged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import boto3
from aws_lambda_powertools.event_handler.depends import Depends
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from eduautismo.domain import ExportFormat
from eduautismo.errors import DependencyUnavailable
from eduautismo.observability import logger, trace_aws_sdk
from eduautismo.settings import get_settings

CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.JSON: "application/json",
}


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: datetime


@lru_cache(maxsize=1)
def get_s3_client() -> Any:
    """One client per container. SigV4 explicitly: boto3 may otherwise presign with SigV2."""
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


class ExportStorage:
    def __init__(self, client: Any, bucket: str | None, url_ttl_seconds: int, kms_key_id: str | None) -> None:
        self.client = client
        self.bucket = bucket
        self.url_ttl_seconds = url_ttl_seconds
        self.kms_key_id = kms_key_id

    def _encryption(self) -> dict[str, str]:
        """Asked on every upload, whatever the bucket's default: never an unencrypted export."""
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "AES256"}

    def _bucket(self) -> str:
        if not self.bucket:
            raise DependencyUnavailable("export storage is not configured")
        return self.bucket

    def upload(self, path: Path, export_format: ExportFormat, filename: str) -> str:
        """Store the file under a random key (no names in keys) and return the key."""
        key = f"exports/{uuid.uuid4()}.{export_format.value}"
        extra = {
            **self._encryption(),
            "ContentType": CONTENT_TYPES[export_format],
            "ContentDisposition": f'attachment; filename="{filename}"',
        }
        try:
            self.client.upload_file(str(path), self._bucket(), key, ExtraArgs=extra)
        except (Boto3Error, BotoCoreError, ClientError) as exc:  # Boto3Error: the transfer's own wrapper
            logger.warning("export upload failed", extra={"error_type": type(exc).__name__})
            raise DependencyUnavailable("export storage unavailable, try again shortly") from exc
        return key

    def link(self, key: str, now: datetime) -> DownloadLink:
        try:
            url = self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket(), "Key": key},
                ExpiresIn=self.url_ttl_seconds,
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("export link failed", extra={"error_type": type(exc).__name__})
            raise DependencyUnavailable("export storage unavailable, try again shortly") from exc
        return DownloadLink(str(url), now + timedelta(seconds=self.url_ttl_seconds))


def get_export_storage() -> ExportStorage:
    settings = get_settings()
    return ExportStorage(
        get_s3_client(), settings.export_bucket, settings.export_url_ttl_seconds, settings.export_kms_key_id
    )


# What a route declares to receive the export storage (tests override ``get_export_storage``).
Storage = Annotated[ExportStorage, Depends(get_export_storage)]
