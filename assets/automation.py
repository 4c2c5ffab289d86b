"""Declarative automation: what keeps the lakehouse moving without anyone typing a command.

- The landing sensor (``assets/sensors.py``) records new or re-delivered drops as events of
  the landing assets.
- Every daily asset carries :func:`on_new_data`: Dagster's ``eager()`` without its
  latest-day restriction, so each day of a burst propagates (and the automation sensor
  turns a burst into one backfill, which the single-run backfill policy makes one run).
  Updates of unpartitioned parents (dimensions, the model) do not re-request every day.
- Dimensions and unpartitioned warehouse tables are ``eager()``.
- The model is retrained on :func:`when_due`: at the configured cron tick if its features
  changed since it was last trained, and at once when its code version changes.
- Nothing runs while a parent is in progress or missing; a blocked gate writes nothing, so
  nothing downstream sees an update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dagster import (
    AssetKey,
    AssetSelection,
    AssetSpec,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    FreshnessPolicy,
)

from jobs.settings import Settings
from jobs.tables import TABLES

MODEL_KEY = AssetKey(["ml", "delay_model"])
# Upstream drops a day every day: a table whose newest materialization is over 26 hours old
# warns in the UI, over 36 hours fails (evaluated by the daemon).
DAILY_FRESHNESS = FreshnessPolicy.time_window(
    fail_window=dt.timedelta(hours=36), warn_window=dt.timedelta(hours=26)
)
WATCHED_FOR_FRESHNESS = ("silver/flights", "gold/", "ml/delay_predictions")


def on_new_data(ignored: Sequence[AssetKey] = ()) -> AutomationCondition:
    """Request every partition whose parent partitions were updated (or that became missing),
    once all its parents exist and none is in progress; updates of ``ignored`` parents
    do not count."""
    updated = AutomationCondition.any_deps_updated()
    if ignored:
        updated = updated.ignore(AssetSelection.assets(*ignored))
    return (
        (AutomationCondition.newly_missing() | updated).since_last_handled()
        & ~AutomationCondition.any_deps_missing()
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
    ).with_label("on_new_data")


def when_due(cron: str) -> AutomationCondition:
    """Retrain at each ``cron`` tick if the inputs changed since the last training, and at
    once when the asset's code version changes."""
    due = AutomationCondition.cron_tick_passed(cron) & (
        AutomationCondition.any_deps_updated().since_last_handled()
    )
    return (
        (due | AutomationCondition.code_version_changed())
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
    ).with_label(f"when_due({cron})")


def _unpartitioned(keys: Sequence[AssetKey]) -> list[AssetKey]:
    """Parents that are not daily (dimensions, snapshots, the model)."""
    known = {tuple(k.split("/")): t for k, t in TABLES.items()}
    return [k for k in keys if (t := known.get(tuple(k.path))) is not None and not t.daily]


def automation_condition(spec: AssetSpec, settings: Settings) -> AutomationCondition | None:
    """The condition of one asset: none for landing (files arrive), ``when_due`` for the
    model, ``on_new_data`` for daily assets and ``eager`` for the rest."""
    if spec.group_name == "landing":
        return None
    if spec.key == MODEL_KEY:
        return when_due(settings.ml.train_cron)
    if spec.partitions_def is not None:
        return on_new_data(_unpartitioned([dep.asset_key for dep in spec.deps]))
    return AutomationCondition.eager()


def with_automation(spec: AssetSpec, settings: Settings) -> AssetSpec:
    """``spec`` with its automation condition (see :func:`automation_condition`) and, for
    the tables users watch, its freshness policy."""
    condition = automation_condition(spec, settings)
    if condition is not None:
        spec = spec.replace_attributes(automation_condition=condition)
    if spec.key.to_user_string().startswith(WATCHED_FOR_FRESHNESS):
        spec = spec.replace_attributes(freshness_policy=DAILY_FRESHNESS)
    return spec


# The automation sensor is declared, not implicit: the implicit one starts stopped.
automation_sensor = AutomationConditionSensorDefinition(
    "lakehouse_automation",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    emit_backfills=True,  # a burst of days becomes one backfill, run as one ranged run
    minimum_interval_seconds=30,
)
