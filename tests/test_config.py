import math
from pathlib import Path

import pytest
import torch

from cnnreport.core.components import LOSSES, SCHEDULES, lr_curve, warmup_cosine_factor
from cnnreport.core.config import EXECUTION_FIELDS, ConfigError, RunConfig, provenance

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_validate_and_hash_stably():
    a = RunConfig.from_dict({"model": "lenet", "dataset": "mnist", "lr": 0.1})
    b = RunConfig.from_dict({"lr": 0.1, "dataset": "mnist", "model": "lenet", "epochs": 10})
    assert a.key() == b.key() and len(a.key()) == 16
    assert a.key() != a.replace(lr=0.2).key()
    # Execution details do not change what is computed, so not the key either.
    assert a.key() == a.replace(device="cpu", precision="fp32", compile=True, name="x").key()
    assert RunConfig.from_dict({"lr": 1}).lr == 1.0  # int accepted for float


@pytest.mark.parametrize("d, words", [
    ({"lrr": 0.1}, ["'lrr'", "allowed keys", "lr"]),
    ({"lr": -0.1}, ["'lr'", "-0.1", "> 0"]),
    ({"lr": 0}, ["'lr'", "> 0"]),
    ({"epochs": "ten"}, ["'epochs'", "'ten'", "int"]),
    ({"batch_size": 1.5}, ["'batch_size'", "1.5"]),
    ({"model": "resnet1000"}, ["'model'", "resnet1000", "basic_cnn"]),
    ({"optimizer": "adagrad"}, ["'optimizer'", "adagrad", "adamw"]),
    ({"schedule": "linear"}, ["'schedule'", "linear", "onecycle"]),
    ({"loss": "hinge"}, ["'loss'", "hinge", "cross_entropy"]),
    ({"model_args": {"activation": "swish"}}, ["activation", "swish", "gelu"]),
    ({"augment": ["crop", "jitter"]}, ["augment[1]", "jitter", "erasing"]),
    ({"augment": [{"name": "crop", "padding": -2}]}, ["augment[0]", "padding"]),
    ({"schedule": "step", "schedule_args": {"stepsize": 3}}, ["schedule_args.stepsize", "step_size"]),
    ({"model": "basic_cnn", "model_args": {"depth": 3}}, ["model_args.depth", "allowed"]),
    ({"optimizer": "adam", "momentum": 0.9}, ["momentum", "sgd"]),
    ({"val_fraction": 1.0}, ["val_fraction", "[0, 1)"]),
    ({"device": "tpu"}, ["'device'", "tpu"]),
])
def test_bad_configs_name_key_value_and_allowed(d, words):
    with pytest.raises(ConfigError) as e:
        RunConfig.from_dict(d)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


# -- schedules against their definitions ---------------------------------------------
E, S, LR = 6, 5, 0.1


def curve(name, **kw):
    c = lr_curve(name, LR, E, S, **kw)
    assert len(c) == E * S
    return c


