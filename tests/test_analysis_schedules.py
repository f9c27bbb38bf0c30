"""Curve measures the schedule, activation and NumPy chapters judge claims by."""
import math

from cnnreport.analysis import schedules as S


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


def test_ascending_is_strict_and_rejects_nan():
    assert S.ascending({"a": 1, "b": 2, "c": 3}, ["a", "b", "c"])
    assert not S.ascending({"a": 1, "b": 2, "c": 3}, ["b", "a", "c"])
    assert not S.ascending({"a": 1, "b": float("nan")}, ["a", "b"])


def test_decay_drops_find_a_steeper_fall_after_each_decay():
    # decays after epochs 2 and 4: the loss falls 0.1 before each and 0.5 after
    loss = [2.0, 1.9, 1.4, 1.3, 0.8, 0.7]
    assert [(e, round(b, 3), round(a, 3)) for e, b, a in S.decay_drops(loss, 2)] == [(2, 0.1, 0.5), (4, 0.1, 0.5)]
    assert S.drops_steepen(loss, 2) is True
    assert S.drops_steepen([2.0, 1.0, 0.9, 0.85, 0.84], 2) is False
    assert S.drops_steepen([2.0, 1.0], 5) is None  # no decay inside the run


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
