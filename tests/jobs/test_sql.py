"""SQL text made from values reads back as those values in Spark SQL."""

import pytest

from jobs.sql import identifier, string_literal

AWKWARD = ["plain", "it's", "back\\slash", "both \\' and '\\", 'double " quote', "", "a`b"]


@pytest.mark.parametrize("text", AWKWARD)
def test_a_string_literal_reads_back_as_its_text(spark, text):
    [row] = spark.sql(f"SELECT {string_literal(text)} AS value").collect()
    assert row.value == text


@pytest.mark.parametrize("name", ["plain", "with space", "a`b", "``", "s3a://bucket/x`y"])
def test_an_identifier_names_exactly_its_column(spark, name):
    assert spark.sql(f"SELECT 1 AS {identifier(name)}").columns == [name]


def test_a_table_path_with_a_backtick_is_one_identifier(spark, tmp_path):
    path = str(tmp_path / "odd`name")
    spark.range(3).write.format("delta").save(path)
    assert spark.sql(f"SELECT count(*) AS n FROM delta.{identifier(path)}").first().n == 3
