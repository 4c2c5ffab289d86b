"""A Great Expectations store backend on S3 (or MinIO), for results and Data Docs.

GX 1.x removed its own ``TupleS3StoreBackend`` (great_expectations PR #11675), leaving only
the filesystem backend; results kept on an EMR driver's disk die with the cluster. This is
that backend again, small: a ``TupleStoreBackend`` whose objects live under
``s3://<bucket>/<prefix>/``, reached through the project's one S3 client
(:func:`jobs.io.objectstore.s3_client`, so the same endpoint, region and credential chain as
Spark). GX loads it from ``great_expectations.yml`` by ``module_name`` and ``class_name``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from great_expectations.data_context.store.tuple_store_backend import TupleStoreBackend
from great_expectations.exceptions import InvalidKeyError, StoreBackendError

from jobs.io.objectstore import s3_client
from jobs.settings import S3Settings


class TupleS3StoreBackend(TupleStoreBackend):
    """Keys are tuples turned into object names under ``prefix``, as on a filesystem.

    (GX annotates ``_get``, ``_set`` and ``remove_key`` as returning None; its own backends
    return values, and so does this one.)
    """

    def __init__(  # GX passes every option of a tuple backend by name
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region_name: str = "us-east-1",
        path_style: bool = False,
        filepath_template: str | None = None,
        filepath_prefix: str | None = None,
        filepath_suffix: str | None = None,
        forbidden_substrings: list[str] | None = None,
        platform_specific_separator: bool = False,
        fixed_length_key: bool = False,
        suppress_store_backend_id: bool = False,
        manually_initialize_store_backend_id: str = "",
        base_public_path: str | None = None,
        store_name: str | None = None,
    ) -> None:
        super().__init__(
            filepath_template=filepath_template,
            filepath_prefix=filepath_prefix,
            filepath_suffix=filepath_suffix,
            forbidden_substrings=forbidden_substrings,
            platform_specific_separator=platform_specific_separator,
            fixed_length_key=fixed_length_key,
            suppress_store_backend_id=suppress_store_backend_id,
            manually_initialize_store_backend_id=manually_initialize_store_backend_id,
            base_public_path=base_public_path,
            store_name=store_name,
        )
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._s3 = S3Settings(
            endpoint=endpoint_url, region=region_name, path_style_access=path_style
        )
        self._client_instance: Any = None
        self._config = {
            key: value
            for key, value in {
                "bucket": bucket,
                "prefix": prefix,
                "endpoint_url": endpoint_url,
                "region_name": region_name,
                "path_style": path_style,
                "filepath_template": filepath_template,
                "filepath_prefix": filepath_prefix,
                "filepath_suffix": filepath_suffix,
                "forbidden_substrings": forbidden_substrings,
                "platform_specific_separator": platform_specific_separator,
                "fixed_length_key": fixed_length_key,
                "suppress_store_backend_id": suppress_store_backend_id,
                "manually_initialize_store_backend_id": manually_initialize_store_backend_id,
                "base_public_path": base_public_path,
                "store_name": store_name,
                "module_name": type(self).__module__,
                "class_name": type(self).__name__,
            }.items()
            if value
        }
        if not self._suppress_store_backend_id:
            _ = self.store_backend_id

    @property
    def _client(self) -> Any:
        if self._client_instance is None:
            self._client_instance = s3_client(self._s3)
        return self._client_instance

    def _object_key(self, key: tuple[str, ...]) -> str:
        path = self._convert_key_to_filepath(key)
        return f"{self.prefix}/{path}" if self.prefix else path

    def _get(self, key: tuple[str, ...], **_: Any) -> str:  # type: ignore[override]
        name = self._object_key(key)
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=name)["Body"].read()
        except self._client.exceptions.NoSuchKey as exc:
            raise InvalidKeyError(f"no object s3://{self.bucket}/{name}") from exc
        return str(body.decode("utf-8")).rstrip("\n")

    def _get_all(self) -> list[Any]:
        keys = [k for k in self.list_keys() if k != self.STORE_BACKEND_ID_KEY]
        return [self._get(k) for k in keys]

    def _set(  # type: ignore[override]
        self,
        key: Any,
        value: str | bytes,
        content_encoding: str | None = "utf-8",
        content_type: str = "application/json",
        **_: Any,
    ) -> str:
        if not isinstance(key, tuple):
            key = key.to_tuple()
        name = self._object_key(key)
        body = value.encode(content_encoding or "utf-8") if isinstance(value, str) else value
        self._client.put_object(Bucket=self.bucket, Key=name, Body=body, ContentType=content_type)
        return name

    def _move(self, source_key: tuple[str, ...], dest_key: tuple[str, ...], **_: Any) -> Any:
        source, dest = self._object_key(source_key), self._object_key(dest_key)
        if not self._has_key(source_key):
            return False
        self._client.copy_object(
            Bucket=self.bucket, Key=dest, CopySource={"Bucket": self.bucket, "Key": source}
        )
        self._client.delete_object(Bucket=self.bucket, Key=source)
        return dest_key

    def list_keys(self, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        base = f"{self.prefix}/" if self.prefix else ""
        keys = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base + "/".join(prefix)
        )
        for page in pages:
            for item in page.get("Contents", []):
                path = item["Key"][len(base) :]
                if self._is_missing_prefix_or_suffix(
                    self.filepath_prefix, self.filepath_suffix, path
                ):
                    continue
                key = self._convert_filepath_to_key(path)
                if key and not self.is_ignored_key(key):
                    keys.append(key)
        return keys

    def remove_key(self, key: Any) -> bool:  # type: ignore[override]
        if not isinstance(key, tuple):
            key = key.to_tuple()
        self._client.delete_object(Bucket=self.bucket, Key=self._object_key(key))
        return True

    def _has_key(self, key: tuple[str, ...]) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def get_url_for_key(self, key: tuple[str, ...], protocol: str | None = None) -> str:
        """An HTTP(S) address of the object: on the endpoint (MinIO), else AWS's own."""
        name = quote(self._object_key(key))
        if self._s3.endpoint:
            return f"{self._s3.endpoint.rstrip('/')}/{self.bucket}/{name}"
        return f"https://{self.bucket}.s3.{self._s3.region}.amazonaws.com/{name}"

    def get_public_url_for_key(self, key: tuple[str, ...], protocol: str | None = None) -> str:
        if not self.base_public_path:
            raise StoreBackendError("no base_public_path is configured for this S3 store")
        return f"{self.base_public_path.rstrip('/')}/{quote(self._convert_key_to_filepath(key))}"

    @property
    def config(self) -> dict[str, Any]:
        return self._config
