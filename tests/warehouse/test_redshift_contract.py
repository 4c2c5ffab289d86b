"""Redshift cannot run here: these pin the exact statements, S3 keys and API requests.

The Data API and S3 calls are checked against botocore's Stubber, which validates each
request against the real service model and fails on any call not recorded below.
"""

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber

from jobs.settings import load_settings
from warehouse.redshift import RedshiftClient, plan_load
from warehouse.schema import SchemaDriftError, column_defs
from warehouse.sqlwarehouse import WarehouseConnectionError
from warehouse.tables import WAREHOUSE_TABLES

D1, D2 = dt.date(2013, 1, 1), dt.date(2013, 1, 2)
FIELDS = [("flight_date", "date"), ("origin", "string"), ("dest", "string"), ("flights", "int")]
STAGING = "s3://flights-lakehouse-prod/staging/warehouse/route_daily/abc123/"
STAGE = '"stage_route_daily_abc123"'
TARGET = '"gold"."route_daily"'
COLS = '"flight_date", "origin", "dest", "flights"'


@pytest.fixture
def settings():
    return load_settings("prod", environ={}).warehouse


@pytest.fixture
def plan(settings):
    columns = column_defs("redshift", FIELDS)
    return plan_load(settings, WAREHOUSE_TABLES["route_daily"], columns, D1, D2, "abc123")


def test_the_load_is_copy_into_a_stage_then_delete_and_insert(plan):
    assert plan.staging_uri == STAGING
    assert plan.spark_staging_uri == "s3a://" + STAGING.removeprefix("s3://")
    assert plan.statements == [
        f"CREATE TEMP TABLE {STAGE} (LIKE {TARGET})",
        f"COPY {STAGE} FROM '{STAGING}' "
        "IAM_ROLE 'arn:aws:iam::123456789012:role/flights-lakehouse-redshift-copy' FORMAT AS PARQUET",
        f"LOCK {TARGET}",
        f"DELETE FROM {TARGET} WHERE \"flight_date\" BETWEEN DATE '2013-01-01' AND DATE '2013-01-02'",
        f"INSERT INTO {TARGET} ({COLS}) SELECT {COLS} FROM {STAGE}",
    ]
    assert plan.ddl == [
        'CREATE SCHEMA IF NOT EXISTS "gold"',
        f'CREATE TABLE IF NOT EXISTS {TARGET} (\n  "flight_date" DATE,\n  "origin" VARCHAR(256),\n'
        '  "dest" VARCHAR(256),\n  "flights" INTEGER\n)\nDISTKEY("dest")\nCOMPOUND SORTKEY("flight_date")',
    ]


def test_the_transaction_is_one_batch_request_to_the_workgroup(plan):
    assert plan.request == {
        "Database": "analytics",
        "WorkgroupName": "flights-lakehouse",
        "Sqls": plan.statements,
        "StatementName": "flights-lakehouse load route_daily abc123",
    }
    assert "Password" not in str(plan.request) and "SecretAccessKey" not in str(plan.request)


def test_a_provisioned_cluster_is_addressed_by_id_and_secret(settings):
    cluster = settings.model_copy(
        update={
            "workgroup": None,
            "cluster_id": "analytics-1",
            "secret_arn": "arn:aws:secretsmanager:x",
        }
    )
    plan = plan_load(
        cluster, WAREHOUSE_TABLES["airlines"], column_defs("redshift", FIELDS), None, None, "a"
    )
    assert {k: v for k, v in plan.request.items() if k not in {"Sqls", "StatementName"}} == {
        "Database": "analytics",
        "ClusterIdentifier": "analytics-1",
        "SecretArn": "arn:aws:secretsmanager:x",
    }
    assert plan.statements[3] == 'DELETE FROM "gold"."airlines"'  # a dimension is replaced whole


@pytest.fixture
def clients():
    # A session of its own: fake keys must not reach the process's default boto3 session,
    # whose cached credentials later tests (MinIO) would then use.
    session = boto3.session.Session(
        aws_access_key_id="contract-test", aws_secret_access_key="contract-test"
    )
    data_api = session.client("redshift-data", region_name="us-east-1")
    s3 = session.client("s3", region_name="us-east-1")
    with Stubber(data_api) as api_stub, Stubber(s3) as s3_stub:
        yield data_api, api_stub, s3, s3_stub
        api_stub.assert_no_pending_responses()
        s3_stub.assert_no_pending_responses()


