"""The Great Expectations project of a profile: suites from code, results and Data Docs kept.

``storage.quality`` says where it lives. A local folder holds a file-backed GX project
(``<quality>/gx``: suites, validation definitions, checkpoints, results, Data Docs). An
``s3://`` or ``s3a://`` location (dev: MinIO, prod: S3) keeps every store and the Data Docs
site under that prefix, so results survive an EMR driver; only ``great_expectations.yml``
is written locally, to a folder of the process's own.

The configuration is derived, never edited: ``great_expectations.yml`` (stores, the Data
Docs site, a Spark and a pandas data source with a dataframe asset per suite, ids derived
from names) is rewritten only when it differs, and each suite of :mod:`expectations.suites`
is written into the store with a validation definition and a checkpoint per engine when the
code changed it (a gate validates small frames as pandas copies: ``[quality]
pandas_max_rows``). So what runs is what is in git, and processes that start together find
nothing to write (the first registration in a project is serialized by a file lock, or
retried on object storage).

A validation result's Data Docs page (and the index) is rendered on a thread of its own
(:meth:`QualityContext.queue_page`): rendering is some 0.7 s of Jinja per result, and the
caller's next work is mostly a Delta write that waits on the JVM. Every other use of the
context waits for the queued pages first (a GX context is not made for threads), and so
does the process's exit. A run that gates opens the context itself on a thread too
(:func:`open_meanwhile`), while its first Spark work runs; the first caller waits for it.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import shutil
import tempfile
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from expectations.samples import skip_unrequested_samples
from expectations.suites import SUITES, result_format
from jobs.io.objectstore import is_object_uri, split_uri
from jobs.settings import Settings

# What a gate imports: Great Expectations (about 2.5 s: SciPy, pandas, Spark ML). Runs and
# jobs import it while their JVM starts (jobs/io/session.py: import_meanwhile), not at their
# first gate.
GATE_IMPORTS = ("great_expectations",)

SPARK, PANDAS = "spark", "pandas"
# The data source of each engine; the Spark one keeps the name projects were created with.
DATASOURCES = {SPARK: "lakehouse", PANDAS: "lakehouse_pandas"}
BATCH = "range"
SITE = "lakehouse"
_NAMESPACE = uuid.UUID("6f0c8a4e-1c55-4a8e-9d3e-2a61b0f3c9d1")
_STORES = {
    "expectations_store": ("ExpectationsStore", "expectations"),
    "validation_results_store": ("ValidationResultsStore", "validations"),
    "checkpoint_store": ("CheckpointStore", "checkpoints"),
    "validation_definition_store": ("ValidationDefinitionStore", "validation_definitions"),
}


def _id(*names: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(names)))


def _backend(settings: Settings, folder: str) -> dict[str, Any]:
    """Where one store (or the docs site) keeps its objects."""
    location = settings.storage.quality
    if not is_object_uri(location):
        return {"class_name": "TupleFilesystemStoreBackend", "base_directory": f"{folder}/"}
    bucket, key = split_uri(location)
    return {
        "module_name": "expectations.s3_backend",
        "class_name": "TupleS3StoreBackend",
        "bucket": bucket,
        "prefix": f"{key.strip('/')}/{folder}".lstrip("/"),
        "endpoint_url": settings.s3.endpoint,
        "region_name": settings.s3.region,
        "path_style": settings.s3.path_style_access,
    }


def _assets(source: str) -> dict[str, Any]:
    """Data source ``source``'s dataframe asset of each suite, with its batch definition."""
    return {
        suite: {
            "type": "dataframe",
            "id": _id(source, suite),
            "batch_metadata": {},
            "batch_definitions": {BATCH: {"id": _id(source, suite, BATCH), "partitioner": None}},
        }
        for suite in sorted(SUITES)
    }


def project_config(settings: Settings) -> dict[str, Any]:
    """The whole ``great_expectations.yml`` of ``settings``' profile (JSON is YAML)."""
    stores: dict[str, dict[str, Any]] = {
        name: {"class_name": class_name, "store_backend": _backend(settings, folder)}
        for name, (class_name, folder) in _STORES.items()
    }
    stores["checkpoint_store"]["store_backend"]["suppress_store_backend_id"] = True
    return {
        "config_version": 4.0,
        "stores": stores,
        "expectations_store_name": "expectations_store",
        "validation_results_store_name": "validation_results_store",
        "checkpoint_store_name": "checkpoint_store",
        "data_docs_sites": {
            SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": _backend(settings, "docs"),
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "validation_results_limit": settings.quality.docs_index_results,
                },
            }
        },
        "fluent_datasources": {
            source: {"type": engine, "id": _id(source), "assets": _assets(source)}
            for engine, source in DATASOURCES.items()
        },
        "analytics_enabled": False,
        "data_context_id": _id(settings.env, settings.storage.quality),
        "progress_bars": {"globally": False, "metric_calculations": False},
    }


