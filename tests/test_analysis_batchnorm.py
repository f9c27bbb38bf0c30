"""The measures behind the BatchNorm chapter's audit rows on report 000's figures."""
import math

import numpy as np

from cnnreport.analysis import batchnorm as A


def hist(train, test):
    return {"train_loss": list(train), "test_loss_curve": list(test)}


def test_loss_gap_reads_the_right_epoch():
    h = hist([2.0, 1.0, 0.5], [2.1, 1.3, 1.4])
    assert math.isclose(A.loss_gap(h), 0.9)            # last epoch
    assert math.isclose(A.loss_gap(h, 2), 0.3)
    assert math.isnan(A.loss_gap(h, 4)) and math.isnan(A.loss_gap(h, 0))
    assert math.isnan(A.loss_gap({}))


def test_common_epochs_is_the_shortest_history():
    a, b = hist([1] * 5, [1] * 5), hist([1] * 3, [1] * 4)
    assert A.common_epochs(a, b) == 3 and A.common_epochs() == 0


def test_first_epoch_reaching_and_best_within():
    curve = [0.5, 0.87, None, 0.885, 0.9]
    assert A.first_epoch_reaching(curve, 0.88) == 4
    assert A.first_epoch_reaching(curve, 0.95) is None
    assert A.best_within(curve, 3) == 0.87
    assert math.isnan(A.best_within([], 20))


def test_window_widths_split_early_and_late():
    band = {"min": np.zeros(6), "max": np.array([4.0, 2.0, np.nan, 1.0, 1.0, 1.0])}
    early, late = A.window_widths(band, 3)
    assert early == 3.0 and late == 1.0               # the NaN step is skipped
    early, late = A.window_widths(band, 10)
    assert math.isnan(late)                           # no step after the split
    assert A.window_widths(band, 3, n=4) == (3.0, 1.0)


def test_logit_spread_tells_a_constant_net_from_a_responsive_one():
    import torch
    from torch import nn
    torch.manual_seed(0)
    x = torch.randn(32, 5)
    lin = nn.Linear(5, 3)
    assert A.logit_spread(lin, x) > 0.1
    with torch.no_grad():
        lin.weight.zero_()
    assert A.logit_spread(lin, x) == 0.0              # answers every input alike
    bn = nn.Sequential(nn.Linear(5, 3), nn.BatchNorm1d(3)).eval()
    before = bn[1].running_mean.clone()
    assert abs(A.logit_spread(bn, x) - 1.0) < 0.05   # batch statistics: unit spread
    assert not bn.training and torch.equal(bn[1].running_mean, before)  # state restored


def band(lo, hi):
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    return {"min": lo, "max": hi, "mean": (lo + hi) / 2, "n_runs": 4}


def test_band_summary_compares_over_the_common_steps():
    plain = band([1.0, 1.0, 1.0, 0.0], [3.0, 3.0, 2.0, 9.0])   # one step longer than BN's band
    bn = band([1.0, 0.5, 0.5], [2.0, 1.5, 2.5])
    s = A.band_summary({"VGG-A": [plain, None], "VGG-A-BN": [bn, bn]}, early_steps=2)
    assert s["ready"] == [0] and s["steps"] == 3                  # seed 1 lacks a plain band
    assert math.isclose(s["measures"]["VGG-A"]["width"], 5 / 3)   # the 4th step is not compared
    assert math.isclose(s["measures"]["VGG-A-BN"]["top"], 2.0)
    assert math.isclose(s["share_narrower"], 200 / 3)             # steps 1 and 2 of 3
    assert math.isclose(s["share_lower"], 200 / 3)               # step 3: equal means, not lower
    assert s["windows"]["VGG-A"] == (2.0, 1.0)
    none = A.band_summary({"VGG-A": [None], "VGG-A-BN": [bn]}, early_steps=2)
    assert none["ready"] == [] and none["steps"] is None and math.isnan(none["share_lower"])


def test_small_readings():
    assert A.fmt_or_na(float("nan")) == "n/a" and A.fmt_or_na(None) == "n/a"
    assert A.fmt_or_na(0.12345) == "0.123" and A.fmt_or_na(7, "{}") == "7"
    assert math.isnan(A.finite_mean([])) and math.isnan(A.finite_mean([float("nan")]))
    assert A.finite_mean([1.0, float("nan"), 3.0]) == 2.0
    assert A.epochs_text([4, None]) == "4, never"
    assert A.number_list([0.001, 0.0005]) == "0.001, 0.0005"
    assert A.profile_value(32, 32) == "32"
    assert A.profile_value(1, 200) == "1 here; 200 at full"
    assert A.round_numbers(81.7712) == 81.77 and A.round_numbers("pending") == "pending"
