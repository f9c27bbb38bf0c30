"""Curve measures the schedule, activation and NumPy chapters judge claims by, and the
schedules chapter's rules: each made to hold, be contradicted and be inconclusive by
synthetic seeds."""
import math

import pytest

from cnnreport.core import stats as St
from cnnreport.analysis import schedules as S
from cnnreport.core.store import Result


def test_setbacks_and_rebounds_count_only_the_wrong_direction():
    assert math.isclose(S.setbacks([0.80, 0.75, 0.82]), 5.0)
    assert S.setbacks([0.1, 0.2, 0.3]) == 0.0
    assert math.isnan(S.setbacks([float("nan")] * 4))  # a run without validation
    assert math.isclose(S.rebounds([1.0, 0.8, 0.9, 0.5, 0.6]), 0.2)
    assert S.rebounds([3, 2, 1]) == 0.0


def test_roughness_is_zero_for_a_straight_line_and_grows_with_noise():
    line = [2.0 - 0.001 * i for i in range(500)]
    noisy = [v + (0.2 if i % 2 else -0.2) for i, v in enumerate(line)]
    assert S.roughness(line) < 1e-9 < S.roughness(noisy)
    assert math.isnan(S.roughness([1.0, 2.0]))


def test_steps_per_epoch_keeps_the_last_batch():
    assert S.steps_per_epoch(50_000, 128) == 391
    assert S.steps_per_epoch(40_000, 128) == 313
    assert S.steps_per_epoch(50_000, 32) == 1563
    assert S.steps_per_epoch(None, 32) is None


def test_nominal_train_size_applies_split_and_subset():
    assert S.nominal_train_size({"dataset": "cifar10", "val_fraction": 0.0}) == 50_000
    assert S.nominal_train_size({"dataset": "cifar10", "val_fraction": 0.2}) == 40_000
    assert S.nominal_train_size({"dataset": "mnist", "val_fraction": 1 / 6}) == 50_000
    assert S.nominal_train_size({"dataset": "cifar10", "val_fraction": 0.0, "train_subset": 2000}) == 2000


def test_early_loss_reads_the_first_quarter():
    assert S.early_loss([4.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]) == 3.0
    assert S.early_loss([5.0, 1.0]) == 5.0  # at least one epoch


def test_decay_drops_find_a_steeper_fall_after_each_decay():
    # decays after epochs 2 and 4: the loss falls 0.1 before each and 0.5 after
    loss = [2.0, 1.9, 1.4, 1.3, 0.8, 0.7]
    assert [(e, round(b, 3), round(a, 3)) for e, b, a in S.decay_drops(loss, 2)] == [(2, 0.1, 0.5), (4, 0.1, 0.5)]
    assert S.decay_drops([2.0, 1.0], 5) == []  # no decay inside the run


def test_gap_falls_with_weight_decay_only_when_it_falls_at_every_step():
    rows = [{"lr": lr, "wd": wd, "gap": g} for lr, gaps in ((0.1, (3, 2, 1)), (0.01, (2, 1.5, 1.2)))
            for wd, g in zip((1e-4, 1e-3, 1e-2), gaps)]
    assert S.gap_by_factor(rows, "wd", ["lr"]) == {1e-4: 2.5, 1e-3: 1.75, 1e-2: 1.1}
    assert S.falls_with_factor(rows, "wd", ["lr"]) == (True, 2, 2)
    rows[1]["gap"] = 5  # lr 0.1, wd 1e-3: now above wd 1e-4
    holds, falling, n = S.falls_with_factor(rows, "wd", ["lr"])
    assert (holds, falling, n) == (False, 1, 2)
    one = [r for r in rows if r["wd"] == 1e-3]
    assert S.falls_with_factor(one, "wd", ["lr"]) == (None, 0, 0)


