"""`make bench`: the pipeline's performance figures side by side with their targets.

Usage: .venv/bin/python benchmarks/bench.py [--quick] [--with-tests] [--json PATH]

Every figure comes from real processes on fresh lakehouse roots under a temporary folder
(local profile), each command a process of its own as a user or the daemon would start it:

(a) the full year: `lakehouse run` against `benchmarks/bare_pyspark.py` (the same
    transforms as plain PySpark and Parquet), as a ratio, the run split into start-up,
    Spark work, gates, warehouse and Dagster bookkeeping (from the run's own events); and
    the bare script writing Delta instead of Parquet, for what Delta alone adds;
(b) a month as one run per day against single-run backfills of the month: the median of
    three, each on a fresh root, taken before, between and after the one-day runs;
(c) a one-day run of every pipeline asset in a fresh process, and a one-day rerun of
    silver -> gold; beside each, the bare script doing the same in a fresh process, writing
    Parquet and writing Delta: the floor a cold JVM sets without Dagster and gates; then
    both launched through the instance onto the warm run worker (`lakehouse run --launch`),
    as the automation launches runs: what a launched run costs once the worker is up;
(d) scale factor 1 against 10 (`lakehouse land --scale`): time and peak memory of the
    whole process tree (Python and its JVM);
(e) with --with-tests: `make test` wall time.

Prints a table (figure, measured, target, verdict: how far off when missed) and writes
the figures as JSON (default benchmarks/results/latest.json, the source of the README's
table). --quick puts every part on the same day, to check the bench itself (the README test
runs it so): one one-day run on a fresh root then stands for (a)'s run, (b)'s backfill and
its one run per day, (c)'s fresh-process run and (d)'s scale 1 (and one bare script per
format for (a)'s and (c)'s), and the figures are not the targets' conditions.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
LAKEHOUSE = [sys.executable, "-m", "assets.cli"]
SILVER_TO_GOLD = "key:silver/flights or key:quarantine/flights or key:gold/*"
DAY = dt.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Ranges:
    """The date ranges each part of the bench works on."""

    year: tuple[dt.date, dt.date]
    month: tuple[dt.date, dt.date]
    scaled: tuple[dt.date, dt.date]
    scale: int


FULL = Ranges(
    year=(dt.date(2013, 1, 1), dt.date(2013, 12, 31)),
    month=(dt.date(2013, 6, 1), dt.date(2013, 6, 30)),
    scaled=(dt.date(2013, 6, 1), dt.date(2013, 6, 7)),
    scale=10,
)
# One day for every part: its run is measured once and stands for (a)'s run, (b)'s backfill
# and its one run per day, (c)'s fresh-process run and (d)'s scale-1 run (see range_run).
QUICK = Ranges(
    year=(dt.date(2013, 1, 1), dt.date(2013, 1, 1)),
    month=(dt.date(2013, 1, 1), dt.date(2013, 1, 1)),
    scaled=(dt.date(2013, 1, 1), dt.date(2013, 1, 1)),
    scale=2,
)


@dataclasses.dataclass
class Figure:
    """One measured figure and its target; ``met`` is None when there is no target."""

    part: str
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    off: str = ""  # how far from the target, when missed


@dataclasses.dataclass
class Measured:
    """A finished command: wall seconds, peak memory of its process tree, its output."""

    seconds: float
    peak_mb: float
    output: str
    began: float  # wall-clock start (time.time())


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total / 2**20


def run(command: Sequence[str], root: Path, extra_env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` on lakehouse ``root``, sampling its process tree's memory."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(LAKEHOUSE_ROOT=str(root), LAKEHOUSE_ENV="local", **(extra_env or {}))
    began_wall, began = time.time(), time.monotonic()
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    peak = [0.0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(process.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.monotonic() - began
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{output[-3000:]}")
    return Measured(seconds, peak[0], output, began_wall)


def lakehouse(root: Path, *args: str) -> Measured:
    return run([*LAKEHOUSE, *args], root)


def span(first: dt.date, last: dt.date) -> list[str]:
    return ["--start", first.isoformat(), "--end", last.isoformat()]


def land(root: Path, first: dt.date, last: dt.date, scale: int = 1) -> Measured:
    extra = ["--scale", str(scale)] if scale != 1 else []
    return lakehouse(root, "land", *span(first, last), *extra)


_RANGE_RUNS: dict[tuple[dt.date, dt.date, int, int], tuple[Path, Measured]] = {}


def range_run(
    work: Path, first: dt.date, last: dt.date, scale: int = 1, repeat: int = 0
) -> tuple[Path, Measured]:
    """``[first, last]`` landed at ``scale`` on a fresh root and run as one `lakehouse run`:
    the root and the run (``repeat``: the same again on another fresh root). Parts asking for
    the same range, scale and repeat share one measurement (the same command on the same
    fresh root), which only happens with --quick."""
    key = (first, last, scale, repeat)
    if key not in _RANGE_RUNS:
        again = f"-{repeat}" if repeat else ""
        root = work / f"range-{first:%m%d}-{last:%m%d}-x{scale}{again}"
        land(root, first, last, scale)
        _RANGE_RUNS[key] = root, lakehouse(root, "run", *span(first, last))
    return _RANGE_RUNS[key]


_BARE_RUNS: dict[tuple[Path, dt.date, dt.date, str, bool], Measured] = {}


def bare_script(
    work: Path, root: Path, first: dt.date, last: dt.date, fmt: str, rerun: bool = False
) -> Measured:
    """`benchmarks/bare_pyspark.py` over ``[first, last]`` of ``root``'s landed files, writing
    ``fmt`` (``rerun``: silver flights and gold again, from its own earlier run's tables).
    Parts asking for the same run share one measurement (only with --quick)."""
    key = (root, first, last, fmt, rerun)
    if key not in _BARE_RUNS:
        out = work / f"bare-{root.name}-{first:%m%d}-{last:%m%d}-{fmt}"
        again = ["--rerun"] if rerun else []
        command = [sys.executable, "benchmarks/bare_pyspark.py", "--out", str(out),
                   *span(first, last), "--format", fmt, *again]  # fmt: skip
        _BARE_RUNS[key] = run(command, root)
    return _BARE_RUNS[key]


def run_split(root: Path, measured: Measured) -> dict[str, float]:
    """Where the last `lakehouse run` on ``root`` spent its time, from its Dagster events."""
    os.environ["DAGSTER_HOME"] = str(root / "dagster")
    from dagster import DagsterEventType, DagsterInstance

    with DagsterInstance.get() as instance:
        [record] = instance.get_run_records(limit=1)
        run_id = record.dagster_run.run_id
        stats = instance.get_run_stats(run_id)
        gates = 0.0
        # a range output repeats its metadata on every day's event: count each asset once
        build, write, warehouse = _per_asset(instance, run_id)
        for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
            data: Any = entry.get_dagster_event().event_specific_data  # check evaluation
            gates += _number(data.metadata.get("audit_seconds"))
    assert stats.start_time and stats.end_time
    startup = stats.start_time - measured.began
    in_run = stats.end_time - stats.start_time
    return {
        "startup_s": round(startup, 1),
        "build_s": round(build, 1),
        "write_s": round(write, 1),
        "spark_s": round(build + write, 1),
        "gates_s": round(gates, 1),
        "warehouse_s": round(warehouse, 1),
        "bookkeeping_s": round(in_run - build - write - gates - warehouse, 1),
        "exit_s": round(measured.seconds - startup - in_run, 1),
    }


def _per_asset(instance: Any, run_id: str) -> tuple[float, float, float]:
    """Seconds the run's assets spent building their frames, writing them and loading the
    warehouse (a range output repeats its metadata on every day's event: each asset once)."""
    from dagster import DagsterEventType

    latest: dict[str, Any] = {}
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        materialization = entry.get_dagster_event().event_specific_data.materialization
        latest[materialization.asset_key.to_user_string()] = materialization.metadata
    build = sum(_number(m.get("build_seconds")) for m in latest.values())
    write = sum(_number(m.get("write_seconds")) for m in latest.values())
    warehouse = sum(_number(m.get("load_seconds")) for m in latest.values())
    return build, write, warehouse


def _number(value: Any) -> float:
    return float(value.value) if value is not None else 0.0


def at_most(value: float, limit: float) -> tuple[bool, str]:
    return value <= limit, "" if value <= limit else f"{value / limit - 1:+.0%} over"


def at_least(value: float, floor: float) -> tuple[bool, str]:
    return value >= floor, "" if value >= floor else f"{1 - value / floor:.0%} short"


def full_year(work: Path, ranges: Ranges) -> list[Figure]:
    """(a) `lakehouse run` of the range against the bare script on the same landed files."""
    root, project = range_run(work, *ranges.year)
    split = run_split(root, project)  # before the bare script: it reads the root's last run
    bare = bare_script(work, root, *ranges.year, "parquet")
    bare_delta = bare_script(work, root, *ranges.year, "delta")
    ratio = project.seconds / bare.seconds
    figures = [
        Figure("a", "bare PySpark script", bare.seconds, "s"),
        Figure("a", "lakehouse run", project.seconds, "s"),
        Figure("a", "lakehouse run / bare script", ratio, "x", "<= 1.2x", *at_most(ratio, 1.2)),
        Figure("a", "  the bare script writing Delta instead", bare_delta.seconds, "s"),
        Figure("a", "  lakehouse run / bare script writing Delta",
               project.seconds / bare_delta.seconds, "x"),
    ]  # fmt: skip
    for key, label in [
        ("startup_s", "  start-up (imports, Spark session, definitions)"),
        ("build_s", "  Spark work building the frames (before the gates)"),
        ("write_s", "  Delta writes (and the Spark work they trigger)"),
        ("gates_s", "  quality gates"),
        ("warehouse_s", "  warehouse loads (inserts)"),
        ("bookkeeping_s", "  the rest: Dagster, exports, reading inputs"),
    ]:
        figures.append(Figure("a", label, split[key], "s"))
    share = split["gates_s"] / split["spark_s"] if split["spark_s"] else 0.0
    figures.append(Figure("a", "gates / Spark work", share * 100, "%", "<= 10%",
                          *at_most(share * 100, 10)))  # fmt: skip
    return figures


def month(work: Path, ranges: Ranges) -> list[Figure]:
    """(b) and (c): per-day runs against the median of backfills taken between them, then a
    silver -> gold rerun."""
    first, last = ranges.month
    backfills: list[float] = []
    days: list[float] = []
    taken: list[str] = []  # when each backfill ran
    if first == last:  # --quick: the one-day backfill is also the one run of its day
        daily_root, one_day = range_run(work, first, last)
        backfills, days = [one_day.seconds], [one_day.seconds]
        taken = ["= the one run of the day (--quick)"]
    else:
        daily_root = work / "daily"
        land(daily_root, first, last)
        each = [first + DAY * i for i in range((last - first).days + 1)]
        # Three backfills, each on a fresh root: before, between and after the two halves of
        # the one-day runs. This machine's speed drifts over the half hour those take, and
        # one 60-second run drawn in a slow minute moved the ratio by a fifth (README).
        half = len(each) // 2
        for repeat, batch in enumerate([each[:half], each[half:], []]):
            backfills.append(range_run(work, first, last, repeat=repeat)[1].seconds)
            taken.append(f"after day {len(days)}" if days else "before the one-day runs")
            days += [lakehouse(daily_root, "run", *span(day, day)).seconds for day in batch]
    rerun = lakehouse(daily_root, "run", *span(first, first), "--select", SILVER_TO_GOLD)
    # The same day as bare scripts in fresh processes: what the transforms cost a cold JVM
    # without Dagster and gates, writing Parquet, and writing Delta (the run writes Delta).
    bare = {
        (fmt, again): bare_script(work, daily_root, first, first, fmt, again).seconds
        for again in (False, True)
        for fmt in ("parquet", "delta")
    }
    backfill = statistics.median(backfills)
    ratio = sum(days) / backfill
    cold = days[0]
    return [
        Figure("b", f"one run per day, {len(days)} days", sum(days), "s"),
        Figure("b", f"one single-run backfill, median of {len(backfills)}", backfill, "s"),
        *(Figure("b", f"  backfill {when}", seconds, "s")
          for seconds, when in zip(backfills, taken, strict=True)),
        Figure("b", "per-day runs / backfill", ratio, "x", ">= 20x", *at_least(ratio, 20)),
        Figure("c", "one-day run, every asset, fresh process", cold, "s", "<= 30 s",
               *at_most(cold, 30)),
        Figure("c", "  median of the per-day runs", statistics.median(days), "s"),
        Figure("c", "  the bare script, same day, fresh process", bare["parquet", False], "s"),
        Figure("c", "  the bare script writing Delta instead", bare["delta", False], "s"),
        Figure("c", "one-day rerun silver -> gold, fresh process", rerun.seconds, "s",
               "<= 15 s", *at_most(rerun.seconds, 15)),
        Figure("c", "  the bare script's rerun, fresh process", bare["parquet", True], "s"),
        Figure("c", "  the bare script's rerun writing Delta", bare["delta", True], "s"),
    ]  # fmt: skip


def warm_worker(work: Path, ranges: Ranges) -> list[Figure]:
    """(c) as the automation runs it now: runs launched through the instance (`lakehouse run
    --launch`) on the warm run worker. The first starts the worker; the next day and its
    silver -> gold rerun find its JVM warm. Then a new worker is started ahead of any run
    (`lakehouse worker --start`, as the README's automation walkthrough does): once it has
    warmed up on the tables, the first run it takes. Each command is a fresh process."""
    first = ranges.month[0]
    second, third = first + DAY, first + 2 * DAY
    root = work / "warm-worker"
    land(root, first, third)
    try:
        starting = lakehouse(root, "run", "--launch", *span(first, first))
        day = lakehouse(root, "run", "--launch", *span(second, second))
        again = ["--select", SILVER_TO_GOLD]
        rerun = lakehouse(root, "run", "--launch", *span(second, second), *again)
        lakehouse(root, "worker", "--stop")
        # returns once the worker is warm (fails at once, naming its log, if it exits)
        warm_up = _warm_after(lakehouse(root, "worker", "--start", "--wait").output)
        ahead = lakehouse(root, "run", "--launch", *span(third, third))
    finally:
        lakehouse(root, "worker", "--stop")
    workers = {_worker_pid(m.output) for m in (starting, day, rerun)}
    if len(workers) != 1 or None in workers or _worker_pid(ahead.output) in (None, *workers):
        raise SystemExit(f"the launched runs were not on the expected warm workers: {workers}")
    return [
        Figure("c", "one-day run, every asset, warm run worker", day.seconds, "s", "<= 30 s",
               *at_most(day.seconds, 30)),
        Figure("c", "  the first launched run, starting the worker", starting.seconds, "s"),
        Figure("c", "  the first run on a worker started ahead", ahead.seconds, "s", "<= 30 s",
               *at_most(ahead.seconds, 30)),
        Figure("c", "    its warm-up, before the run (the worker idle)", warm_up, "s"),
        Figure("c", "one-day rerun silver -> gold, warm run worker", rerun.seconds, "s",
               "<= 15 s", *at_most(rerun.seconds, 15)),
    ]  # fmt: skip


def _warm_after(output: str) -> float:
    """The seconds the worker took to warm up once started, as `lakehouse worker --start
    --wait` prints them."""
    found = re.search(r"warm after ([\d.]+) s$", output, re.M)
    if found is None:
        raise SystemExit(f"`lakehouse worker --start --wait` said no warm-up time:\n{output}")
    return float(found.group(1))


def _worker_pid(output: str) -> str | None:
    """The warm worker's pid as `lakehouse run --launch` prints it, or None (its own process)."""
    found = re.search(r"on the warm run worker \(pid (\d+)\)", output)
    return found.group(1) if found else None


def scale(work: Path, ranges: Ranges) -> list[Figure]:
    """(d): the same range at scale 1 and at ``ranges.scale``."""
    measured = {}
    for factor in (1, ranges.scale):
        measured[factor] = range_run(work, *ranges.scaled, scale=factor)[1]
    one, many = measured[1], measured[ranges.scale]
    ratio = many.seconds / one.seconds
    memory = many.peak_mb / one.peak_mb
    n = ranges.scale
    return [
        Figure("d", "scale 1 run", one.seconds, "s"),
        Figure("d", f"scale {n} run", many.seconds, "s"),
        Figure("d", f"scale {n} / scale 1 time", ratio, "x", f"<= {n * 1.1:g}x",
               *at_most(ratio, n * 1.1)),
        Figure("d", "scale 1 peak memory (process tree)", one.peak_mb, "MB"),
        Figure("d", f"scale {n} peak memory (process tree)", many.peak_mb, "MB"),
        Figure("d", f"scale {n} / scale 1 peak memory", memory, "x", "<= 1.5x",
               *at_most(memory, 1.5)),
    ]  # fmt: skip


def test_suite() -> list[Figure]:
    """(e): `make test`, the main suite (the reliability suite is `make test-reliability`)."""
    began = time.monotonic()
    subprocess.run(["make", "test"], cwd=REPO_ROOT, check=True)
    minutes = (time.monotonic() - began) / 60
    return [Figure("e", "make test", minutes, "min", "<= 20 min", *at_most(minutes, 20))]


def report(figures: list[Figure]) -> str:
    lines = [f"{'':2}{'figure':52} {'measured':>12}  {'target':>9}  verdict"]
    for f in figures:
        value = f"{f.value:,.1f} {f.unit}"
        verdict = "" if f.met is None else ("met" if f.met else f"MISSED {f.off}")
        lines.append(f"{f.part:2}{f.name:52} {value:>12}  {f.target:>9}  {verdict}")
    return "\n".join(lines)


def revision() -> str | None:
    """The checkout's commit, ``-dirty`` when files differ from it (None outside git): what
    the figures measured."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
        )
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT, capture_output=True, text=True,
        )  # fmt: skip
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("-dirty" if changed.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few days per part")
    parser.add_argument("--with-tests", action="store_true", help="also time `make test`")
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/latest.json "
                        "(quick.json with --quick, which git ignores)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the lakehouse roots")
    args = parser.parse_args()
    ranges = QUICK if args.quick else FULL
    args.json = args.json or REPO_ROOT / "benchmarks/results" / (
        "quick.json" if args.quick else "latest.json"
    )
    work = Path(tempfile.mkdtemp(prefix="lakehouse-bench-"))
    began = time.monotonic()
    try:
        figures = full_year(work, ranges) + month(work, ranges)
        figures += warm_worker(work, ranges) + scale(work, ranges)
        if args.with_tests:
            figures += test_suite()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(report(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": revision(),
        "quick": args.quick,
        "cores": os.cpu_count(),
        "ranges": {k: [str(d) for d in v] if isinstance(v, tuple) else v
                   for k, v in dataclasses.asdict(ranges).items()},
        "bench_minutes": round((time.monotonic() - began) / 60, 1),
        "figures": [dataclasses.asdict(f) for f in figures],
    }, indent=2) + "\n")  # fmt: skip
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
