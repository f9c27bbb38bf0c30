"""Seed spread, the near-chance warning and how a missing number is shown."""
import math

import numpy as np
import pytest

from cnnreport.analysis.seeds import near_chance, seed_sd, text_or_pending, value_or_status


def test_seed_sd_is_the_sample_std_and_none_for_one_run():
    assert seed_sd([88.0, 90.0]) == pytest.approx(math.sqrt(2.0))
    assert seed_sd([87.0, 89.0, 91.0]) == pytest.approx(2.0)
    assert seed_sd([88.0]) is None
    assert seed_sd([]) is None


def test_near_chance_needs_a_finished_run_and_all_below_the_limit():
    assert near_chance([[12.0, 11.0], [25.0]]) is True
    assert near_chance([[12.0], [31.0]]) is False     # one group left chance
    assert near_chance([[], []]) is False             # nothing finished: no warning
    assert near_chance(iter([[29.0]])) is True        # a generator of groups works
    assert near_chance([[45.0]], limit=50.0) is True


def test_value_or_status():
    assert value_or_status(88.123, pending=False) == 88.12
    assert value_or_status(np.float64(88.126), pending=True) == pytest.approx(88.13)
    assert value_or_status(float("nan"), pending=True) == "pending"
    assert value_or_status(float("nan"), pending=False) == "no finished run"
    assert value_or_status(None, pending=False) == "no finished run"


def test_text_or_pending():
    assert text_or_pending(3.14159) == "3.14"
    assert text_or_pending(np.float64(-0.5), 3) == "-0.500"
    assert text_or_pending(np.float32(2.0)) == "2.00"
    assert text_or_pending(float("nan")) == "pending"
    assert text_or_pending(float("inf")) == "pending"
