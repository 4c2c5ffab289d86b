"""Row rules: every failing row goes to quarantine with each reason; good rows go on."""

import pytest

from expectations import rules
from jobs.compose import pipeline
from jobs.transforms.bronze import CORRUPT_COLUMN, FLIGHTS_COLUMNS
from tests.jobs.builders import airlines, airports, bronze_flights, flight


def split(spark, rows):
    checked = pipeline.check_flights(bronze_flights(spark, rows), airports(spark), airlines(spark))
    good = rules.passed_rows(checked)
    bad = pipeline.quarantine(checked, pipeline.FLIGHTS, "run-1")
    return good, bad


def reasons_of(bad):
    return {r["_row_number"]: sorted(r["reasons"]) for r in bad.collect()}


# One faulty row per case: the fields that break it and the reason it must be quarantined with.
ONE_RULE_EACH = [
    ({"carrier": "NA"}, "null_natural_key"),
    ({"flight": ""}, "null_natural_key"),
    ({"origin": None}, "null_natural_key"),
    ({"dep_delay": "late"}, "malformed_number"),
    ({"distance": "1,400"}, "malformed_number"),
    ({"day": "2"}, "date_outside_partition"),
    ({"sched_dep_time": "NA"}, "missing_scheduled_time"),
    ({"dep_time": "1261"}, "impossible_time"),
    ({"arr_time": "2530"}, "impossible_time"),
    ({CORRUPT_COLUMN: "2013,1,1,517"}, "wrong_field_count"),
    ({"carrier": "ZZ"}, "unknown_carrier"),
    ({"dest": "XXX"}, "unknown_airport"),
    ({"origin": "XXX"}, "unknown_airport"),
    ({"distance": "0"}, "non_positive_distance"),
    ({"distance": "-5"}, "non_positive_distance"),
    ({"dep_delay": "1500", "dep_time": "1935"}, "delay_out_of_bounds"),
    ({"arr_delay": "-1441"}, "delay_out_of_bounds"),
    # EWR 05:17 -> ORD 05:30 CST is 73 minutes gate to gate: less than 227 in the air
    ({"arr_time": "530", "arr_delay": "-169"}, "arrival_before_departure"),
]
FIRST_CASE_ROW = 10


@pytest.fixture(scope="module")
def one_rule_each(spark):
    """The good flight (line 2) and every faulty row of ONE_RULE_EACH (line 10 + its index,
    a flight number of its own), split once: (good line numbers, reasons by line)."""
    faulty = [
        flight(**{"_row_number": FIRST_CASE_ROW + i, "flight": str(100 + i), **fields})
        for i, (fields, _) in enumerate(ONE_RULE_EACH)
    ]
    good, bad = split(spark, [flight(_row_number=2), *faulty])
    return [r["_row_number"] for r in good.collect()], reasons_of(bad)


@pytest.mark.parametrize(("case", "reason"), enumerate(r for _, r in ONE_RULE_EACH))
def test_a_row_failing_a_rule_is_quarantined_with_its_reason(one_rule_each, case, reason):
    good, reasons = one_rule_each
    row = FIRST_CASE_ROW + case
    assert 2 in good and row not in good, ONE_RULE_EACH[case][0]  # the good row passes
    assert reason in reasons[row], ONE_RULE_EACH[case][0]


def test_a_row_failing_several_rules_carries_every_reason(spark):
    _, bad = split(spark, [flight(carrier="NA", dep_delay="x", dep_time="1299")])
    assert reasons_of(bad)[2] == ["impossible_time", "malformed_number", "null_natural_key"]


def test_the_first_copy_of_a_natural_key_survives_and_later_copies_are_duplicates(spark):
    rows = [
        flight(_row_number=5, dep_delay="2"),
        flight(_row_number=2, dep_delay="2"),  # first by line: survives
        flight(_row_number=9, dep_delay="3", dep_time="518"),  # near duplicate, same key
    ]
    good, bad = split(spark, rows)
    assert [r["_row_number"] for r in good.collect()] == [2]
    assert reasons_of(bad) == {5: ["duplicate"], 9: ["duplicate"]}


def test_a_bad_first_copy_does_not_shadow_a_good_second_copy(spark):
    good, bad = split(spark, [flight(_row_number=2, dep_time="1299"), flight(_row_number=3)])
    assert [r["_row_number"] for r in good.collect()] == [3]
    assert reasons_of(bad) == {2: ["impossible_time"]}


def test_quarantine_keeps_the_row_as_received_with_its_lineage(spark):
    _, bad = split(spark, [flight(dep_delay="late")])
    row = bad.first()
    assert bad.columns[: 1 + len(FLIGHTS_COLUMNS)] == ["flight_date", *FLIGHTS_COLUMNS]
    assert row["dep_delay"] == "late" and row["carrier"] == "UA"
    assert row["_source_file"].endswith("2013-01-01.csv.gz") and row["_row_number"] == 2
    assert row["_run_id"] == "run-1"


def test_good_rows_pass_untouched(spark):
    good, bad = split(spark, [flight(), flight(_row_number=3, flight="2", dep_time="NA")])
    assert good.count() == 2 and bad.count() == 0


def test_the_delay_bound_comes_from_settings(spark):
    row = flight(dep_delay="90", dep_time="645", arr_time="1000", arr_delay="101")
    checked = pipeline.check_flights(
        bronze_flights(spark, [row]), airports(spark), airlines(spark), max_delay_minutes=60
    )
    assert reasons_of(pipeline.quarantine(checked, pipeline.FLIGHTS, "r")) == {
        2: ["delay_out_of_bounds"]
    }


def test_every_rule_is_documented():
    described = rules.describe_rules(rules.FLIGHT_RULES)
    assert {d["reason"] for d in described} >= {"null_natural_key", "impossible_time"}
    assert all(d["description"] for d in described)


def test_the_readme_documents_every_rule_reason():
    from jobs.settings import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("## Data quality") : readme.index("## Warehouse")]
    for rule in rules.describe_rules(rules.FLIGHT_RULES):
        assert f"`{rule['reason']}`" in section, rule["rule"]
