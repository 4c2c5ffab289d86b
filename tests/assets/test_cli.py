"""`lakehouse run` in a process of its own: what a failed run shows, and where the rest goes."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.io import landing

pytestmark = pytest.mark.slow

DAY = dt.date(2013, 1, 1)
SESSION_CANARY = "canary-session-token-3f9a"
NOISE = ("Traceback", "Stack Trace", "\tat org.", "Py4JJavaError", "DagsterExecutionStepExecution")


@pytest.fixture(scope="module")
def failed(settings):
    """A run whose only landed flights file was truncated upstream."""
    root = Path(settings.storage.landing)
    landing.land(root, DAY, DAY)
    bad = landing.daily_file(root, "flights", DAY)
    bad.write_bytes(gzip.compress(b"year,month\n2013,1\n")[:-12])
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["AWS_SESSION_TOKEN"] = SESSION_CANARY
    day = DAY.isoformat()
    done = subprocess.run(
        [sys.executable, "-m", "assets.cli", "run", "--start", day, "--end", day,
         "--select", "key:bronze/flights"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return done, bad


def test_a_failed_run_exits_non_zero_naming_the_file_and_the_cause(failed):
    done, bad = failed
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: bronze__flights: LandingFileError: cannot ingest landing files:"]
    following = done.stderr.splitlines()[done.stderr.splitlines().index(errors[0]) + 1]
    assert str(bad) in following and "truncated or corrupt gzip" in following


def test_the_console_has_no_tracebacks_or_jvm_logs(failed):
    done, _ = failed
    console = done.stdout + done.stderr
    assert not [noise for noise in NOISE if noise in console], console
    assert len(console.splitlines()) <= 8, console  # start, step start/failure, run, cause, log


def test_the_full_log_keeps_the_tracebacks_and_the_jvm_log(failed, settings):
    done, _ = failed
    [path] = re.findall(r"^full log: (.+)$", done.stderr, re.MULTILINE)
    log = Path(path)
    assert log.parent == settings.logs_dir
    text = log.read_text()
    assert "Stack Trace" in text and "LandingFileError" in text  # Dagster's full record
    assert "ERROR Executor" in text and "java.io.EOFException" in text  # the JVM's own log
    assert "NativeCodeLoader" not in text  # conf/log4j2.properties: no start-up noise
    for secret in (os.environ["AWS_SECRET_ACCESS_KEY"], SESSION_CANARY):
        assert secret not in text and secret not in done.stdout + done.stderr


def test_a_failed_warning_check_is_printed_as_a_warning_with_its_reason(capsys):
    from dagster import AssetCheckEvaluation, AssetCheckSeverity, AssetKey

    from assets.commands.pipeline import print_checks

    def evaluation(name: str, passed: bool, severity: AssetCheckSeverity, **kw: object):
        key = AssetKey(["ml", "delay_predictions"])
        return AssetCheckEvaluation(key, name, passed, severity=severity, **kw)  # type: ignore[arg-type]

    drift = "drifting from the training data (PSI > 0.2): temp_f 4.08"
    print_checks([
        evaluation("features_match_training", False, AssetCheckSeverity.WARN, description=drift),
        evaluation("passes_suite", False, AssetCheckSeverity.ERROR,
                   metadata={"results": "- expect_a: FAILED\n- expect_b: passed"}),
        evaluation("realized_roc_auc_is_acceptable", True, AssetCheckSeverity.WARN),
    ])  # fmt: skip
    assert capsys.readouterr().out.splitlines() == [
        "  check ml/delay_predictions:features_match_training WARNING (blocks nothing)",
        f"    {drift}",
        "  check ml/delay_predictions:passes_suite FAILED",
        "    - expect_a: FAILED",
        "  checks: 1 passed, 1 failed, 1 warned",
    ]


def test_the_command_leaves_its_objects_to_the_exit():
    """`lakehouse` (the console script and `python -m assets.cli`) returns main's exit code
    without the interpreter's teardown collecting every imported object again (~1.4 s)."""
    from importlib.metadata import entry_points

    [script] = entry_points(group="console_scripts", name="lakehouse")
    assert script.value == "assets.cli:command"
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count()))\n"
        "sys.argv = ['lakehouse', '--env', 'nowhere', 'status']\n"
        "from assets.cli import command\n"
        "command()\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr  # main's code: no such environment
    assert "nowhere" in done.stderr
    assert int(done.stdout.split()[-1]) > 1000, done.stdout
