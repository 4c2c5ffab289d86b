"""The accounting identity: bronze rows of a day = its silver rows + its quarantined rows."""

import datetime as dt

from expectations.accounting import DayAccount, daily_accounts, unbalanced

D1, D2, D3 = dt.date(2013, 1, 1), dt.date(2013, 1, 2), dt.date(2013, 1, 3)


def days(spark, *dates):
    return spark.createDataFrame([(d,) for d in dates], "flight_date DATE")


def test_every_day_of_any_frame_is_counted_in_each_frame_in_day_order(spark):
    bronze = days(spark, D2, D1, D1, D1, D2)
    silver = days(spark, D1, D1, D2, D3)  # D3 appeared from nowhere
    quarantined = days(spark, D1)  # D2 lost a row

    accounts = daily_accounts(bronze, silver, quarantined, "flight_date")

    assert accounts == [
        DayAccount(D1, bronze=3, silver=2, quarantined=1),
        DayAccount(D2, bronze=2, silver=1, quarantined=0),
        DayAccount(D3, bronze=0, silver=1, quarantined=0),
    ]
    assert [a.day for a in unbalanced(accounts)] == [D2, D3]


def test_an_empty_quarantine_balances_when_every_row_is_in_silver(spark):
    bronze = days(spark, D1, D1)
    accounts = daily_accounts(bronze, days(spark, D1, D1), days(spark), "flight_date")
    assert accounts == [DayAccount(D1, bronze=2, silver=2, quarantined=0)]
    assert unbalanced(accounts) == []
