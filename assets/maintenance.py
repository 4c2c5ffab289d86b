"""Table maintenance as a Dagster job: OPTIMIZE and VACUUM every Delta table, weekly.

Not an asset: maintenance changes no table's content, only its files, so it records no
materialization; the job's op logs one line per table and attaches the counts.
"""

import datetime as dt

from dagster import (
    Config,
    DefaultScheduleStatus,
    MetadataValue,
    OpExecutionContext,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    job,
    op,
    schedule,
)

from assets.resources import SparkResource
from jobs.io import maintenance
from jobs.settings import Settings, load_settings


class MaintenanceConfig(Config):
    """The days to OPTIMIZE (ISO dates; both empty: whole tables). VACUUM is always whole."""

    start: str | None = None
    end: str | None = None


@op(description="OPTIMIZE (Z-order on the registry's columns) and VACUUM every Delta table.")
def maintain_tables(
    context: OpExecutionContext, config: MaintenanceConfig, spark: SparkResource
) -> None:
    settings = spark.lakehouse.settings()
    start = dt.date.fromisoformat(config.start) if config.start else None
    end = dt.date.fromisoformat(config.end) if config.end else None
    done = maintenance.maintain(spark.session("maintenance"), settings, start, end)
    for table in done:
        context.log.info(table.describe())
    context.add_output_metadata(
        {"tables": MetadataValue.md("\n".join(f"- `{t.describe()}`" for t in done) or "none")}
    )


@job(description="Weekly table maintenance; `lakehouse maintain` runs the same by hand.")
def table_maintenance() -> None:
    maintain_tables()


def recent_days(settings: Settings, today: dt.date) -> tuple[dt.date, dt.date]:
    """The ``[maintenance] days`` days up to ``today``, within the pipeline's dates."""
    end = min(max(today, settings.pipeline.first_date), settings.pipeline.last_date)
    start = max(
        end - dt.timedelta(days=settings.maintenance.days - 1), settings.pipeline.first_date
    )
    return start, end


def maintenance_schedule(env: str) -> ScheduleDefinition:
    """The weekly schedule of ``table_maintenance`` on ``env``'s cron (stopped until started:
    a rewrite of files is something an operator turns on)."""
    settings = load_settings(env)

    @schedule(
        job=table_maintenance,
        cron_schedule=settings.maintenance.schedule,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.STOPPED,
    )
    def weekly_table_maintenance(context: ScheduleEvaluationContext) -> RunRequest:
        today = context.scheduled_execution_time.date()
        start, end = recent_days(settings, today)
        config = {"start": start.isoformat(), "end": end.isoformat()}
        return RunRequest(run_config={"ops": {"maintain_tables": {"config": config}}})

    return weekly_table_maintenance