def project_dir(settings: Settings) -> Path:
    """The folder of ``great_expectations.yml``: under ``storage.quality`` when it is a local
    folder, else one of this process's own (the stores are remote)."""
    if not is_object_uri(settings.storage.quality):
        return Path(settings.storage.quality)
    folder = tempfile.mkdtemp(prefix="lakehouse-gx-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the process's own, not kept
    return Path(folder)


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_text(text)
    staged.replace(path)  # atomic: a concurrent reader sees the old file or the new one


@dataclass(frozen=True)
class QualityContext:
    """A profile's GX context with every suite, validation definition and checkpoint."""

    gx: Any  # great_expectations FileDataContext
    location: str

    def checkpoint(self, suite: str, engine: str = SPARK) -> Any:
        """Suite ``suite``'s checkpoint on ``engine``'s dataframes."""
        pages_built()
        return self.gx.checkpoints.get(definition_name(suite, engine))

    def batch(self, suite: str, df: Any) -> Any:
        """``df`` (Spark or pandas) as a batch of suite ``suite``'s dataframe asset of its
        engine (for ad hoc validations)."""
        asset = self.gx.data_sources.get(DATASOURCES[engine_of(df)]).get_asset(suite)
        return asset.get_batch_definition(BATCH).get_batch(batch_parameters={"dataframe": df})

    def docs_index(self) -> str:
        """The address of the Data Docs index page."""
        pages_built()
        return str(self.gx.get_docs_sites_urls(site_names=[SITE])[0]["site_url"])

    def page(self, key: Any) -> str:
        """The address of one validation result's Data Docs page (built or queued)."""
        pages_built()
        urls = self.gx.get_docs_sites_urls(
            resource_identifier=key, site_names=[SITE], only_if_exists=False
        )
        return str(urls[0]["site_url"])

    def queue_page(self, key: Any) -> None:
        """Render the Data Docs page of stored result ``key``, its suite's page and the index
        on the page thread; :func:`pages_built` waits for it."""
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        pages_built()
        suite = ExpectationSuiteIdentifier(name=key.expectation_suite_identifier.name)
        build = self.gx.build_data_docs
        _QUEUED.append(
            (key, _PAGES.submit(build, site_names=[SITE], resource_identifiers=[key, suite]))
        )

    def store(self, key: Any, result: Any) -> None:
        """Store ``result`` under ``key`` again, replacing it (its page is queued after)."""
        pages_built()
        self.gx.validation_results_store.set(key, result)

    def result_keys(self) -> list[Any]:
        """Every stored validation result's identifier."""
        pages_built()
        return list(self.gx.validation_results_store.list_keys())

    def result(self, key: Any) -> Any:
        """One stored ``ExpectationSuiteValidationResult``."""
        pages_built()
        return self.gx.validation_results_store.get(key)


# The page thread (see the module's docstring) and the pages queued on it, oldest first.
_PAGES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="data-docs")
_QUEUED: list[tuple[Any, Future[Any]]] = []
_log = logging.getLogger(__name__)


def pages_built() -> None:
    """Wait until every Data Docs page this process queued is written. A page that could not
    be built is logged, not raised: its result is stored, and the next page of the suite
    rebuilds the index."""
    while _QUEUED:
        key, building = _QUEUED.pop(0)
        error = building.exception()
        if error is not None:
            _log.warning("the Data Docs page of %s was not built: %s", key, error)


atexit.register(pages_built)  # the executor's thread has finished them by then


def engine_of(df: Any) -> str:
    """The engine that validates ``df``: pandas for a pandas frame, else Spark."""
    import pandas as pd

    return PANDAS if isinstance(df, pd.DataFrame) else SPARK


def definition_name(suite: str, engine: str) -> str:
    """The name of suite ``suite``'s validation definition and checkpoint on ``engine``."""
    return suite if engine == SPARK else f"{suite}_on_{engine}"


def _expectation_dicts(expectations: list[Any]) -> list[dict[str, Any]]:
    """Expectations as comparable dicts (ids are the store's, not the code's)."""
    dicts = [e.configuration.to_json_dict() for e in expectations]
    return [{k: v for k, v in d.items() if k not in ("id", "rendered_content")} for d in dicts]


