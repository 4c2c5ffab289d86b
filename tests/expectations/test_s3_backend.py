"""The GX project of an object-storage profile lives in the bucket: stores and Data Docs on a
real MinIO, read back through GX and through the S3 API."""

import datetime as dt
import os
import urllib.request

import pytest

from expectations import gate
from expectations.context import pages_built, quality_context
from expectations.s3_backend import TupleS3StoreBackend
from jobs.io.objectstore import ensure_bucket, s3_client
from jobs.settings import load_settings

D = dt.date(2013, 3, 1)
PREFIXES = ("checkpoints/", "docs/", "expectations/", "validation_definitions/", "validations/")


@pytest.fixture(scope="module")
def dev_settings(minio_server, lakehouse_root):
    env = {**os.environ, "LAKEHOUSE__S3__ENDPOINT": minio_server.endpoint}
    settings = load_settings("dev", environ=env)
    ensure_bucket(settings.s3, "lakehouse-dev")
    return settings


def objects(settings, prefix=""):
    client = s3_client(settings.s3)
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket="lakehouse-dev", Prefix=f"quality/{prefix}"
    )
    return {o["Key"].removeprefix("quality/") for p in pages for o in p.get("Contents", [])}


def test_results_and_data_docs_are_objects_in_the_bucket(spark, dev_settings):
    assert dev_settings.storage.quality == "s3a://lakehouse-dev/quality"
    frame = spark.createDataFrame(
        [(D, "UA", 3, 1, 5.0, 0.5), (D, "AA", 1, 2, 1.0, 1.0)],
        "flight_date DATE, carrier STRING, flights INT, cancelled INT, "
        "mean_dep_delay_min DOUBLE, on_time_share DOUBLE",
    )
    context = quality_context(dev_settings)
    report = gate.validate(context, frame, "carrier_daily", "0123456789", D, D)
    pages_built()  # rendered on the page thread

    keys = objects(dev_settings)
    assert {k.split("/")[0] + "/" for k in keys} == set(PREFIXES)
    run = f"{D}..{D}_run-01234567"
    assert [k for k in keys if k.startswith(f"validations/carrier_daily/{run}/")]
    assert [k for k in keys if k.startswith(f"docs/validations/carrier_daily/{run}/")]
    assert "docs/index.html" in keys and "docs/expectations/carrier_daily.html" in keys
    # The page address is MinIO's, and the object behind it is the rendered result.
    endpoint = dev_settings.s3.endpoint
    assert report.page and report.page.startswith(f"{endpoint}/lakehouse-dev/quality/docs/")
    assert context.docs_index() == f"{endpoint}/lakehouse-dev/quality/docs/index.html"
    index = s3_client(dev_settings.s3).get_object(Bucket="lakehouse-dev",
                                                  Key="quality/docs/index.html")  # fmt: skip
    assert run in index["Body"].read().decode()
    # Read back as `lakehouse quality` does, from the bucket.
    latest = gate.latest_reports(context, D)
    assert latest["carrier_daily"].statistics(True) == report.statistics(True)


def test_the_page_is_not_public(dev_settings):
    """MinIO serves objects only to signed requests: Data Docs in the bucket are private."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(quality_context(dev_settings).docs_index(), timeout=10)
    assert refused.value.code == 403


def test_the_backend_moves_lists_and_removes_keys(dev_settings):
    store = TupleS3StoreBackend(
        bucket="lakehouse-dev",
        prefix="quality/scratch",
        endpoint_url=dev_settings.s3.endpoint,
        path_style=True,
        filepath_suffix=".json",
        suppress_store_backend_id=True,
    )
    store.set(("a", "b"), '{"x": 1}')
    assert store.get(("a", "b")) == '{"x": 1}' and store.has_key(("a", "b"))
    store.move(("a", "b"), ("c", "d"))
    assert store.list_keys() == [("c", "d")] and not store.has_key(("a", "b"))
    store.remove_key(("c", "d"))
    assert store.list_keys() == []
