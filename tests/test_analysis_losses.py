"""The losses chapter's rules: each made to hold, be contradicted and be inconclusive by
synthetic seeds, and the per-seed measures they read."""
import pytest

from cnnreport.core import stats as S
from cnnreport.analysis import losses as LS
from cnnreport.core.store import Result

CE, BCE, SL1 = [88.6, 88.8, 88.7], [85.5, 85.7, 85.6], [75.5, 75.8, 75.6]
WIDE = [84.0, 89.0, 86.5]


def _run(val_acc, status="ok", classes=None, per_class=None):
    return Result(key=str(val_acc), config={}, status=status, history={"val_acc": list(val_acc)},
                  classes=list(classes or []), per_class_acc=list(per_class or []))


@pytest.mark.parametrize("accs, outcome", [
    ({"cross-entropy": CE, "BCEWithLogits": BCE, "SmoothL1": SL1}, S.HOLDS),
    ({"cross-entropy": BCE, "BCEWithLogits": CE, "SmoothL1": SL1}, S.CONTRADICTED),   # BCE clearly first
    ({"cross-entropy": CE, "BCEWithLogits": WIDE, "SmoothL1": SL1}, S.INCONCLUSIVE),  # CE vs BCE unresolved
])
def test_ranking001(accs, outcome):
    v = LS.ranking001(accs)
    assert v.outcome == outcome and v.n == 9
    assert "cross-entropy − BCEWithLogits" in v.measured and "BCEWithLogits − SmoothL1" in v.measured


def test_ranking001_waits_for_a_single_seed_without_noise_and_uses_the_pooled_noise():
    one = {"cross-entropy": [88.7], "BCEWithLogits": [85.6], "SmoothL1": [75.6]}
    assert LS.ranking001(one).outcome == S.WAITING
    noise = S.noise([[88.0, 88.3, 88.1]], source="base recipe")
    assert LS.ranking001(one, noise).outcome == S.HOLDS


ADAM_OK = {"AlexNet": ([91.7, 91.8, 91.75], [92.5, 92.6, 92.55]), "VGG": ([91.7, 91.8, 91.75], [92.6, 92.7, 92.6])}
SGD_OK = {"AlexNet": ([91.6, 91.7, 91.65], [79.6, 79.8, 79.7]), "VGG": ([91.8, 91.9, 91.8], [77.4, 77.5, 77.6])}


def test_mse_adam_sgd_holds_for_both_nets():
    v = LS.mse_adam_sgd(ADAM_OK, SGD_OK)
    assert v.outcome == S.HOLDS and v.n == 24
    assert "AlexNet, Adam, MSE > CE: holds" in v.reason and "VGG, SGD, CE > MSE + 5: holds" in v.reason


def test_mse_adam_sgd_needs_both_nets():
    one_net_behind = {**ADAM_OK, "VGG": ([92.6, 92.7, 92.6], [91.7, 91.8, 91.75])}   # MSE behind with Adam
    assert LS.mse_adam_sgd(one_net_behind, SGD_OK).outcome == S.CONTRADICTED
    unresolved = {**ADAM_OK, "VGG": ([91.0, 93.0, 92.0], [92.0, 91.0, 93.0])}
    assert LS.mse_adam_sgd(unresolved, SGD_OK).outcome == S.INCONCLUSIVE


def test_mse_adam_sgd_failing_means_more_than_the_margin():
    close = {**SGD_OK, "AlexNet": ([91.6, 91.7, 91.65], [88.6, 88.7, 88.65])}   # 3 points behind: not a failure
    assert LS.mse_adam_sgd(ADAM_OK, close).outcome == S.CONTRADICTED
    assert LS.mse_adam_sgd(ADAM_OK, close, margin=2.0).outcome == S.HOLDS


def test_convergence_speed_per_seed_against_the_ce_runs_final_level():
    ce = [_run([0.85, 0.85, 0.9]), _run([0.7, 0.9, 0.9])]     # final 0.9 -> level 0.81; epochs 1, 2
    mse = [_run([0.2, 0.5, 0.82]), _run([0.1, 0.3, 0.85]), _run([0.1], status="diverged")]
    v = LS.convergence_speed(ce, mse, epochs=3)
    assert v["level"] == pytest.approx(0.81)
    assert v["ce"] == 1.5 and v["mse"] == 3.0 and v["never"] is False and v["epochs"] == 3
    assert v["ce_epochs"] == [1.0, 2.0] and v["mse_epochs"] == [3.0, 3.0]   # the diverged run drops out
    assert v["ce_never"] == [False, False] and v["mse_never"] == [False, False]
    assert LS.speed_words(v) == "cross-entropy 1.5 epochs, MSE 3.0 epochs"


