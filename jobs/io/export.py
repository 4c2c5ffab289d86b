"""Handing Spark results to other systems: Arrow in memory, Parquet on storage."""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import to_arrow_schema


def to_arrow(df: DataFrame) -> pa.Table:
    """Collect ``df`` to the driver as an Arrow table (for loads of a range, not a lake).

    Spark 3.5 has no public ``toArrow`` (4.0 adds it); ``_collect_as_arrow`` is what
    ``toPandas`` uses underneath.
    """
    batches = df._collect_as_arrow()
    schema = to_arrow_schema(df.schema)
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches).cast(schema)


def write_parquet(df: DataFrame, uri: str) -> None:
    """Write ``df`` as Parquet files under ``uri`` (a staging prefix), replacing it."""
    df.write.mode("overwrite").parquet(uri)
