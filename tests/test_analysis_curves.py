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


def _run(val_acc, status="ok", val_loss=None):
    from cnnreport.core.store import Result
    h = {"val_acc": list(val_acc)}
    if val_loss is not None:
        h["val_loss"] = list(val_loss)
    return Result(key=str(val_acc), config={}, status=status, history=h)


def test_mean_last_over_finished_runs():
    from cnnreport.analysis.curves import mean_last
    runs = [_run([0.5, 0.8]), _run([0.6, 0.9]), _run([0.1, 0.1], status="diverged")]
    assert mean_last(runs) == pytest.approx(0.85)
    assert math.isnan(mean_last([_run([], status="pending")]))


def test_mean_epochs_to_reach_counts_a_miss_as_one_epoch_more():
    from cnnreport.analysis.curves import mean_epochs_to_reach
    assert mean_epochs_to_reach([_run([0.5, 0.8, 0.9]), _run([0.8, 0.9, 0.9])], 0.8) == (1.5, False)
    # one seed never gets there: it counts 3 + 1 epochs; not every seed missed
    assert mean_epochs_to_reach([_run([0.5, 0.8, 0.9]), _run([0.1, 0.2, 0.3])], 0.8) == (3.0, False)
    assert mean_epochs_to_reach([_run([0.1, 0.2])], 0.8) == (3.0, True)
    m, never = mean_epochs_to_reach([_run([0.9], status="pending")], 0.8)
    assert math.isnan(m) and never is False


def test_mean_late_roughness_over_finished_runs():
    from cnnreport.analysis.curves import mean_late_roughness
    steady = _run([0.5] * 6, val_loss=[1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    jumpy = _run([0.5] * 6, val_loss=[1.0, 0.9, 0.8, 0.9, 0.7, 0.9])
    assert mean_late_roughness([steady], "val_loss") == pytest.approx(0.0, abs=1e-12)
    assert mean_late_roughness([jumpy], "val_loss") > 0.1
    both = mean_late_roughness([steady, jumpy], "val_loss")
    assert both == pytest.approx(mean_late_roughness([jumpy], "val_loss") / 2)
    assert math.isnan(mean_late_roughness([_run([0.5], status="pending")], "val_loss"))
