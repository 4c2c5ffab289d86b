"""What a ``lakehouse`` run shows on the console, and the log file that keeps the rest.

A run's console gets one line per step event and per message an asset logs; the full
Dagster log (tracebacks included) and everything the process writes to its standard error
(Spark's JVM log, Python warnings) go to one file under ``$LAKEHOUSE_ROOT/logs``. A failed
run then ends with the first cause of each failed step, in a line or two, and the file's path.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dagster import LoggerDefinition
from dagster._core.execution.execution_result import ExecutionResult

from assets.runs import error_chains

# Dagster puts its event on each log record under this attribute (dagster._core.log_manager).
_RECORD_META = "dagster_meta"
# The events worth a console line; one ASSET_MATERIALIZATION per day of a year's range is not.
SHOWN_EVENTS = frozenset(
    {
        "RUN_START",
        "RUN_SUCCESS",
        "RUN_FAILURE",
        "STEP_START",
        "STEP_SUCCESS",
        "STEP_FAILURE",
        "STEP_UP_FOR_RETRY",
        "ASSET_CHECK_EVALUATION",
    }
)
# Errors that only wrap the one raised by the asset's code.
_WRAPPERS = ("DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError")
_FULL_FORMAT = "%(asctime)s - %(levelname)s - %(message)s"


class BriefFormatter(logging.Formatter):
    """``HH:MM:SS step EVENT: first line`` for Dagster's records."""

    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, _RECORD_META, None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or "run"
        text = str(meta.get("orig_message") or record.getMessage()).strip().splitlines()
        first = text[0] if text else ""
        when = dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        kind = f" {event.event_type_value}" if event is not None else ""
        return f"{when} {step}{kind}: {first}" if first else f"{when} {step}{kind}"


class BriefFilter(logging.Filter):
    """Keeps run and step events (Dagster logs them at DEBUG) and the assets' own messages
    at ``level`` and above; drops the per-partition events."""

    def __init__(self, level: str) -> None:
        super().__init__()
        self.level = logging.getLevelName(level.upper())

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, _RECORD_META, None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return record.levelno >= self.level
        return event.event_type_value in SHOWN_EVENTS


@dataclass(frozen=True)
class RunLog:
    """Where one command's full log goes, and the console it reports to."""

    path: Path
    console: IO[str]

    def loggers(self, level: str) -> dict[str, LoggerDefinition]:
        """Dagster loggers for the run: brief lines on the console, everything in the file."""

        def brief_console(_: Any) -> logging.Logger:
            keep = BriefFilter(level)
            return _logger("lakehouse.console", "DEBUG", self.console, BriefFormatter(), keep)

        def full_file(_: Any) -> logging.Logger:
            stream = self.path.open("a", encoding="utf-8")
            return _logger("lakehouse.file", "DEBUG", stream, logging.Formatter(_FULL_FORMAT))

        return {
            "console": LoggerDefinition(brief_console, description="Step events, one line each."),
            "file": LoggerDefinition(full_file, description="The full log, with tracebacks."),
        }

    def report_failures(self, result: ExecutionResult) -> None:
        """The first cause of each failed step, and where the rest is."""
        for step, (first, *more) in first_causes(result):
            print(f"error: {step}: {first}", file=self.console)
            for line in more:
                print(f"  {line}", file=self.console)
        print(f"full log: {self.path}", file=self.console)


def _logger(
    name: str,
    level: str,
    stream: IO[str],
    formatter: logging.Formatter,
    keep: logging.Filter | None = None,
) -> logging.Logger:
    # A Logger of its own per run (not from logging.getLogger): handlers never pile up.
    made = logging.Logger(name, level=level.upper())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    if keep is not None:
        handler.addFilter(keep)
    made.addHandler(handler)
    return made


def first_causes(result: ExecutionResult, lines: int = 2) -> list[tuple[str, list[str]]]:
    """Per failed step, the first error that is not a Dagster wrapper, in at most ``lines``."""
    causes = []
    for step, chain in error_chains(result):
        cause = next(
            (e for e in chain if e.cls_name not in _WRAPPERS), chain[-1] if chain else None
        )
        if cause is None:
            causes.append((step, ["failed (no error recorded)"]))
            continue
        text = [line.strip() for line in cause.message.splitlines() if line.strip()]
        qualified = text[0].split(":")[0] if text else ""
        if cause.cls_name and qualified.endswith(cause.cls_name):
            text[0] = cause.cls_name + text[0][len(qualified) :]  # no module path
        causes.append((step, text[:lines] or [cause.cls_name or "error"]))
    return causes


@contextmanager
def run_log(logs: Path, command: str) -> Iterator[RunLog]:
    """Send the process's standard error (Spark's JVM included) to a new log file.

    The JVM inherits the redirected descriptor when it starts inside the block and keeps
    writing to the file afterwards, which is what a one-command process wants.
    """
    logs.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = logs / f"{command}-{stamp}-{os.getpid()}.log"
    sys.stderr.flush()
    saved = os.dup(2)
    console = os.fdopen(os.dup(saved), "w", buffering=1)
    with path.open("a", encoding="utf-8") as file:
        os.dup2(file.fileno(), 2)
        try:
            yield RunLog(path, console)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            console.close()
