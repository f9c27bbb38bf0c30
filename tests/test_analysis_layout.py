"""Layout counts of built models: main-path convolutions, receptive field, stem cost."""
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from cnnreport.analysis import layout as L  # noqa: E402


class _Net(nn.Module):
    def __init__(self, kernels, c=4):
        super().__init__()
        layers, cin = [], 3
        for k in kernels:
            layers += [nn.Conv2d(cin, c, k, padding=k // 2, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
            cin = c
        self.stem = nn.Sequential(*layers)
        self.shortcut = nn.Conv2d(c, 8, 1)          # a 1x1 projection: not on the main path
        self.body = nn.Conv2d(c, 8, 3, padding=1)


def test_receptive_field_of_stride_one_stacks():
    assert L.receptive_field([3]) == 3
    assert L.receptive_field([3, 3]) == 5
    assert L.receptive_field([3, 3, 3]) == 7 == L.receptive_field([7])
    assert L.receptive_field([]) == 1


def test_main_path_convs_skip_1x1():
    assert L.main_path_convs(_Net([3, 3])) == 3       # two stem convs and the body, not the shortcut
    assert L.main_path_convs(_Net([7])) == 2


def test_stem_weights_and_macs():
    net = _Net([3, 3], c=4)
    w = 4 * 3 * 3 * 3 + 4 * 4 * 3 * 3                 # 108 + 144 weights, batch norm not counted
    assert L.stem_weights(net) == w
    assert L.stem_macs(net) == w * 32 * 32
    assert L.stem_macs(net, side=16) == w * 16 * 16
    assert L.stem_weights(_Net([7], c=4)) == 4 * 3 * 7 * 7


def test_full_width_args_drop_only_the_width():
    cfg = {"model": "simp_res9", "model_args": {"width": 0.25, "first_block": [3, 3]}}
    assert L.full_width_args(cfg) == {"first_block": [3, 3]}
    assert L.full_width_args({"model": "resnet9"}) == {}
    assert L.full_width_args({"model": "x", "model_args": None}) == {}
