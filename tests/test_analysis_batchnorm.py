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