def test_a_decay_counts_as_steep_only_against_the_undecayed_run():
    control = [0.5, 0.12, 0.083, 0.076, 0.063]
    decayed = [0.5, 0.12, 0.083, 0.038, 0.025]
    assert math.isclose(S.drop_after(decayed, 3), 0.045)
    assert S.steep_against_control(decayed, control, 3) is True
    assert S.steep_against_control(control, control, 3) is False
    assert S.steep_against_control(decayed, control, 5) is None  # no epoch after the decay
    assert math.isnan(S.drop_after([1.0], 1))


def _run(status="ok", **history):
    return Result(key=str(history), config={}, status=status, history=history, steps={"loss": [1.0] * 10})


def test_by_seed_reads_a_named_measure_or_a_function_of_finished_runs():
    runs = {"a": [_run(test_acc_curve=[0.80, 0.75, 0.82]), _run(test_acc_curve=[0.5, 0.6]),
                  _run("diverged", test_acc_curve=[0.5, 0.1])],
            "b": [_run(test_acc_curve=[0.5])]}                     # one epoch: no setbacks to count
    assert S.by_seed(runs, "setbacks") == {"a": [pytest.approx(5.0), 0.0], "b": []}
    assert S.by_seed(runs, lambda r: len(r.history["test_acc_curve"])) == {"a": [3.0, 2.0], "b": [1.0]}


HI, MID, LO = [3.0, 3.1, 3.05], [2.0, 2.1, 2.05], [1.0, 1.1, 1.05]
WIDE = [0.5, 3.5, 2.0]


@pytest.mark.parametrize("higher, lower, outcome", [(HI, LO, St.HOLDS), (LO, HI, St.CONTRADICTED),
                                                    (WIDE, MID, St.INCONCLUSIVE)])
def test_exceeds_in_the_measures_own_unit(higher, lower, outcome):
    v = S.exceeds(("a", higher), ("b", lower), unit=" epochs", digits=1)
    assert v.outcome == outcome and v.n == 6
    assert v.measured.startswith("a ") and " epochs (95%, n=3)" in v.measured and "a − b" in v.measured


def test_exceeds_waits_for_one_seed_and_names_a_missing_value():
    assert S.exceeds(("a", [3.0]), ("b", LO)).outcome == St.WAITING
    assert S.exceeds(("a", [3.0]), ("b", LO), St.noise([[1.0, 1.1, 1.05]])).outcome == St.HOLDS
    missing = S.exceeds(("a", []), ("b", LO))
    assert missing.outcome == St.NOT_REPRODUCED and "a" in missing.measured


def test_exceeds_by_a_margin():
    assert S.exceeds(("a", HI), ("b", MID), margin=0.5).outcome == St.HOLDS
    assert S.exceeds(("a", HI), ("b", MID), margin=1.5).outcome == St.CONTRADICTED


@pytest.mark.parametrize("groups, outcome", [
    ({"x": HI, "y": MID, "z": LO}, St.HOLDS),
    ({"x": MID, "y": HI, "z": LO}, St.CONTRADICTED),
    ({"x": HI, "y": WIDE, "z": LO}, St.INCONCLUSIVE),
])
def test_most_of_and_least_of(groups, outcome):
    assert S.most_of("x", groups).outcome == outcome
    flipped = {k: [-v for v in vs] for k, vs in groups.items()}
    v = S.least_of("x", flipped)
    assert v.outcome == outcome and "y − x" in v.measured and "z − x" in v.measured
    with pytest.raises(ValueError):
        S.most_of("w", groups)


def test_pairs_exceed_needs_every_pair():
    assert S.pairs_exceed([(("a", HI), ("b", MID)), (("b", MID), ("c", LO))]).outcome == St.HOLDS
    v = S.pairs_exceed([(("a", HI), ("b", MID)), (("c", LO), ("b", MID))])
    assert v.outcome == St.CONTRADICTED and "1 of 2 claimed pairs hold" in v.reason