def _register(context: Any, name: str) -> None:
    """Write suite ``name`` (from code), its validation definitions and checkpoints into the
    stores, each only when the stored one differs; a written suite gets its Data Docs page."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )
    from great_expectations.exceptions import DataContextError

    expectations = [entry.build() for entry in SUITES[name]()]
    suite_written = True
    try:
        suite = context.suites.get(name)
        if _expectation_dicts(suite.expectations) != _expectation_dicts(expectations):
            suite.expectations = []
            for expectation in expectations:
                suite.add_expectation(expectation)
            suite.save()
        else:
            suite_written = False
    except DataContextError:
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    if suite_written:
        context.build_data_docs(
            site_names=[SITE], resource_identifiers=[ExpectationSuiteIdentifier(name=name)]
        )

    for engine, source in DATASOURCES.items():
        _register_checkpoint(context, suite, definition_name(name, engine), source)


def _register_checkpoint(context: Any, suite: Any, name: str, source: str) -> None:
    """Write the validation definition and checkpoint ``name`` of ``suite`` on data source
    ``source``, each only when the stored one differs."""
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    batch = context.data_sources.get(source).get_asset(suite.name).get_batch_definition(BATCH)
    try:
        definition = context.validation_definitions.get(name)
        stale = definition.suite.id != suite.id or definition.data.id != batch.id
    except DataContextError:
        definition, stale = None, True
    if stale:
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )

    actions: list[Any] = []  # the page is queued by the gate (QualityContext.queue_page)
    try:
        checkpoint = context.checkpoints.get(name)
        stale = (
            [d.id for d in checkpoint.validation_definitions] != [definition.id]
            or checkpoint.result_format != result_format(suite.name)
            or [a.name for a in checkpoint.actions] != [a.name for a in actions]
        )
    except DataContextError:
        stale = True
    if stale:
        context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[definition],
                actions=actions,
                result_format=result_format(suite.name),
            )
        )


def _register_all(context: Any, attempts: int = 3) -> None:
    """Register every suite. Another process may add the same suite, definition or
    checkpoint between this one's look and its add (two runs starting on a new object-store
    project): GX then refuses the add, and looking again finds it."""
    from great_expectations.exceptions import DataContextError

    for name in sorted(SUITES):
        for attempt in range(attempts):
            try:
                _register(context, name)
                break
            except DataContextError as exc:
                if "already exists" not in str(exc) or attempt == attempts - 1:
                    raise


@cache
def _open(location: str, config_json: str, directory: str) -> Any:
    import great_expectations as gx

    skip_unrequested_samples()  # every validation goes through a context opened here
    root = Path(directory)
    (root / "gx").mkdir(parents=True, exist_ok=True)
    # One process at a time registers into a local project: GX writes its files in place,
    # so a process starting beside another could read one half-written.
    with open(root / "gx" / ".register.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _write_if_changed(root / "gx" / "great_expectations.yml", config_json + "\n")
        context = gx.get_context(mode="file", project_root_dir=str(root))
        _register_all(context)
    return context


def quality_context(settings: Settings) -> QualityContext:
    """The GX context of ``settings``' profile, opened once per process and location (or
    by :func:`open_meanwhile`: then this waits for it)."""
    arguments = _open_arguments(settings)
    opening = _OPENING.get(arguments)
    if opening is not None:
        opening.exception()  # wait; a failed open is raised by opening again, just below
    return QualityContext(_open(*arguments), arguments[0])


def open_meanwhile(settings: Settings) -> None:
    """Start opening ``settings``' context on a thread of its own, for a run whose steps gate.

    Opening a new project registers every suite, validation definition and checkpoint and
    renders the suites' pages: some 1.5 s, mostly Python, while the run's first Spark work
    leaves this process waiting on the JVM. Call it once Great Expectations is imported
    (concurrent first imports of one package can see each other half-done)."""
    arguments = _open_arguments(settings)
    if arguments not in _OPENING:
        _OPENING[arguments] = _OPENER.submit(_open, *arguments)


def _open_arguments(settings: Settings) -> tuple[str, str, str]:
    """What :func:`_open` takes for ``settings``: location, configuration and folder."""
    config = json.dumps(project_config(settings), indent=1, sort_keys=True)
    location = settings.storage.quality
    if location not in _DIRECTORIES:
        _DIRECTORIES[location] = str(project_dir(settings))
    return location, config, _DIRECTORIES[location]


# One local project folder per quality location and process (a temporary one when remote).
_DIRECTORIES: dict[str, str] = {}
# Contexts opening on the opener's thread (open_meanwhile), by _open's arguments.
_OPENER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gx-open")
_OPENING: dict[tuple[str, str, str], Future[Any]] = {}
