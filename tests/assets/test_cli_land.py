"""`lakehouse land --scale N --seed S`: N copies of the flights, said on the console."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from assets.cli import main
from jobs.io import landing

DAY = "2013-06-01"


def landed_rows(output: str) -> dict[str, int]:
    """Rows per dataset from the console's ``landed <dataset> ... rows`` lines."""
    lines = [line.split() for line in output.splitlines() if line.startswith("landed ")]
    return {words[1]: int(words[-2].replace(",", "")) for words in lines}


def test_land_at_scale_two_prints_twice_the_flights_and_the_scale(settings, capsys):
    assert main(["land", "--start", DAY, "--end", DAY]) == 0
    plain = capsys.readouterr().out
    flights = landing.daily_file(Path(settings.storage.landing), "flights", dt.date(2013, 6, 1))
    assert main(["land", "--start", DAY, "--end", DAY, "--scale", "2", "--seed", "5"]) == 0
    scaled = capsys.readouterr().out
    one, two = landed_rows(plain), landed_rows(scaled)
    assert two == {**one, "flights": 2 * one["flights"], "planes": 2 * one["planes"]}
    assert "scale" not in plain
    assert "scale 2 (seed 5): 2 copies of the 2013 flights and planes;" in scaled
    lines = gzip.decompress(flights.read_bytes()).decode().splitlines()
    assert len(lines) - 1 == two["flights"]


@pytest.mark.parametrize("scale", ["0", "-1", "two", "1.5"])
def test_a_scale_that_is_not_a_whole_number_of_copies_is_refused(scale, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["land", "--start", DAY, "--end", DAY, "--scale", scale])
    assert refused.value.code == 2
    assert f"argument --scale: {scale!r} is not a whole number from 1 to" in capsys.readouterr().err
