"""Declarative automation, judged by Dagster's own evaluator on a real instance.

Upstream updates are recorded as materialization events on the instance (what a run or
the landing sensor records); the evaluator then says which partitions it would request.
"""

import datetime as dt

import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    Definitions,
    evaluate_automation_conditions,
)

from assets.automation import automation_sensor
from assets.definitions import assets_for
from assets.landing import landing_specs
from assets.ml import delay_model
from assets.resources import build_resources

MODEL = AssetKey(["ml", "delay_model"])
LANDING = [AssetKey(["landing", "flights"]), AssetKey(["landing", "weather"])]
DIMENSIONS = [AssetKey(["silver", n]) for n in ("planes", "airports", "airlines")]
NOW = dt.datetime(2026, 11, 25, 12, 0)  # a Wednesday: the Monday 03:00 tick is days away


def definitions(model_code_version: str | None = None) -> Definitions:
    assets = assets_for("local")
    if model_code_version:
        assets = [
            a.map_asset_specs(lambda s: s.replace_attributes(code_version=model_code_version))
            if MODEL in a.keys
            else a
            for a in assets
        ]
    return Definitions(assets=[*landing_specs, *assets], resources=build_resources("local"))


DEFS = definitions()
GRAPH = DEFS.resolve_asset_graph()
DAILY = sorted(
    (k for k in GRAPH.get_all_asset_keys() if GRAPH.get(k).partitions_def and k not in LANDING),
    key=lambda k: k.to_user_string(),
)
UNPARTITIONED = [
    k
    for k in GRAPH.get_all_asset_keys()
    if not GRAPH.get(k).partitions_def and k.path[0] != "landing"
]


def days(first: str, count: int) -> list[str]:
    start = dt.date.fromisoformat(first)
    return [(start + dt.timedelta(days=n)).isoformat() for n in range(count)]


def materialize(instance: DagsterInstance, keys, partitions=(None,)) -> None:
    for key in keys:
        for partition in partitions:
            instance.report_runless_asset_event(AssetMaterialization(key, partition=partition))


class Ticks:
    """The automation sensor's evaluations, tick after tick, on one instance."""

    def __init__(self, instance: DagsterInstance, defs: Definitions = DEFS) -> None:
        self.instance, self.defs, self.cursor = instance, defs, None

    def tick(self, at: dt.datetime = NOW, defs: Definitions | None = None):
        result = evaluate_automation_conditions(
            defs or self.defs, self.instance, evaluation_time=at, cursor=self.cursor
        )
        self.cursor = result.cursor
        return result


def requested(result) -> dict[str, set[str | None]]:
    """Requested partitions by asset (None for an unpartitioned asset)."""
    found = {}
    for key in GRAPH.get_all_asset_keys():
        if result.get_num_requested(key):
            subset = result.get_requested_partitions(key)
            found[key.to_user_string()] = set(subset) if subset else {None}
    return found


@pytest.fixture
def ticks():
    """A lakehouse that has processed 2013-01-01..10 and trained a model; one settled tick."""
    instance = DagsterInstance.ephemeral()
    materialize(instance, [*LANDING, *DAILY], days("2013-01-01", 10))
    materialize(instance, [k for k in GRAPH.get_all_asset_keys() if k.path[0] == "landing"
                           and k not in LANDING])  # fmt: skip
    materialize(instance, UNPARTITIONED)
    t = Ticks(instance)
    assert t.tick().total_requested == 0  # the first evaluation only sets the baseline
    return t


def test_nothing_is_requested_when_nothing_changed(ticks):
    assert ticks.tick().total_requested == 0
    assert ticks.tick(NOW + dt.timedelta(hours=1)).total_requested == 0


def test_a_new_landing_day_requests_exactly_that_day_of_every_daily_asset(ticks):
    materialize(ticks.instance, LANDING, ["2013-01-11"])
    found = requested(ticks.tick())
    assert found == {k.to_user_string(): {"2013-01-11"} for k in DAILY}


def test_a_redelivered_month_requests_every_day_of_it_for_one_single_run_backfill(ticks):
    february = days("2013-02-01", 28)
    materialize(ticks.instance, LANDING, february)
    found = requested(ticks.tick())
    assert found == {k.to_user_string(): set(february) for k in DAILY}
    # Every requested asset backfills a range in one run, and the automation sensor emits
    # backfills: the 28 days become one run (the README automation walkthrough runs one).
    assert automation_sensor.emit_backfills
    assert all(GRAPH.get(k).backfill_policy.max_partitions_per_run is None for k in DAILY)


def test_dimension_updates_reload_the_warehouse_copy_but_request_no_day_downstream(ticks):
    materialize(ticks.instance, DIMENSIONS)
    found = requested(ticks.tick())
    assert found == {f"warehouse/{k.path[1]}": {None} for k in DIMENSIONS}


def test_changed_features_retrain_the_model_only_at_the_cron_tick(ticks):
    materialize(ticks.instance, [AssetKey(["gold", "flight_features"])], ["2013-01-05"])
    before = requested(ticks.tick())
    assert "ml/delay_model" not in before
    monday = dt.datetime(2026, 11, 30, 3, 5)  # just after the Monday 03:00 tick
    assert requested(ticks.tick(monday))["ml/delay_model"] == {None}


def test_no_retraining_at_the_tick_when_the_features_did_not_change(ticks):
    monday = dt.datetime(2026, 11, 30, 3, 5)
    assert "ml/delay_model" not in requested(ticks.tick(monday))


def test_a_new_model_code_version_retrains_at_once(ticks):
    changed = definitions(model_code_version=f"{delay_model.op.tags}-next")
    found = requested(ticks.tick(defs=changed))
    assert found == {"ml/delay_model": {None}}
    ticks.defs = changed
    assert ticks.tick().total_requested == 0  # once per change


def test_a_failed_blocking_check_stops_propagation(ticks):
    materialize(ticks.instance, LANDING, ["2013-01-11"])
    ticks.tick()  # requests bronze .. predictions for the day
    ran = [["bronze", "flights"], ["bronze", "weather"], ["silver", "weather"],
           ["quarantine", "weather"]]  # fmt: skip
    materialize(ticks.instance, [AssetKey(k) for k in ran], ["2013-01-11"])
    # silver/flights' gate blocks: its check fails and nothing is written.
    ticks.instance.report_runless_asset_event(
        AssetCheckEvaluation(
            asset_key=AssetKey(["silver", "flights"]),
            check_name="passes_silver_flights_suite",
            passed=False,
            metadata={},
        )
    )
    found = requested(ticks.tick())
    assert not {k for k in found if k.startswith(("gold/", "ml/", "warehouse/"))}


def test_a_new_champion_does_not_rescore_past_days(ticks):
    materialize(ticks.instance, [MODEL])  # a training run promoted a new version
    assert ticks.tick().total_requested == 0
