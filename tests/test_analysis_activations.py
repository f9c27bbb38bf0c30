"""The comparisons behind the activation chapter's verdicts."""
from cnnreport.analysis import activations as AC

NAN = float("nan")


def test_ranks_skip_nan_and_start_at_one():
    assert AC.ranks({"ReLU": 90.58, "Mish": 88.86, "GELU": 90.46, "ELU": NAN}) == {"ReLU": 1, "GELU": 2, "Mish": 3}
    assert AC.ranks({}) == {}


def test_group_mean_above_compares_group_means():
    setbacks = {"ReLU": 3.0, "RReLU": 1.0, "Mish": 0.5, "GELU": 2.0}
    assert AC.group_mean_above(setbacks, ["ReLU", "RReLU"], ["Mish", "GELU"])      # 2.0 > 1.25
    assert not AC.group_mean_above(setbacks, ["Mish", "GELU"], ["ReLU", "RReLU"])
    assert not AC.group_mean_above({**setbacks, "ReLU": NAN}, ["ReLU", "RReLU"], ["Mish", "GELU"])
