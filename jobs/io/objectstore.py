"""Object storage at the edges that Spark does not cover: buckets and landing drops.

Spark reaches S3 (or MinIO) through S3A with the settings :func:`jobs.session.s3a_conf`
derives from ``[s3]``; boto3 gets the same endpoint, region and credential source here,
so both always talk to the same store. Keys come from the environment or the AWS chain.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any
from urllib.parse import urlparse

from jobs.settings import S3Settings, Settings

S3_SCHEMES = ("s3", "s3a")


class ObjectStoreError(RuntimeError):
    """A bucket or object could not be reached or created; the message names it."""


def is_object_uri(uri: str) -> bool:
    """True for ``s3://`` and ``s3a://`` locations."""
    return urlparse(uri).scheme in S3_SCHEMES


def split_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of an ``s3://`` or ``s3a://`` URI."""
    parsed = urlparse(uri)
    if parsed.scheme not in S3_SCHEMES or not parsed.netloc:
        raise ValueError(f"{uri!r} is not an s3:// or s3a:// URI with a bucket")
    return parsed.netloc, parsed.path.lstrip("/")


# What boto3's credential chain reads from the environment first: a client is reused only
# while these are what they were when it was made.
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def s3_client(s3: S3Settings) -> Any:
    """A boto3 S3 client for the configured endpoint; credentials from the AWS chain.

    Made once per endpoint, region, addressing style and credentials in the environment, then
    reused (boto3 clients are thread-safe): making one loads botocore's S3 model, about 0.2 s,
    and a one-day run on the dev profile asked for one about 80 times, 15 s in all."""
    identity = [s3.endpoint, s3.region, s3.path_style_access]
    identity += [os.environ.get(name) for name in _CREDENTIAL_VARIABLES]
    key = hashlib.sha256(repr(identity).encode()).hexdigest()  # no secret kept in the clear
    with _clients_lock:
        if key not in _clients:
            _clients[key] = _new_client(s3)
        return _clients[key]


def _new_client(s3: S3Settings) -> Any:
    import boto3
    from botocore.config import Config

    style = "path" if s3.path_style_access else "auto"
    # A session of its own resolves the credential chain now, not once per process: the
    # default session keeps whatever credentials the first client in the process found.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=s3.region,
        config=Config(s3={"addressing_style": style}, retries={"max_attempts": 5}),
    )


def ensure_bucket(s3: S3Settings, bucket: str, client: Any | None = None) -> bool:
    """Make sure ``bucket`` exists; create it if the settings allow. True if created."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = client or s3_client(s3)
    where = s3.endpoint or f"AWS S3 ({s3.region})"
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code"))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise ObjectStoreError(f"bucket {bucket} at {where}: {exc}") from exc
    except BotoCoreError as exc:
        raise ObjectStoreError(f"cannot reach {where} for bucket {bucket}: {exc}") from exc
    if not s3.create_buckets:
        raise ObjectStoreError(
            f"bucket {bucket} does not exist at {where}; this environment does not create "
            "buckets (s3.create_buckets = false): create it with the infrastructure code"
        )
    client.create_bucket(Bucket=bucket)
    return True


def ensure_buckets(settings: Settings) -> list[str]:
    """Ensure the buckets of the tables, landing, quality and event-log locations, and the
    event-log folder (Spark refuses to start when it is missing); returns the buckets created."""
    storage = settings.storage
    locations = (storage.tables, storage.landing, storage.quality, storage.event_log)
    buckets = sorted({split_uri(uri)[0] for uri in locations if is_object_uri(uri)})
    if not buckets:
        return []
    client = s3_client(settings.s3)
    created = [bucket for bucket in buckets if ensure_bucket(settings.s3, bucket, client)]
    if is_object_uri(settings.storage.event_log):
        ensure_folder(settings.storage.event_log, client)
    return created


def ensure_folder(uri: str, client: Any) -> None:
    """Make ``uri`` a folder for S3A: an empty ``<prefix>/`` marker object, unless it has
    objects already."""
    bucket, prefix = split_uri(uri)
    prefix = prefix.rstrip("/") + "/"
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    if not listed.get("KeyCount"):
        client.put_object(Bucket=bucket, Key=prefix, Body=b"")
