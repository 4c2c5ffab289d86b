"""DDL type mapping and schema migration rules."""

import pytest

from warehouse import sql
from warehouse.schema import ColumnDef, SchemaDriftError, column_defs, plan_migration
from warehouse.tables import WAREHOUSE_TABLES

FIELDS = [("flight_date", "date"), ("flights", "int"), ("mean", "double"), ("origin", "string")]


@pytest.mark.parametrize(
    ("backend", "types"),
    [
        ("duckdb", ["DATE", "INTEGER", "DOUBLE", "VARCHAR"]),
        ("postgres", ["DATE", "INTEGER", "DOUBLE PRECISION", "TEXT"]),
        ("redshift", ["DATE", "INTEGER", "DOUBLE PRECISION", "VARCHAR(256)"]),
    ],
)
def test_each_backend_has_an_explicit_type_for_each_spark_type(backend, types):
    assert [c.sql_type for c in column_defs(backend, FIELDS)] == types


def test_an_unmapped_spark_type_names_the_column():
    with pytest.raises(SchemaDriftError, match="column 'tags' has Spark type 'array<string>'"):
        column_defs("postgres", [("tags", "array<string>")])


def test_an_added_column_is_migrated():
    desired = column_defs("postgres", [*FIELDS, ("p90", "double")])
    existing = {
        "flight_date": "date",
        "flights": "integer",
        "mean": "double precision",
        "origin": "text",
    }
    assert plan_migration("gold.t", existing, desired) == [ColumnDef("p90", "DOUBLE PRECISION")]


def test_a_changed_type_is_refused_naming_the_column():
    existing = {
        "flight_date": "date",
        "flights": "text",
        "mean": "double precision",
        "origin": "text",
    }
    with pytest.raises(SchemaDriftError, match=r"gold\.t\.flights is text in the warehouse"):
        plan_migration("gold.t", existing, column_defs("postgres", FIELDS))


def test_a_column_gone_from_the_lakehouse_is_refused():
    existing = {
        "flight_date": "DATE",
        "flights": "INTEGER",
        "mean": "DOUBLE",
        "origin": "VARCHAR",
        "x": "VARCHAR",
    }
    with pytest.raises(SchemaDriftError, match=r"gold\.t\.x exists in the warehouse but not"):
        plan_migration("gold.t", existing, column_defs("duckdb", FIELDS))


def test_redshift_ddl_states_distribution_and_sort_keys():
    columns = column_defs("redshift", FIELDS)
    ddl = sql.create_table("redshift", "gold", WAREHOUSE_TABLES["route_daily"], columns)
    assert ddl.endswith('DISTKEY("dest")\nCOMPOUND SORTKEY("flight_date")')
    dim = sql.create_table("redshift", "gold", WAREHOUSE_TABLES["airlines"], columns)
    assert "DISTSTYLE ALL" in dim


def test_identifiers_with_quotes_are_refused():
    with pytest.raises(ValueError, match="refusing identifier"):
        sql.ident('x"; DROP TABLE y; --')
