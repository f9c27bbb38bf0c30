"""How slowly MSE converges against cross-entropy, and the verdicts on report 002's losses."""
import math

import pytest

from cnnreport.analysis import losses as LS
from cnnreport.store import Result


def _run(val_acc, status="ok"):
    return Result(key=str(val_acc), config={}, status=status, history={"val_acc": list(val_acc)})


def test_convergence_speed_against_the_ce_runs_final_level():
    ce = [_run([0.85, 0.85, 0.9]), _run([0.7, 0.9, 0.9])]     # final 0.9 -> level 0.81; epochs 1, 2
    mse = [_run([0.2, 0.5, 0.82]), _run([0.1, 0.3, 0.85])]
    v = LS.convergence_speed(ce, mse, epochs=3)
    assert v["level"] == pytest.approx(0.81)
    assert v["ce"] == 1.5 and v["mse"] == 3.0 and v["never"] is False and v["epochs"] == 3
    assert LS.slow_holds(v) is True                            # 3.0 >= 2 * 1.5
    assert LS.speed_words(v) == "cross-entropy 1.5 epochs, MSE 3.0 epochs"


def test_a_never_reached_lower_bound_leaves_it_open():
    ce = [_run([0.85, 0.9, 0.9])]                              # reaches 0.81 at epoch 1
    mse = [_run([0.1, 0.1])]                                   # never: counts 3 epochs, a lower bound
    v = LS.convergence_speed(ce, mse, epochs=2)
    assert v["never"] is True and v["mse"] == 3.0
    assert LS.slow_holds(v) is True
    v = LS.convergence_speed([_run([0.1, 0.85, 0.9])], [_run([0.1, 0.1])], epochs=2)  # ce 2, mse >= 3
    assert LS.slow_holds(v) is None
    assert LS.speed_words(v) == "cross-entropy 2.0 epochs, MSE not reached in 2 epochs"
    assert "in 1 epoch," in LS.speed_words({**v, "epochs": 1}) + ","


def test_slowly_converges_over_nets():
    fast = {"ce": 2.0, "mse": 3.0, "never": False}
    slow = {"ce": 1.0, "mse": 4.0, "never": False}
    open_ = {"ce": 2.0, "mse": 3.0, "never": True}
    assert LS.slowly_converges([slow, slow]) is True
    assert LS.slowly_converges([slow, fast]) is False
    assert LS.slowly_converges([slow, open_]) is None
    assert LS.slowly_converges([fast, open_]) is False         # one net already says no
    assert LS.slowly_converges([{"ce": math.nan, "mse": 3.0, "never": False}]) is None


def test_mse_adam_sgd_verdict():
    assert LS.mse_adam_sgd_holds({"a": 0.8, "v": -0.1}, {"a": 12.0, "v": 14.0}) is True
    assert LS.mse_adam_sgd_holds({"a": -0.8}, {"a": 12.0}) is False   # MSE never ahead with Adam
    assert LS.mse_adam_sgd_holds({"a": 0.8}, {"a": 4.9}) is False     # SGD gap under 5 points
    assert LS.mse_adam_sgd_holds({"a": math.nan}, {"a": 12.0}) is None
