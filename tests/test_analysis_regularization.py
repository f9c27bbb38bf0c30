"""Train-test gaps, distance from a report's numbers, and the augmentation chapter's rules:
each made to hold, be contradicted and be inconclusive by synthetic seeds."""
import math

import pytest

from cnnreport.core import stats as S
from cnnreport.analysis import regularization as RG
from cnnreport.core.store import Result


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


def test_train_test_gaps_pair_each_seed_within_its_run():
    runs = [_run(98.0, 90.0), _run(96.0, 89.0), Result(key="d", config={"epochs": 3}, status="diverged")]
    assert RG.train_test_gaps(runs) == pytest.approx([8.0, 7.0])
    assert RG.train_test_gaps([]) == []


@pytest.mark.parametrize("train, test, outcome", [
    ([97.9, 98.0, 98.1], [89.5, 90.0, 90.5], S.HOLDS),
    ([91.0, 91.2, 90.9], [89.5, 90.0, 90.5], S.CONTRADICTED),    # training stays far from 100%
    ([97.9, 98.0, 98.1], [84.0, 84.1, 84.2], S.CONTRADICTED),    # test far from 90%
    ([97.9, 98.0, 98.1], [82.0, 90.0, 98.0], S.INCONCLUSIVE),    # test interval wider than the tolerance
    ([93.0, 97.0, 95.5], [89.5, 90.0, 90.5], S.INCONCLUSIVE),    # training interval contains 95%
])
def test_base_recipe_fit(train, test, outcome):
    v = RG.base_recipe_fit(train, test, tolerance=1.39)
    assert v.outcome == outcome and v.n == 6
    assert "training above 95%" in v.reason and "test around 90%" in v.reason


@pytest.mark.parametrize("gaps, outcome", [([1.0, 1.1, 0.9], S.HOLDS), ([5.0, 5.2, 4.9], S.CONTRADICTED),
                                           ([0.5, 3.5, 2.0], S.INCONCLUSIVE)])
def test_no_visible_overfitting(gaps, outcome):
    v = RG.no_visible_overfitting(gaps)
    assert v.outcome == outcome and v.n == 3 and "points" in v.measured


def test_no_visible_overfitting_waits_on_one_seed_without_noise():
    assert RG.no_visible_overfitting([1.0]).outcome == S.WAITING


@pytest.mark.parametrize("erasing, control, outcome", [
    ([89.0, 89.2, 89.1], [88.0, 88.1, 88.2], S.HOLDS),
    ([88.0, 88.1, 88.2], [89.0, 89.2, 89.1], S.CONTRADICTED),
    ([88.0, 90.0, 89.0], [88.5, 89.5, 89.0], S.INCONCLUSIVE),
])
def test_erasing_helps(erasing, control, outcome):
    v = RG.erasing_helps(erasing, control, control_label="crop + flip, 70 epochs")
    assert v.outcome == outcome and "crop + flip + erasing − crop + flip, 70 epochs" in v.measured


def test_erasing_helps_borrows_the_pooled_noise_for_one_seed():
    noise = S.noise([[88.0, 88.2, 88.1]], source="base recipe")
    assert RG.erasing_helps([89.5], [88.1]).outcome == S.WAITING
    assert RG.erasing_helps([89.5], [88.1], noise).outcome == S.HOLDS


FIVE = {0.4: [91.5, 91.6, 91.55], 0.5: [91.4, 91.5, 91.45], 0.6: [91.5, 91.55, 91.6],
        0.7: [92.2, 92.3, 92.25], 0.8: [91.3, 91.4, 91.35]}


def test_claimed_best_holds_contradicted_inconclusive():
    label = "p = {:g}".format
    v = RG.claimed_best(0.7, FIVE, 5, name=label)
    assert v.outcome == S.HOLDS and "p = 0.7 − p = 0.4" in v.measured and v.n == 15
    assert RG.claimed_best(0.7, {**FIVE, 0.4: [92.8, 92.9, 92.85]}, 5).outcome == S.CONTRADICTED
    assert RG.claimed_best(0.7, {**FIVE, 0.4: [91.5, 92.8, 92.2]}, 5).outcome == S.INCONCLUSIVE


def test_claimed_best_with_settings_missing_cannot_hold_but_can_fail():
    v = RG.claimed_best(0.7, {0.5: FIVE[0.5], 0.7: FIVE[0.7]}, 5)
    assert v.outcome == S.INCONCLUSIVE and "only 2 of the 5" in v.reason
    assert RG.claimed_best(0.7, {0.5: FIVE[0.7], 0.7: FIVE[0.5]}, 5).outcome == S.CONTRADICTED
    assert RG.claimed_best(0.7, {0.5: FIVE[0.5]}, 5).outcome == S.INCONCLUSIVE      # 0.7 not run
    assert RG.claimed_best(0.7, {}, 5).outcome == S.INCONCLUSIVE