ACC_HI, ACC_MID, ACC_LO = [92.1, 92.0, 92.05], [91.9, 91.85, 91.8], [90.8, 90.9, 90.85]


@pytest.mark.parametrize("accs, outcome", [
    ({"CosineAnnealingLR": ACC_HI, "OneCycleLR": ACC_MID, "CyclicLR": ACC_LO}, St.HOLDS),
    ({"CosineAnnealingLR": ACC_LO, "OneCycleLR": ACC_MID, "CyclicLR": ACC_HI}, St.CONTRADICTED),
    ({"CosineAnnealingLR": ACC_HI, "OneCycleLR": [90.0, 94.0, 92.0], "CyclicLR": ACC_LO}, St.INCONCLUSIVE),
])
def test_order001(accs, outcome):
    v = S.order001(accs)
    assert v.outcome == outcome and "CosineAnnealingLR − OneCycleLR" in v.measured


@pytest.mark.parametrize("cyclic, outcome", [([0.8, 0.81, 0.82], St.HOLDS), ([1.5, 1.51, 1.52], St.CONTRADICTED),
                                             ([0.5, 1.5, 1.0], St.INCONCLUSIVE)])
def test_falls_fastest(cyclic, outcome):
    early = {"CyclicLR": cyclic, "OneCycleLR": [1.2, 1.21, 1.22], "CosineAnnealingLR": [1.1, 1.11, 1.12]}
    assert S.falls_fastest(early).outcome == outcome


@pytest.mark.parametrize("onecycle, outcome", [([6.0, 6.5, 7.0], St.HOLDS), ([0.5, 0.6, 0.7], St.CONTRADICTED),
                                               ([0.0, 8.0, 4.0], St.INCONCLUSIVE)])
def test_most_unstable(onecycle, outcome):
    v = S.most_unstable({"CyclicLR": [2.0, 2.2, 2.1], "OneCycleLR": onecycle, "CosineAnnealingLR": [1.0, 1.1, 1.2]})
    assert v.outcome == outcome and " points (95%" in v.measured


@pytest.mark.parametrize("with_, outcome", [([66.0, 66.5, 67.0], St.HOLDS), ([40.0, 41.0, 42.0], St.CONTRADICTED),
                                            ([30.0, 70.0, 50.0], St.INCONCLUSIVE)])
def test_warmup_faster(with_, outcome):
    assert S.warmup_faster(with_, [49.0, 50.0, 49.5]).outcome == outcome


@pytest.mark.parametrize("with_, outcome", [
    ([88.2, 88.25, 88.15], St.HOLDS),          # no gain
    ([86.0, 86.1, 86.2], St.HOLDS),            # a loss is not a gain either
    ([90.0, 90.1, 90.05], St.CONTRADICTED),    # two points better
    ([87.0, 89.5, 88.25], St.INCONCLUSIVE),
])
def test_warmup_no_gain(with_, outcome):
    v = S.warmup_no_gain(with_, [88.18, 88.2, 88.16])
    assert v.outcome == outcome and "-0.5 points" in v.reason


@pytest.mark.parametrize("with_, outcome", [([0.9, 1.0, 0.95], St.HOLDS), ([0.1, 0.12, 0.11], St.CONTRADICTED),
                                            ([0.1, 1.5, 0.8], St.INCONCLUSIVE)])
def test_oscillates_more(with_, outcome):
    assert S.oscillates_more(with_, [0.3, 0.32, 0.31]).outcome == outcome


@pytest.mark.parametrize("step, outcome", [([8.5, 8.6, 10.8], St.HOLDS), ([0.1, 0.2, 0.15], St.CONTRADICTED),
                                           ([0.0, 8.0, 4.0], St.INCONCLUSIVE)])
def test_steplr_jump(step, outcome):
    v = S.steplr_jump(step, [2.0, 2.5, 2.25])
    assert v.outcome == outcome and v.measured.startswith("StepLR (2, 0.1) ")
