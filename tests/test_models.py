"""Tests for the model zoo (CPU, batch of 2, whole file well under a minute)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnreport.models import ACTIVATIONS, MODELS, count_params
from cnnreport.core.registry import UnknownNameError

torch.set_num_threads(2)

# Reference sizes given by the reports / spec at 10 classes and native input.
EXACT_PARAMS = {
    "basic_cnn": 1_147_466,
    "improved_cnn": 12_906_250,
    "residual_cnn": 2_816_074,
    "vgg_a": 9_750_922,
    "vgg_a_bn": 9_756_426,
    "resnet18": 11_173_962,
    "resnet9": 6_573_120,
}
APPROX_PARAMS = {"res9": 2.2e6, "simp_res9": 0.85e6}  # report 001, loose: +-15%

ALL_MODELS = MODELS.names()


def _n_params(name: str, **config) -> int:
    """Parameter count without allocating or initialising weights (meta device)."""
    with torch.device("meta"):
        return count_params(MODELS.build(name, **config))


def _batch(shape, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((batch, *shape), generator=g)


def _forward_backward(model: nn.Module, shape, num_classes: int) -> None:
    model.train()
    out = model(_batch(shape))
    assert out.shape == (2, num_classes)
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"parameters without a gradient: {missing}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_registry_has_every_model():
    expected = set(EXACT_PARAMS) | set(APPROX_PARAMS) | {
        "alexnet_fmnist", "vgg_fmnist", "lenet", "mlp"}
    assert expected <= set(ALL_MODELS)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_forward_backward_native(name):
    torch.manual_seed(0)
    model = MODELS.build(name)
    _forward_backward(model, MODELS.info(name).input_shape, MODELS.info(name).num_classes)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_other_channels_and_classes(name):
    c, h, w = MODELS.info(name).input_shape
    other = 1 if c != 1 else 3  # gray for the CIFAR nets, RGB for the MNIST ones
    model = MODELS.build(name, in_channels=other, num_classes=7).eval()
    with torch.no_grad():
        out = model(_batch((other, h, w)))
    assert out.shape == (2, 7) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["lenet", "basic_cnn"])
def test_gray_seven_classes_backward(name):
    c, h, w = MODELS.info(name).input_shape
    _forward_backward(MODELS.build(name, in_channels=1, num_classes=7), (1, h, w), 7)


@pytest.mark.parametrize("name,expected", sorted(EXACT_PARAMS.items()))
def test_exact_param_counts(name, expected):
    assert _n_params(name) == expected


@pytest.mark.parametrize("name,target", sorted(APPROX_PARAMS.items()))
def test_report001_sizes(name, target):
    n = _n_params(name)
    assert abs(n / target - 1) <= 0.15, f"{name}: {n:,} params vs ~{target:,.0f}"


def test_simp_res9_smaller_than_res9():
    assert _n_params("simp_res9") < 0.5 * _n_params("res9")


def test_fixed_small_models():
    assert count_params(MODELS.build("lenet")) == 44_374  # 156 + 2416 + 32896 + 8256 + 650
    assert count_params(MODELS.build("mlp")) == 784 * 1000 + 1000 + 1000 * 10 + 10
    assert count_params(MODELS.build("mlp", hidden=[500, 100])) == (
        784 * 500 + 500 + 500 * 100 + 100 + 100 * 10 + 10)
    assert count_params(MODELS.build("mlp", input_shape=(3, 32, 32), hidden=())) == 3072 * 10 + 10


def test_fmnist_nets_stay_small():
    for name in ("alexnet_fmnist", "vgg_fmnist"):
        assert _n_params(name) < 5_000_000


def test_count_params_trainable_only():
    model = MODELS.build("lenet")
    total = count_params(model)
    model.features[0].conv.weight.requires_grad_(False)
    assert count_params(model) == total - 150
    assert count_params(model, trainable_only=False) == total


@pytest.mark.parametrize("first_block", [[3], [7], [3, 3, 3], [3, 3], (5, 1)])
@pytest.mark.parametrize("name", ["res9", "simp_res9"])
def test_first_block_variants(name, first_block):
    model = MODELS.build(name, first_block=first_block, width=0.25)
    assert len(model.stem) == len(first_block)
    kernels = [layer.conv.kernel_size[0] for layer in model.stem]
    assert kernels == list(first_block)
    _forward_backward(model, (3, 32, 32), 10)


def test_first_block_full_width_runs():
    model = MODELS.build("simp_res9", first_block=[3, 3], activation="gelu")
    _forward_backward(model, (3, 32, 32), 10)


@pytest.mark.parametrize("bad", [[], [4], [3, 2], [0], [-3], [3.0], "3", 3, [True], None])
def test_bad_first_block_raises(bad):
    with pytest.raises(ValueError, match="first_block"):
        MODELS.build("simp_res9", first_block=bad)


def test_duplicate_registration_raises():
    before = MODELS.info("basic_cnn")

    def another_basic_cnn(num_classes=10, in_channels=1):
        """Not a real model."""
        return nn.Linear(1, num_classes)

    with pytest.raises(ValueError, match="duplicate"):
        MODELS.register("basic_cnn", input_shape=(1, 8, 8))(another_basic_cnn)
    with pytest.raises(ValueError, match="duplicate"):
        MODELS.register("BASIC_CNN")(another_basic_cnn)  # names are case-insensitive
    # The failed registrations left the original entry and its metadata alone.
    assert MODELS.info("basic_cnn") == before
    assert MODELS.get("basic_cnn") is not another_basic_cnn
    assert MODELS.names() == ALL_MODELS


def test_unknown_model_lists_allowed_names():
    with pytest.raises(UnknownNameError) as err:
        MODELS.build("resnet1000")
    message = str(err.value)
    assert "resnet1000" in message
    for name in ALL_MODELS:
        assert name in message
    with pytest.raises(KeyError):
        MODELS.info("resnet1000").input_shape


def test_unknown_config_key_is_reported():
    with pytest.raises(TypeError, match="first_block"):
        MODELS.build("basic_cnn", first_block=[3])


def test_unknown_activation_lists_allowed_names():
    with pytest.raises(UnknownNameError, match="leaky_relu"):
        MODELS.build("lenet", activation="swish2")


def test_names_are_case_insensitive():
    assert _n_params("ResNet9") == EXACT_PARAMS["resnet9"]
    assert isinstance(ACTIVATIONS.build("GELU"), nn.GELU)


def test_every_builder_has_a_summary():
    for name in MODELS.names():
        info = MODELS.info(name)
        assert info.summary, f"{name} has no docstring summary"
        assert info.summary == MODELS.get(name).__doc__.strip().splitlines()[0]
        assert info.family in ("convnet", "mnist", "resnet")


def test_input_shapes():
    assert MODELS.info("resnet18").input_shape == (3, 32, 32)
    for name in ("lenet", "mlp", "alexnet_fmnist", "vgg_fmnist"):
        assert MODELS.info(name).input_shape == (1, 28, 28)


ACTIVATION_TYPES = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU, "mish": nn.Mish,
    "elu": nn.ELU, "rrelu": nn.RReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "silu": nn.SiLU,
}


def test_activation_names():
    assert set(ACTIVATIONS.names()) == set(ACTIVATION_TYPES)


@pytest.mark.parametrize("act", sorted(ACTIVATION_TYPES))
def test_activation_builds_fresh_and_works_in_models(act):
    first, second = ACTIVATIONS.build(act), ACTIVATIONS.build(act)
    assert isinstance(first, ACTIVATION_TYPES[act]) and first is not second
    for name, kw in [("lenet", {}), ("simp_res9", {"width": 0.25})]:
        model = MODELS.build(name, activation=act, **kw)
        used = {type(m) for m in model.modules()}
        assert ACTIVATION_TYPES[act] in used
        # The default activation must be gone: the argument reaches every layer.
        default = nn.LeakyReLU if name == "lenet" else nn.ReLU
        if ACTIVATION_TYPES[act] is not default:
            assert default not in used
        _forward_backward(model, MODELS.info(name).input_shape, 10)


@pytest.mark.parametrize("name", ["vgg_a", "vgg_a_bn", "resnet18", "resnet9", "res9",
                                  "simp_res9", "residual_cnn", "basic_cnn", "lenet"])
def test_width_shrinks(name):
    full = _n_params(name)
    small_model = MODELS.build(name, width=0.25)
    small = count_params(small_model)
    # Conv weights scale with width**2: a quarter width leaves well under a quarter.
    assert small < full / 4
    _forward_backward(small_model, MODELS.info(name).input_shape, 10)


def test_width_rejects_non_positive():
    with pytest.raises(ValueError, match="width"):
        MODELS.build("vgg_a", width=0)


def test_improved_cnn_dropout_arg():
    model = MODELS.build("improved_cnn", dropout=0.3)
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert [d.p for d in drops] == [0.3]
    assert not any(isinstance(m, nn.Dropout) for m in MODELS.build("improved_cnn", dropout=0).modules())


@pytest.mark.parametrize("name", ["alexnet_fmnist", "vgg_fmnist"])
def test_fmnist_dropout_in_fc_layers(name):
    model = MODELS.build(name, dropout=0.7)
    drops = [m for m in model.classifier if isinstance(m, nn.Dropout)]
    assert len(drops) == 2 and all(d.p == 0.7 for d in drops)
    assert not any(isinstance(m, nn.Dropout) for m in model.features.modules())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert (len(convs), len(linears)) == ((5, 3) if name == "alexnet_fmnist" else (6, 3))


def test_vgg_a_bn_differs_only_by_batchnorm():
    plain, bn = MODELS.build("vgg_a"), MODELS.build("vgg_a_bn")
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in bn.modules())
    assert n_bn == 8 and not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert _n_params("vgg_a", batch_norm=True) == count_params(bn)


def test_resnet9_has_no_biases():
    model = MODELS.build("resnet9")
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            assert m.bias is None


def test_eval_mode_is_deterministic():
    model = MODELS.build("simp_res9", activation="rrelu", width=0.25).eval()
    x = _batch((3, 32, 32))
    with torch.no_grad():
        assert torch.equal(model(x), model(x))


@pytest.mark.parametrize("name", ["vgg_a", "vgg_a_bn"])
def test_vgg_init_defaults_to_pytorch_and_he_is_an_argument(name):
    """Without arguments VGG-A keeps PyTorch's layer initialisation (report 000's code);
    ``init="he"`` draws He-normal weights and zeroes the biases."""
    def first_conv(model):
        return next(m for m in model.modules() if isinstance(m, nn.Conv2d))

    torch.manual_seed(0)
    plain = MODELS.build(name, width=0.25)
    torch.manual_seed(0)
    explicit = MODELS.build(name, width=0.25, init="default")
    torch.manual_seed(0)
    reference = nn.Conv2d(3, 16, 3, padding=1)          # PyTorch's own default draw
    assert torch.equal(first_conv(plain).weight, first_conv(explicit).weight)
    assert torch.equal(first_conv(plain).weight, reference.weight)
    assert first_conv(plain).bias.abs().sum() > 0         # default biases are not zero

    torch.manual_seed(0)
    he = MODELS.build(name, width=0.25, init="he")
    conv = first_conv(he)
    fan_out = conv.out_channels * 9
    assert conv.bias.abs().sum() == 0
    assert abs(conv.weight.std().item() - (2 / fan_out) ** 0.5) < 0.2 * (2 / fan_out) ** 0.5
    with pytest.raises(ValueError, match="init must be one of"):
        MODELS.build(name, init="kaiming")
