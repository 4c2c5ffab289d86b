"""Handing Spark results to other systems: Arrow in memory, Parquet on storage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import to_arrow_schema

if TYPE_CHECKING:
    import pandas as pd


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


def to_pandas(df: DataFrame) -> pd.DataFrame:
    """Collect ``df`` to the driver as a pandas frame, through Arrow (for a few thousand
    rows). Integers with nulls, dates and timestamps stay Python values with None for null
    (not floats with NaN, not NaT), so values and nulls read as Spark shows them."""
    arrow = to_arrow(df)
    return arrow.to_pandas(integer_object_nulls=True, date_as_object=True, timestamp_as_object=True)


def write_parquet(df: DataFrame, uri: str) -> None:
    """Write ``df`` as Parquet files under ``uri`` (a staging prefix), replacing it."""
    df.write.mode("overwrite").parquet(uri)
