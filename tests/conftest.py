"""Shared fixtures: one Spark session per test process, one lakehouse root per test module.

Every module that writes tables gets a root of its own (``lakehouse_root``, autouse), so no
test depends on what another module wrote or on the order modules run in.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

# Settings are read from the environment each time they are loaded, so this runs before any
# test module builds them: throwaway roots, no Spark UI, few shuffle partitions. The folders
# stay enterable for the dev servers' system users (PostgreSQL runs as `postgres`).
_ROOT = Path(tempfile.mkdtemp(prefix="lakehouse-test-"))
_ROOT.chmod(0o755)
os.environ["LAKEHOUSE_ROOT"] = str(_ROOT / "session")
os.environ["LAKEHOUSE_ENV"] = "local"
os.environ["LAKEHOUSE__SPARK__UI_ENABLED"] = "false"
os.environ["LAKEHOUSE__SPARK__SHUFFLE_PARTITIONS"] = "2"
os.environ["LAKEHOUSE__SPARK__DRIVER_MEMORY"] = "3g"
os.environ.pop("DAGSTER_HOME", None)
# A folder every worker of this test run shares (the workers inherit the controller's
# environment, which sets it first): the reference lakehouse below.
if "LAKEHOUSE_TEST_SHARED" not in os.environ:
    os.environ["LAKEHOUSE_TEST_SHARED"] = tempfile.mkdtemp(prefix="lakehouse-shared-")
_SHARED = Path(os.environ["LAKEHOUSE_TEST_SHARED"])
# The JVMs the tests start in other processes (the CLI, the daemon's runs, spark-submit) run
# a few short jobs on little data: the C1 JIT compiler alone spends about 30% less CPU there
# (the quick bench: 347 -> 247 CPU s), and two test workers keep both cores busy. This
# process's own session (the `spark` fixture) keeps the default: it lives for the whole run,
# where C2's code pays off (in one process, three asset modules took 223 -> 241 CPU s with C1).
# One compiler thread and the serial collector: such a JVM compiles and collects little, and
# G1's concurrent threads and a second C1 thread only compete with the other test worker
# (a one-day rerun, three alternating pairs: 59, 60, 62 -> 53, 55, 53 CPU s). How queries are
# planned (code generation, adaptive execution) is the settings' choice, as for users: a run
# of a few days is a small run ([spark.small_run]). The system property marks a JVM started
# with these options (tests/spark_submit/test_submit.py).
_OTHER_JVMS = "LAKEHOUSE__SPARK__DRIVER_JAVA_OPTIONS"
os.environ[_OTHER_JVMS] = (
    "-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:+UseSerialGC -Dlakehouse.jvm=test"
)
# S3 credentials of the test MinIO, in the environment before the JVM starts (S3A reads them
# from there). The secret doubles as a canary: tests assert it is never written anywhere.
os.environ["AWS_ACCESS_KEY_ID"] = "lakehouse-test"
os.environ["AWS_SECRET_ACCESS_KEY"] = f"canary-{secrets.token_hex(12)}"
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"

from assets import run_worker  # noqa: E402
from devservers import free_port, minio  # noqa: E402
from devservers import postgres as pgserver  # noqa: E402
from jobs.io.session import build_spark_session, planning_conf  # noqa: E402
from jobs.settings import Settings, load_settings  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def lakehouse_root(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A fresh lakehouse root for the module (``LAKEHOUSE_ROOT`` while it runs)."""
    root = _ROOT / request.module.__name__.replace(".", "-")
    root.mkdir()
    before = os.environ["LAKEHOUSE_ROOT"]
    os.environ["LAKEHOUSE_ROOT"] = str(root)
    yield root
    os.environ["LAKEHOUSE_ROOT"] = before


@pytest.fixture(scope="module")
def settings(lakehouse_root: Path) -> Settings:
    """The local settings, with the module's own root."""
    return load_settings()


# The test process's own session plans as a small run ([spark.small_run]): tests handle a
# few days of rows, as a one-day run does on EMR. Runs of more days than that in a test
# (tests/assets/test_assets.py) plan as configured, and each test starts from this again.
def _own_settings() -> Settings:
    """The settings of this process's session: as a small run, without the other JVMs'
    options."""
    own = {k: v for k, v in os.environ.items() if k != _OTHER_JVMS}
    # Its JVM runs the whole module list, long enough for the optimizing compiler to pay.
    own["LAKEHOUSE__SPARK__SMALL_RUN__DRIVER_JAVA_OPTIONS"] = ""
    return load_settings(environ=own).as_small_run()


