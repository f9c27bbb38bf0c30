"""The activation chapter's rules: each made to hold, be contradicted and be inconclusive by
synthetic seeds, and the per-seed measures they read."""
import pytest

from cnnreport.core import stats as S
from cnnreport.analysis import activations as AC
from cnnreport.core.store import Result

NAN = float("nan")
# Test accuracies over three seeds, in the report's order: ReLU first, GELU second.
ACCS = {"ReLU": [90.5, 90.6, 90.7], "Mish": [88.8, 88.9, 88.85], "ELU": [86.6, 86.7, 86.65],
        "RReLU": [88.6, 88.7, 88.65], "GELU": [90.0, 90.1, 90.05]}


def _run(test_curve, status="ok", reason="", test=None):
    return Result(key=str(test_curve), config={}, status=status, reason=reason,
                  final_test_acc=test, test_acc=test, history={"test_acc_curve": list(test_curve)})


def test_ranks_skip_nan_and_start_at_one():
    assert AC.ranks({"ReLU": 90.58, "Mish": 88.86, "GELU": 90.46, "ELU": NAN}) == {"ReLU": 1, "GELU": 2, "Mish": 3}
    assert AC.ranks({}) == {}


def test_seed_setbacks_per_finished_run():
    runs = [_run([0.5, 0.4, 0.6, 0.55]), _run([0.5, 0.6, 0.7]), _run([0.1], status="diverged"), _run([0.5])]
    assert AC.seed_setbacks(runs) == pytest.approx([15.0, 0.0])   # a one-epoch curve has no setbacks


def test_a_run_stuck_at_chance_counts_as_chance():
    runs = [_run([0.5], test=0.6),
            _run([0.1], status="diverged", reason="stuck at chance for 5 epochs (train loss 2.303 ~ ln 10)"),
            _run([0.1], status="diverged", reason="non-finite loss at step 12"),
            _run([0.1], status="pending")]
    assert AC.accs_stuck_as_chance(runs, "final_test") == pytest.approx([60.0, 10.0])


@pytest.mark.parametrize("best, accs, outcome", [
    ("ReLU", ACCS, S.HOLDS),
    ("Mish", ACCS, S.CONTRADICTED),
    ("ReLU", {**ACCS, "GELU": [89.5, 91.5, 90.5]}, S.INCONCLUSIVE),
])
def test_best_activation(best, accs, outcome):
    v = AC.best_activation(best, accs)
    assert v.outcome == outcome and v.n == 15


def test_two_best():
    # the report's text: Mish and GELU best; its table puts ReLU first, so Mish is beaten
    assert AC.two_best(["Mish", "GELU"], ACCS).outcome == S.CONTRADICTED
    assert AC.two_best(["ReLU", "GELU"], ACCS).outcome == S.HOLDS
    wide = {**ACCS, "Mish": [87.0, 91.0, 89.0]}
    assert AC.two_best(["ReLU", "GELU"], wide).outcome == S.INCONCLUSIVE
    v = AC.two_best(["ReLU", "GELU"], ACCS)
    assert "ReLU: holds" in v.reason and "GELU: holds" in v.reason and "GELU − ReLU" not in v.measured


SETBACKS = {"ReLU": [3.0, 3.2, 3.1], "RReLU": [4.0, 4.1, 4.2], "Mish": [1.0, 1.1, 0.9], "GELU": [1.5, 1.4, 1.6]}


def test_less_stable():
    assert AC.less_stable(["ReLU", "RReLU"], ["Mish", "GELU"], SETBACKS).outcome == S.HOLDS
    assert AC.less_stable(["Mish", "GELU"], ["ReLU", "RReLU"], SETBACKS).outcome == S.CONTRADICTED
    wide = {**SETBACKS, "ReLU": [0.0, 3.0, 1.5]}
    v = AC.less_stable(["ReLU", "RReLU"], ["Mish", "GELU"], wide)
    assert v.outcome == S.INCONCLUSIVE and "ReLU > Mish: inconclusive" in v.reason
    assert AC.less_stable(["ReLU"], ["Mish"], {"ReLU": [3.0], "Mish": [1.0]}).outcome == S.WAITING
    v = AC.less_stable(["ReLU"], ["Mish"], {"ReLU": [], "Mish": [1.0, 1.1]})   # no curve to read
    assert v.outcome == S.INCONCLUSIVE and "ReLU" in v.measured


def test_fits_least():
    train = {"ReLU": [98.0, 98.1, 97.9], "Mish": [96.2, 96.3, 96.25], "ELU": [92.8, 92.9, 92.85]}
    assert AC.fits_least("ELU", train).outcome == S.HOLDS
    assert AC.fits_least("Mish", train).outcome == S.CONTRADICTED
    assert AC.fits_least("ELU", {**train, "Mish": [90.0, 96.0, 93.0]}).outcome == S.INCONCLUSIVE


def test_gradients_vanish():
    relu = ACCS["ReLU"]
    assert AC.gradients_vanish(relu, [10.0, 10.0, 10.0]).outcome == S.HOLDS           # stuck at chance
    assert AC.gradients_vanish(relu, [88.0, 88.1, 88.2]).outcome == S.CONTRADICTED    # under 5 points behind
    assert AC.gradients_vanish(relu, [80.0, 88.0, 84.0]).outcome == S.INCONCLUSIVE
    v = AC.gradients_vanish(relu, [85.0, 85.1, 85.2], margin=3.0)
    assert v.outcome == S.HOLDS and "+3" in v.reason
