"""Train-test gaps, distance from a report's numbers, and the claimed best setting."""
import math

import pytest

from cnnreport.analysis import regularization as RG
from cnnreport.store import Result


def _run(train, test, test_loss=(1.0, 0.5, 0.7), status="ok", epochs=3):
    return Result(key=f"{train}-{test}", config={"epochs": epochs}, status=status,
                  test_acc=test / 100, final_test_acc=test / 100,
                  history={"train_acc": [0.1, train / 100], "test_loss_curve": list(test_loss)})


def test_gap_table_rows():
    runs = {"a": [_run(98.0, 90.0), _run(96.0, 88.0, test_loss=(1.0, 0.6, 0.6))],
            "b": [Result(key="p", config={"epochs": 5}, status="pending")]}
    t = RG.gap_table(runs)
    assert list(t.index) == ["a", "b"]
    assert t.loc["a", "final train (%)"] == pytest.approx(97.0)
    assert t.loc["a", "test (%)"] == pytest.approx(89.0)
    assert t.loc["a", "train - test (points)"] == pytest.approx(8.0)
    assert t.loc["a", "test loss: last - lowest"] == pytest.approx(0.1)   # (0.2 + 0.0) / 2
    assert t.loc["a", "epochs"] == 3 and t.loc["a", "status"] == "done"
    assert math.isnan(t.loc["b", "test (%)"]) and math.isnan(t.loc["b", "test loss: last - lowest"])
    assert t.loc["b", "status"] == "pending" and t.loc["b", "epochs"] == 5


def test_distance_from_claim_is_the_larger_difference():
    assert RG.distance_from_claim([_run(97.0, 94.0)], (97.118, 94.29)) == pytest.approx(0.29)
    assert RG.distance_from_claim([_run(90.0, 94.0)], (97.118, 94.29)) == pytest.approx(7.118)
    assert math.isnan(RG.distance_from_claim([], (97.118, 94.29)))


def test_closer_reading():
    assert RG.closer_reading({"er": 0.5, "cf": 1.0}) == "er"
    assert RG.closer_reading({"er": 2.0, "cf": 1.0}) == "cf"
    assert RG.closer_reading({"er": 1.0, "cf": 1.005}) == "neither"
    assert RG.closer_reading({"er": math.nan, "cf": 1.0}) is None


def test_claimed_best_holds():
    five = {0.4: 91.7, 0.5: 91.5, 0.6: 91.6, 0.7: 91.8, 0.8: 91.4}
    assert RG.claimed_best_holds(five, 0.7, 5) is True
    assert RG.claimed_best_holds({**five, 0.4: 92.0}, 0.7, 5) is False
    assert RG.claimed_best_holds({0.5: 91.0, 0.7: 90.0}, 0.7, 5) is False   # already beaten
    assert RG.claimed_best_holds({0.5: 90.0, 0.7: 91.0}, 0.7, 5) is None    # best so far, not all run
    assert RG.claimed_best_holds({0.5: 90.0}, 0.7, 5) is None
    assert RG.claimed_best_holds({}, 0.7, 5) is None