def test_a_never_reached_level_counts_one_epoch_more_than_trained():
    v = LS.convergence_speed([_run([0.1, 0.85, 0.9])], [_run([0.1, 0.1])], epochs=2)
    assert v["never"] is True and v["mse_epochs"] == [3.0] and v["mse_never"] == [True]
    assert LS.speed_words(v) == "cross-entropy 2.0 epochs, MSE not reached in 2 epochs"
    assert "in 1 epoch," in LS.speed_words({**v, "epochs": 1}) + ","


def _speed(ce, mse, ce_never=None, mse_never=None):
    return dict(ce_epochs=ce, mse_epochs=mse, ce_never=ce_never or [False] * len(ce),
                mse_never=mse_never or [False] * len(mse))


def test_slow_convergence_holds_is_contradicted_and_inconclusive():
    slow = _speed([2.0, 3.0, 2.0], [15.0, 16.0, 15.0])
    fast = _speed([3.0, 3.0, 3.0], [3.0, 3.0, 4.0])             # MSE well under twice CE
    open_ = _speed([2.0, 3.0, 2.0], [3.0, 12.0, 6.0])           # MSE spread over both sides of 2x CE
    v = LS.slow_convergence({"AlexNet": slow, "VGG": slow})
    assert v.outcome == S.HOLDS and "MSE 15.3 ± 1.4 epochs (95%, n=3)" in v.measured
    assert LS.slow_convergence({"AlexNet": slow, "VGG": fast}).outcome == S.CONTRADICTED
    assert LS.slow_convergence({"AlexNet": slow, "VGG": open_}).outcome == S.INCONCLUSIVE


def test_slow_convergence_treats_never_reached_counts_as_lower_bounds():
    # every MSE seed never reached the level in 20 epochs: 21 is a lower bound, far above 2x CE
    never = _speed([3.0, 3.0, 4.0], [21.0, 21.0, 21.0], mse_never=[True, True, True])
    v = LS.slow_convergence({"AlexNet": never})
    assert v.outcome == S.HOLDS and "never reached it: a lower bound" in v.measured
    # a lower bound below the bar cannot contradict "slower"
    short = _speed([9.0, 10.0, 9.0], [11.0, 11.0, 11.0], mse_never=[True, True, True])
    assert LS.slow_convergence({"AlexNet": short}).outcome == S.INCONCLUSIVE
    # a cross-entropy seed that never reached the level cannot confirm it
    ce_open = _speed([3.0, 3.0, 21.0], [45.0, 46.0, 45.0], ce_never=[False, False, True])
    assert LS.slow_convergence({"AlexNet": ce_open}).outcome == S.INCONCLUSIVE


def test_slow_convergence_waits_on_one_seed_and_needs_finished_runs():
    assert LS.slow_convergence({"AlexNet": _speed([2.0], [15.0])}).outcome == S.WAITING
    v = LS.slow_convergence({"AlexNet": _speed([2.0, 3.0], [])})     # every MSE seed diverged
    assert v.outcome == S.CONTRADICTED and "AlexNet: not reproduced" in v.reason


def test_class_accs_reads_the_named_class_of_finished_runs():
    classes = ["T-shirt/top", "Shirt"]
    runs = [_run([0.9], classes=classes, per_class=[0.9, 0.7]), _run([0.9], classes=classes, per_class=[0.8, 0.75]),
            _run([0.1], status="diverged", classes=classes, per_class=[0.1, 0.1])]
    assert LS.class_accs(runs, "Shirt") == pytest.approx([70.0, 75.0])
    assert LS.class_accs(runs, "Coat") == []


@pytest.mark.parametrize("shirt, outcome", [
    ({"AlexNet, Adam, CE": [72.0, 73.0, 72.5], "VGG, Adam, CE": [74.0, 74.5, 73.5]}, S.HOLDS),
    ({"AlexNet, Adam, CE": [72.0, 73.0, 72.5], "VGG, Adam, CE": [84.0, 84.5, 83.5]}, S.CONTRADICTED),
    ({"AlexNet, Adam, CE": [72.0, 73.0, 72.5], "VGG, Adam, CE": [76.0, 84.0, 80.0]}, S.INCONCLUSIVE),
])
def test_shirt_below(shirt, outcome):
    v = LS.shirt_below(shirt)
    assert v.outcome == outcome and v.n == 6


def test_shirt_below_waits_on_one_seed():
    assert LS.shirt_below({"AlexNet, Adam, CE": [72.0]}).outcome == S.WAITING
