"""Loading gold tables into a SQL warehouse: DuckDB (local), PostgreSQL (dev), Redshift (prod).

No Spark or Dagster here: callers hand over Arrow tables (DuckDB, PostgreSQL) or a staged
Parquet prefix (Redshift), and get back what each load did.
"""
