import math

import pytest

from cnnreport.analysis.curves import epochs_to_reach, late_roughness, mean_finite, train_val_gap


def test_gap_uses_last_epoch_with_both():
    h = {"train_acc": [0.5, 0.9, 0.95], "val_acc": [0.5, 0.85, float("nan")]}
    assert train_val_gap(h) == pytest.approx(5.0)


def test_gap_without_validation_is_nan():
    assert math.isnan(train_val_gap({"train_acc": [0.9], "val_acc": []}))


def test_epochs_to_reach():
    assert epochs_to_reach([0.1, 0.5, 0.8, 0.9], 0.8) == 3
    assert epochs_to_reach([0.1, 0.2], 0.8) is None
    assert epochs_to_reach([float("nan"), 0.9], 0.8) == 2


def test_roughness_ignores_a_steady_trend():
    assert late_roughness([1.0, 0.9, 0.8, 0.7, 0.6, 0.5]) == pytest.approx(0.0, abs=1e-12)


def test_roughness_ranks_an_oscillating_curve_above_a_smooth_one():
    smooth = [0.5, 0.4, 0.35, 0.33, 0.32, 0.31, 0.305, 0.30]
    jumpy = [0.5, 0.4, 0.35, 0.45, 0.30, 0.42, 0.29, 0.40]
    assert late_roughness(jumpy) > 5 * late_roughness(smooth)


def test_roughness_only_reads_the_late_window():
    early_noise = [2.0, 0.1, 1.5, 0.2, 0.30, 0.29, 0.28, 0.27]
    assert late_roughness(early_noise, 0.5) == pytest.approx(0.0, abs=1e-12)
    assert late_roughness(early_noise, 1.0) > 0.5


def test_roughness_needs_three_values():
    assert math.isnan(late_roughness([0.3, 0.2]))
    with pytest.raises(ValueError):
        late_roughness([1, 2, 3], 0)


def test_mean_finite():
    assert mean_finite([1.0, float("nan"), 3.0]) == 2.0
    assert math.isnan(mean_finite([]))


def test_epochs_at_chance_counts_the_flat_start():
    from cnnreport.analysis.curves import epochs_at_chance
    ln10 = math.log(10)
    h = {"train_loss": [ln10, ln10, 1.2, ln10], "train_acc": [0.10, 0.11, 0.6, 0.1]}
    assert epochs_at_chance(h) == 2
    assert epochs_at_chance({"train_loss": [0.5], "train_acc": [0.8]}) == 0
    assert epochs_at_chance({"train_loss": [ln10] * 3, "train_acc": [0.1] * 3}) == 3
