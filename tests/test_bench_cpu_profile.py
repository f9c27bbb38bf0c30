"""bench/cpu_profile.py: every profiled op lands in one kind, and a real step profiles (no timing asserted)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
cpu_profile = pytest.importorskip("cpu_profile")


@pytest.mark.parametrize("name, kind", [
    ("aten::convolution_backward", "conv backward"), ("aten::mkldnn_convolution", "conv forward"),
    ("aten::native_batch_norm_backward", "batchnorm"), ("aten::relu_", "activation"),
    ("aten::threshold_backward", "activation"), ("aten::add_", "add and other element-wise"),
    ("aten::scatter_reduce_", "add and other element-wise"), ("aten::copy_", "copies and layout"),
    ("aten::addmm", "matmul"), ("aten::_log_softmax", "loss"), ("Optimizer.step#SGD.step", "optimizer"),
    ("## Call CompiledFxGraph f3x ##", "fused (Inductor)"), ("aten::not_an_op", "other"),
])
def test_each_op_has_one_kind(name, kind):
    assert cpu_profile.kind_of(name) == kind


def test_a_step_profiles_into_kinds_and_conv_rates():
    row = next(r for r in cpu_profile.CS.plan_rows() if r["model"] == "lenet")
    prof = cpu_profile.profile_step(row, compiled=False, steps=1)
    assert prof["kinds_ms"]["conv backward"] > 0 and prof["kinds_ms"]["conv forward"] > 0
    rates = cpu_profile.conv_rates(prof["convs"], row["batch"])
    assert {r["conv"] for r in rates} == {"1->6 k5 @ 28x28", "6->16 k5 @ 12x12"}, rates
    assert all(r["forward_tflops"] > 0 for r in rates)


def test_the_im2col_convolution_computes_the_same_as_the_convolution():
    import torch
    conv = torch.nn.Conv2d(8, 16, 3, padding=1, bias=False)
    x = torch.randn(4, 8, 5, 5)
    torch.testing.assert_close(cpu_profile.im2col_conv(x, conv.weight, 1), conv(x), rtol=1e-4, atol=1e-5)