def per_epoch(f):
    return [f(s // S) for s in range(E * S)]


@pytest.mark.parametrize("name, kw, expected", [
    ("none", {}, per_epoch(lambda e: LR)),
    ("step", {"step_size": 2, "gamma": 0.5}, per_epoch(lambda e: LR * 0.5 ** (e // 2))),
    ("multistep", {"milestones": [1, 4], "gamma": 0.1}, per_epoch(lambda e: LR * 0.1 ** ((e >= 1) + (e >= 4)))),
    ("exponential", {"gamma": 0.9}, per_epoch(lambda e: LR * 0.9 ** e)),
    ("cosine", {}, per_epoch(lambda e: LR * 0.5 * (1 + math.cos(math.pi * e / E)))),
    ("poly", {"power": 2.0}, per_epoch(lambda e: LR * (1 - e / E) ** 2)),
    ("warmup_cosine", {"warmup_epochs": 1},
     [LR * warmup_cosine_factor(s, S, E * S) for s in range(E * S)]),
])
def test_schedule_matches_definition(name, kw, expected):
    assert curve(name, **kw) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_warmup_factor_is_report_003s():
    assert warmup_cosine_factor(0, 10, 100) == pytest.approx(0.01)
    assert warmup_cosine_factor(5, 10, 100) == pytest.approx(0.51)
    assert warmup_cosine_factor(10, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine_factor(55, 10, 100) == pytest.approx(0.5)
    assert warmup_cosine_factor(100, 10, 100) == pytest.approx(0.0)


def test_cyclic_and_onecycle_shapes():
    c = curve("cyclic", base_fraction=0.1, cycles=2)
    assert min(c) == pytest.approx(LR * 0.1) and max(c) == pytest.approx(LR, rel=0.1)
    half = E * S // 4
    assert c[half] == pytest.approx(LR) and c[2 * half] == pytest.approx(LR * 0.1)
    o = curve("onecycle", pct_start=0.3)
    peak = o.index(max(o))
    assert max(o) == pytest.approx(LR) and abs(peak - 0.3 * E * S) <= 1
    assert o[0] == pytest.approx(LR / 25) and o[-1] < LR / 1000


def test_every_schedule_is_tested():
    assert set(SCHEDULES.names()) == {"none", "step", "multistep", "exponential", "cosine",
                                      "cyclic", "onecycle", "poly", "warmup_cosine"}


# -- losses against hand computations --------------------------------------------------
Z = torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], dtype=torch.float64)
Y = torch.tensor([0, 1])


def _hand(name):
    p = torch.softmax(Z, 1)
    e = torch.eye(3, dtype=torch.float64)[Y]
    if name == "cross_entropy":
        return -(torch.log(p[0, 0]) + torch.log(p[1, 1])) / 2
    if name == "label_smoothing":
        t = 0.9 * e + 0.1 / 3
        return -(t * torch.log(p)).sum(1).mean()
    if name == "mse":
        return ((p - e) ** 2).mean()
    if name == "smooth_l1":
        d = (Z - e).abs()
        return torch.where(d < 1, 0.5 * d ** 2, d - 0.5).mean()
    if name == "bce_with_logits":
        s = torch.sigmoid(Z)
        return -(e * torch.log(s) + (1 - e) * torch.log(1 - s)).mean()


@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_matches_hand_computation(name):
    assert float(LOSSES.build(name)(Z, Y)) == pytest.approx(float(_hand(name)), rel=1e-12)


def test_early_stopping_needs_a_validation_split():
    with pytest.raises(ConfigError, match="needs a validation split"):
        RunConfig.from_dict({"early_stopping": 3, "val_fraction": 0.0})


def test_config_error_names_its_key_and_value():
    with pytest.raises(ConfigError) as e:
        RunConfig.from_dict({"epochs": "abc"})
    assert e.value.key == "epochs" and e.value.value == "abc"


def test_committed_results_are_stored_under_their_configs_key():
    """Every committed full-profile result loads and sits under the key of its config, so a
    changed config can never be mistaken for an old result."""
    import json
    from pathlib import Path
    root = Path(__file__).resolve().parents[1] / "results" / "full"
    files = sorted(root.glob("*.json"))
    assert files, "no committed full-profile results"
    for p in files:
        d = json.loads(p.read_text())
        assert RunConfig.from_dict(d["config"]).key() == p.stem == d["key"], p.name


def test_execution_and_provenance_fields_leave_the_key_alone():
    base = RunConfig.from_dict({"epochs": 2})
    changed = base.replace(device="cpu", precision="fp32", eval_batch_size=64, checkpoint_every=0,
                           name="losses: MSE", chapter="losses", label="MSE")
    assert changed.key() == base.key()
    assert {"chapter", "label", "name"} <= set(EXECUTION_FIELDS)
    assert not set(EXECUTION_FIELDS) & set(base.identity())


def test_provenance_reads_the_fields_then_the_old_name():
    assert provenance({"chapter": "losses", "label": "MSE", "name": "anything"}) == ("losses", "MSE")
    assert provenance(RunConfig.from_dict({"chapter": "kernels", "label": "3x3"})) == ("kernels", "3x3")
    # Results stored before the fields existed carry them in the name only.
    assert provenance({"name": "batchnorm: VGG-A with BN"}) == ("batchnorm", "VGG-A with BN")
    assert provenance({"name": "resnet9-tt94"}) == ("", "resnet9-tt94")
    assert provenance({"name": "lr 0.1: a free label"}) == ("", "lr 0.1: a free label")
    assert provenance({}) == ("", "")


def test_the_split_field_enters_the_key_only_when_set():
    base = RunConfig()
    assert "split" not in base.identity() and base.key() == base.replace(split="stratified").key()
    rnd = base.replace(split="random")
    assert rnd.identity()["split"] == "random" and rnd.key() != base.key()
    with pytest.raises(ConfigError, match="config key 'split'"):
        base.replace(split="by_class")


def test_values_that_pass_the_type_but_cannot_be_honoured_name_the_limit():
    from cnnreport.core.config import ConfigError, RunConfig
    base = dict(dataset="mnist", model="lenet", epochs=1, val_fraction=0.2)
    assert RunConfig.from_dict(base).limit_problems() == []
    big = RunConfig.from_dict(dict(base, train_subset=48_001))
    assert "more than the 48000 training images of mnist" in big.limit_problems()[0]
    assert "more than the 10000 test images" in RunConfig.from_dict(dict(base, test_subset=10_001)).limit_problems()[0]
    assert "larger than the training set (100 images)" in \
        RunConfig.from_dict(dict(base, train_subset=100, batch_size=128)).limit_problems()[0]
    thin = RunConfig.from_dict(dict(dataset="cifar10", model="basic_cnn", epochs=1, model_args={"width": 0.001}))
    with pytest.raises(ConfigError, match="rounds a layer of .* channels to zero; this model needs width >="):
        thin.check_limits()
    assert RunConfig.from_dict(dict(dataset="cifar10", model="basic_cnn", epochs=1,
                                    model_args={"width": 0.25})).limit_problems() == []


def test_a_chapter_parameter_beyond_a_limit_fails_before_the_kernel(tmp_path):
    from cnnreport.experiments.params import ParameterError
    from cnnreport.build.run import check_parameters
    with pytest.raises(ParameterError, match="train_subset.*use at most .*from chapter parameter train_subset"):
        check_parameters(ROOT / "book" / "kernels.md", {"train_subset": 10**6}, str(ROOT / "params/smoke/kernels.yaml"))