_AS_BUILT = planning_conf(_own_settings())


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The one Spark session of the test process, whichever module asks first."""
    session = build_spark_session(_own_settings(), "pytest")
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def _planned_as_built() -> None:
    """Each test starts with the session planning queries as the ``spark`` fixture built it,
    whatever a run earlier in this process (a module's set-up, another module) left."""
    session = SparkSession.getActiveSession()
    if session is not None:
        for key, value in _AS_BUILT.items():
            session.conf.set(key, value)


@pytest.fixture(scope="session")
def reference_lakehouse(spark: SparkSession) -> Settings:  # the run uses this process's session
    """The settings of a lakehouse where ``lakehouse land`` and ``lakehouse run`` (every
    table but ML) ran REFERENCE_START..REFERENCE_END in process on the local profile: what
    the same code run another way (the dev profile, spark-submit on a cluster, Dagster Pipes)
    must write, or the inputs it starts from. Made once per test run and shared by the
    workers (a file lock; the second waits for the first); read it, never write it."""
    from filelock import FileLock

    from assets.cli import main
    from tests.cli import patched_environment
    from tests.reference import REFERENCE_END, REFERENCE_START

    root, done = _SHARED / "reference", _SHARED / "reference.done"
    # its own Dagster home too, which the CLI would otherwise leave set in this process
    env = {"LAKEHOUSE_ROOT": str(root), "DAGSTER_HOME": str(root / "dagster")}
    with FileLock(_SHARED / "reference.lock"), patched_environment(env):
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            span = ["--start", REFERENCE_START.isoformat(), "--end", REFERENCE_END.isoformat()]
            assert main(["land", *span]) == 0
            assert main(["run", *span]) == 0
            done.touch()
        return load_settings()  # its root: LAKEHOUSE_ROOT says where


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[pgserver.PgServer, str]]:
    """A real PostgreSQL server on 127.0.0.1 (a throwaway cluster), once per test process."""
    password = secrets.token_urlsafe(16)
    directory = Path(tempfile.mkdtemp(prefix="lakehouse-pg-"))
    server = pgserver.start(directory, free_port(), password)
    yield server, password
    pgserver.stop(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def minio_server() -> Iterator[minio.MinioServer]:
    """A real MinIO server on 127.0.0.1 with the test credentials, once per test process;
    its data lives under the test lakehouse root."""
    directory = _ROOT / "minio"
    server = minio.start(
        directory,
        free_port(),
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    yield server
    minio.stop(directory)


# The modules that take longest, longest first (seconds of set-up and calls in a fresh-clone
# run of every test, two workers, 2026-12-02). Each suite (`make test`, `make
# test-reliability`, `make check`) runs two worker processes that take whole modules in
# collection order (pytest-xdist, --dist loadfile): starting the README's 8-11 minutes first
# keeps it from being the tail that one worker runs alone at the end, and the dev module
# (first of the reliability suite) builds the reference lakehouse early for the spark-submit,
# Pipes and end-to-end modules. Modules not listed keep their order after.
SLOWEST_FIRST = [  # seconds in a fresh-clone run (ci43, 2026-12-02)
    "tests/test_readme.py",  # 500: the walkthroughs top to bottom, `make demo` included
    "tests/test_dev_profile.py",  # 195: the dev walkthrough, its checks, the reference lakehouse
    "tests/spark_submit/test_submit.py",  # 175: its walkthrough, local[*], a standalone cluster
    "tests/test_readme_own_root.py",  # 105: the quick `make bench`
    "tests/jobs/io/test_maintenance.py",  # 90
    "tests/assets/test_ml.py",  # 80
    "tests/assets/test_run_worker.py",  # 80: seven launched runs, two cold processes
    "tests/assets/test_pipes.py",  # 60
    "tests/test_crashes.py",  # 50
    "tests/expectations/test_gate.py",  # 50: both engines on every suite
    "tests/test_concurrent_runs.py",  # 45
    "tests/test_dev_mlflow.py",  # 40
    "tests/test_pipeline_e2e.py",  # 35
]


_config: list[pytest.Config] = []


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # this process prints (xdist's controller)
        _config.append(config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove this process's lakehouse roots (every module's tables, the dev servers' data)
    once its tests and session fixtures are done; kept when one of its tests failed, as
    evidence, or when ``LAKEHOUSE_KEEP_TEST_ROOTS`` is set."""
    run_worker.stop_under(_ROOT)  # runs launched by tests started them
    if session.testsfailed or os.environ.get("LAKEHOUSE_KEEP_TEST_ROOTS"):
        return
    shutil.rmtree(_ROOT, ignore_errors=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the workers have ended
        shutil.rmtree(_SHARED, ignore_errors=True)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Name a failure the moment it is reported, not only in the summary at the end: a run
    cut short (CI's time limit) still shows what failed and why."""
    reporter = _config[0].pluginmanager.get_plugin("terminalreporter") if _config else None
    if report.failed and reporter is not None:
        crash = getattr(report.longrepr, "reprcrash", None)
        why = crash.message.splitlines()[0][:200] if crash and crash.message else ""
        reporter.write_line(
            f"\nFAILED {report.nodeid} ({report.when}, {report.duration:.0f} s): {why}", red=True
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the slowest modules first (see ``SLOWEST_FIRST``); a stable sort keeps the order
    of tests within a module."""
    rank = {module: index for index, module in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
