"""The registries: one verb family (register, get, build, names, info, unregister) for all."""
import inspect

import pytest

from cnnreport import experiments as E
from cnnreport.core.augment import AUGMENTATIONS, RandomCrop
from cnnreport.core.components import LOSSES, OPTIMIZERS, SCHEDULES
from cnnreport.models import ACTIVATIONS, MODELS
from cnnreport.core.registry import Entry, Registry, UnknownNameError

for _chapter in E.MODULES:  # the experiment modules register on import
    E._load(_chapter)

REGISTRIES = {"model": MODELS, "activation": ACTIVATIONS, "optimizer": OPTIMIZERS,
              "schedule": SCHEDULES, "loss": LOSSES, "augmentation": AUGMENTATIONS,
              "experiment": E.EXPERIMENTS}

# Names that run configs and chapters use: renaming one would change keys and break configs.
CONFIG_NAMES = {
    "model": ["basic_cnn", "improved_cnn", "vgg_a", "vgg_a_bn", "residual_cnn", "resnet18", "res9",
              "simp_res9", "resnet9", "alexnet_fmnist", "vgg_fmnist", "lenet", "mlp"],
    "activation": ["relu", "leaky_relu", "gelu", "mish", "elu", "rrelu", "sigmoid", "tanh", "silu"],
    "optimizer": ["sgd", "adam", "adamw"],
    "schedule": ["none", "step", "multistep", "exponential", "cosine", "cyclic", "onecycle", "poly",
                 "warmup_cosine"],
    "loss": ["cross_entropy", "label_smoothing", "mse", "smooth_l1", "bce_with_logits"],
    "augmentation": ["none", "crop", "flip", "erasing", "rotate", "translate"],
    "experiment": list(E.MODULES),
}

ALL = pytest.mark.parametrize("kind", sorted(REGISTRIES))


@ALL
def test_every_registry_has_the_names_configs_use(kind):
    reg = REGISTRIES[kind]
    assert reg.kind == kind
    assert sorted(CONFIG_NAMES[kind]) == reg.names()


@ALL
def test_the_verb_family(kind):
    reg = REGISTRIES[kind]
    for name in reg.names():
        fn = reg.get(name)
        info = reg.info(name)
        assert isinstance(info, Entry) and info.name == name and info.fn is fn
        assert info.summary, f"{kind} {name!r} has no docstring summary"
        assert info.builder.startswith("cnnreport.")
        assert name in reg and name.upper() in reg  # case-insensitive
        assert reg.get(name.upper()) is fn
    assert list(reg) == reg.names() and len(reg) == len(reg.names())


# Classes keep their CapWords names; the registered name is what a config says.
CLASS_NAMES = {"crop": "RandomCrop", "erasing": "RandomErasing", "flip": "RandomHorizontalFlip",
               "none": "Identity", "rotate": "RandomRotation", "translate": "RandomTranslate"}


@ALL
def test_a_registered_name_is_its_function_name(kind):
    """A function is registered under its own name (activation factories are named after
    their activation); a class under the name its table above gives."""
    reg = REGISTRIES[kind]
    for name in reg.names():
        fn = reg.get(name)
        expected = CLASS_NAMES.get(name) if inspect.isclass(fn) else name
        assert fn.__name__ == expected, f"{kind} {name!r} is registered as {fn.__name__}"


@ALL
def test_unknown_names_list_the_allowed_ones(kind):
    reg = REGISTRIES[kind]
    for verb in (reg.get, reg.info, reg.build, reg.unregister):
        with pytest.raises(UnknownNameError) as err:
            verb("no_such_thing")
        assert "no_such_thing" in str(err.value)
        assert all(n in str(err.value) for n in reg.names())
    with pytest.raises(KeyError):  # both KeyError and ValueError
        reg.get(3)


def test_build_checks_arguments_and_passes_them_on():
    with pytest.raises(TypeError, match=r"bad arguments for model 'basic_cnn'.*first_block.*accepted: "
                                        r"num_classes, in_channels"):
        MODELS.build("basic_cnn", first_block=[3])
    with pytest.raises(TypeError, match="bad arguments for loss 'mse'.*accepted: \\(none\\)"):
        LOSSES.build("mse", beta=1.0)
    import torch
    net = MODELS.build("mlp", 7, 1, hidden=())  # positional num_classes, in_channels
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 7)
    assert isinstance(AUGMENTATIONS.build("crop", padding=2), RandomCrop)
    assert AUGMENTATIONS.build("crop", padding=2).padding == 2


def test_optimizer_schedule_and_loss_build_with_the_trainer_arguments():
    import torch
    model = MODELS.build("mlp", num_classes=4, in_channels=3, hidden=[8], input_shape=(3, 8, 8))
    opt = OPTIMIZERS.build("sgd", model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                           weight_decay=5e-4)
    sched = SCHEDULES.build("onecycle", opt, 0.1, 2, 5)
    assert sched.interval == "step"
    assert SCHEDULES.build("none", opt, 0.1, 2, 5).interval == "epoch"
    loss = LOSSES.build("label_smoothing")(torch.zeros(2, 4), torch.tensor([0, 1]))
    assert float(loss) == pytest.approx(float(torch.log(torch.tensor(4.0))))


def test_metadata_on_the_entry():
    lenet = MODELS.info("lenet")
    assert lenet.input_shape == (1, 28, 28) and lenet.num_classes == 10 and lenet.family == "mnist"
    assert MODELS.info("resnet9").family == "resnet"
    assert {MODELS.info(n).family for n in MODELS.names()} == {"convnet", "mnist", "resnet"}
    import torch.nn as nn
    assert ACTIVATIONS.info("gelu").torch_class is nn.GELU
    with pytest.raises(AttributeError, match="no metadata 'colour'.*family"):
        MODELS.info("lenet").colour
    assert SCHEDULES.info("none").metadata == {}


def test_register_metadata_is_checked():
    reg = Registry("thing", defaults={"size": 1})

    @reg.register("a", size=3)
    def a():
        """An a."""

    @reg.register()
    def b():
        """A b."""

    assert reg.info("a").size == 3 and reg.info("b").size == 1
    with pytest.raises(ValueError, match="unknown thing metadata colour; allowed: size"):
        reg.register("c", colour="red")
    with pytest.raises(ValueError, match="input_shape must be"):
        MODELS.register("flat_net", input_shape=(784,))
    assert "c" not in reg and "flat_net" not in MODELS


def test_duplicate_registration_is_refused_and_leaves_the_entry():
    reg = Registry("thing")
    reg.register("a", lambda: 1)
    before = reg.info("a")
    with pytest.raises(ValueError, match="duplicate thing name 'a'"):
        reg.register("A", lambda: 2)  # names are case-insensitive
    assert reg.info("a") == before and reg.build("a") == 1


def test_unregister_takes_the_entry_out():
    def tmpch(p):
        """A throwaway chapter."""
        return []

    E.EXPERIMENTS.register("tmpch", tmpch)
    assert "tmpch" in E.EXPERIMENTS and E.EXPERIMENTS.build("tmpch", {}) == []
    assert E.EXPERIMENTS.unregister("tmpch") is tmpch
    assert "tmpch" not in E.EXPERIMENTS
    E.EXPERIMENTS.register("tmpch", tmpch)  # the name is free again
    E.EXPERIMENTS.unregister("TMPCH")
    assert "tmpch" not in E.EXPERIMENTS.names()