TARGET_REQUEST = {"Database": "analytics", "WorkgroupName": "flights-lakehouse"}
COLUMNS_QUERY = (
    "SELECT column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = 'gold' AND table_name = 'route_daily' ORDER BY ordinal_position"
)
CURRENT = (
    ("flight_date", "date"),
    ("origin", "character varying"),
    ("dest", "character varying"),
    ("flights", "integer"),
)


def expect_statement(api_stub, statement_id, sql, described=None):
    api_stub.add_response("execute_statement", {"Id": statement_id}, {"Sql": sql, **TARGET_REQUEST})
    response = {"Id": statement_id, "Status": "FINISHED", **(described or {})}
    api_stub.add_response("describe_statement", response, {"Id": statement_id})


def expect_ddl(api_stub, plan, existing=CURRENT):
    for n, statement in enumerate(plan.ddl):
        expect_statement(api_stub, f"ddl-{n}", statement)
    expect_statement(api_stub, "columns", COLUMNS_QUERY, {"HasResultSet": True})
    records = [[{"stringValue": name}, {"stringValue": kind}] for name, kind in existing]
    api_stub.add_response(
        "get_statement_result",
        {"Records": records, "TotalNumRows": len(records)},
        {"Id": "columns"},
    )


def expect_staging_removed(s3_stub):
    prefix = "staging/warehouse/route_daily/abc123/"
    s3_stub.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": prefix + "part-0.parquet"}, {"Key": prefix + "_SUCCESS"}]},
        {"Bucket": "flights-lakehouse-prod", "Prefix": prefix},
    )
    s3_stub.add_response(
        "delete_objects",
        {},
        {
            "Bucket": "flights-lakehouse-prod",
            "Delete": {
                "Objects": [{"Key": prefix + "part-0.parquet"}, {"Key": prefix + "_SUCCESS"}],
                "Quiet": True,
            },
        },
    )


def test_execute_sends_the_recorded_requests_and_cleans_the_staging_prefix(settings, plan, clients):
    data_api, api_stub, s3, s3_stub = clients
    expect_ddl(api_stub, plan)
    api_stub.add_response("batch_execute_statement", {"Id": "batch-1"}, plan.request)
    sub = [
        {"Id": f"batch-1:{n}", "ResultRows": rows} for n, rows in enumerate([0, 120, 0, 90, 95], 1)
    ]
    api_stub.add_response(
        "describe_statement",
        {"Id": "batch-1", "Status": "FINISHED", "SubStatements": sub},
        {"Id": "batch-1"},
    )
    expect_staging_removed(s3_stub)
    result = RedshiftClient(settings, data_api=data_api, s3=s3).execute(plan)
    assert (result.table, result.rows_deleted, result.rows_inserted) == ("gold.route_daily", 90, 95)


def test_a_failed_transaction_names_the_target_and_still_cleans_up(settings, plan, clients):
    data_api, api_stub, s3, s3_stub = clients
    expect_ddl(api_stub, plan)
    api_stub.add_response("batch_execute_statement", {"Id": "batch-2"}, plan.request)
    api_stub.add_response(
        "describe_statement",
        {
            "Id": "batch-2",
            "Status": "FAILED",
            "Error": "permission denied for relation route_daily",
        },
        {"Id": "batch-2"},
    )
    expect_staging_removed(s3_stub)
    with pytest.raises(
        WarehouseConnectionError,
        match=r"flights-lakehouse, database 'analytics'.*permission denied",
    ):
        RedshiftClient(settings, data_api=data_api, s3=s3).execute(plan)


def test_a_column_new_in_the_lakehouse_is_added_before_the_load(settings, plan, clients):
    data_api, api_stub, s3, s3_stub = clients
    expect_ddl(api_stub, plan, existing=CURRENT[:3])
    expect_statement(
        api_stub, "add-0", 'ALTER TABLE "gold"."route_daily" ADD COLUMN "flights" INTEGER'
    )
    api_stub.add_response("batch_execute_statement", {"Id": "batch-3"}, plan.request)
    api_stub.add_response(
        "describe_statement", {"Id": "batch-3", "Status": "FINISHED"}, {"Id": "batch-3"}
    )
    expect_staging_removed(s3_stub)
    RedshiftClient(settings, data_api=data_api, s3=s3).execute(plan)


def test_an_incompatible_redshift_column_stops_before_the_load(settings, plan, clients):
    data_api, api_stub, s3, s3_stub = clients
    expect_ddl(api_stub, plan, existing=(*CURRENT[:3], ("flights", "character varying")))
    expect_staging_removed(s3_stub)
    with pytest.raises(SchemaDriftError, match=r"gold\.route_daily\.flights is character varying"):
        RedshiftClient(settings, data_api=data_api, s3=s3).execute(plan)
