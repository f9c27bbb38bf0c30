"""The runs of the schedules, activations and NumPy chapters, and report 004's recipe."""
from pathlib import Path

import pytest

from cnnreport import experiments as E
from cnnreport.core.config import RunConfig
from cnnreport.experiments import recipes
from cnnreport.experiments.params import resolve

ROOT = Path(__file__).resolve().parents[1]


def runs(chapter, profile="full"):
    return E.runs_for(chapter, resolve(ROOT / "book" / f"{chapter}.md", profile))


def key(run):
    return RunConfig.from_dict(run.run_config()).key()


def first(chapter, group, label, profile="full"):
    return E.group(runs(chapter, profile), group)[label][0]


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_groups_and_labels_are_what_the_pages_read(profile):
    s = runs("schedules", profile)
    assert list(E.group(s, "001")) == ["CyclicLR", "OneCycleLR", "CosineAnnealingLR"]
    assert list(E.group(s, "003")) == ["cosine with warmup", "constant (the report's 'without')",
                                       "cosine, no warmup"]
    assert list(E.group(s, "004")) == ["constant", "StepLR (2, 0.1)", "MultiStepLR ([3, 4], 0.1)",
                                       "ExponentialLR (0.5)", "polynomial (power 1)"]
    a = runs("activations", profile)
    assert list(E.group(a, "001")) == ["ReLU", "Mish", "ELU", "RReLU", "GELU", "Sigmoid"]
    assert list(E.group(a, "004")) == ["Sigmoid", "Tanh", "ReLU", "LeakyReLU"]
    assert list(E.group(runs("scratch", profile), "twins")) == ["MLP", "CNN"]
    for r in s + a:  # every config is valid at every profile
        RunConfig.from_dict(r.run_config())


def test_shared_trainings_have_one_key_across_chapters():
    # report 001's base recipe: activations' ReLU = architectures' simp_Res9 = report001(p)
    p = resolve(ROOT / "book" / "activations.md", "full")
    relu = first("activations", "001", "ReLU")
    assert key(relu) == key(first("architectures", "001", "simp_Res9"))
    assert key(relu) == RunConfig.from_dict({**recipes.report001(p), "seed": 0}).key()
    # report 003's ResNet-9 with warmup = the architectures chapter's ResNet-9
    assert key(first("schedules", "003", "cosine with warmup")) == key(first("architectures", "003", "ResNet-9"))
    # report 004's final MLP: schedules' StepLR (2, 0.1) run = the NumPy chapter's torch MLP
    assert key(first("schedules", "004", "StepLR (2, 0.1)")) == key(first("scratch", "twins", "MLP"))


def test_schedules_vary_only_the_schedule():
    base = dict(first("schedules", "001", "CosineAnnealingLR").config)
    for label in ("CyclicLR", "OneCycleLR"):
        other = dict(first("schedules", "001", label).config)
        assert {k for k in base if base[k] != other.get(k)} == {"schedule"}


def test_tiers_separate_report_runs_from_our_controls():
    tiers = {(r.group, r.label): r.tier for r in runs("schedules") if r.replica == 0}
    assert tiers[("001", "CyclicLR")] == tiers[("003", "cosine with warmup")] == 1
    assert tiers[("004", "StepLR (2, 0.1)")] == tiers[("004", "constant")] == 1
    assert tiers[("003", "cosine, no warmup")] == tiers[("004", "polynomial (power 1)")] == 3
    # the rows on how each seed's curve falls, swings or oscillates (reports 001, 003) need every
    # seed of their runs; report 004's later seeds feed a twin row only
    later = {(r.group, r.tier) for r in runs("schedules") if r.replica > 0 and not r.extra}
    assert later == {("001", 1), ("004", 2), ("003", 1)}
    assert {r.tier for r in runs("activations") if r.group == "004"} == {3}  # judged in the NumPy chapter
    assert {r.tier for r in runs("activations") if r.group == "001" and r.replica == 0} == {1}
    assert {r.tier for r in runs("scratch")} == {3}


def test_full_profile_uses_the_reports_settings():
    for r in E.group(runs("schedules"), "001").values():
        c = r[0].config
        assert (c["epochs"], c["val_fraction"], c["train_subset"], c["batch_size"], c["lr"],
                c["momentum"], c["weight_decay"]) == (50, 0.0, None, 128, 1e-2, 0.9, 5e-4)
        assert len(r) == 3
    for r in E.group(runs("schedules"), "003").values():
        c = r[0].config
        assert (c["epochs"], c["val_fraction"], c["optimizer"], c["lr"], c["normalization"]) == \
            (20, 0.2, "adam", 1e-3, "half")
    step = first("schedules", "004", "StepLR (2, 0.1)").config
    assert (step["epochs"], step["batch_size"], step["lr"], step["momentum"], step["weight_decay"],
            step["val_fraction"], step["train_subset"], step["schedule_args"]) == \
        (5, 32, 0.1, 0.9, 1e-3, 1 / 6, None, {"step_size": 2, "gamma": 0.1})
    act = first("activations", "004", "Sigmoid").config
    assert (act["epochs"], act["lr"], act["weight_decay"], act["schedule"], act["model_args"]) == \
        (20, 0.01, 1e-4, "none", {"hidden": [1000], "activation": "sigmoid"})
    assert first("activations", "001", "GELU").config["epochs"] == 50
    for r in E.group(runs("scratch"), "twins").values():
        assert r[0].config["epochs"] == 5 and r[0].config["train_subset"] is None


def test_the_stored_torch_runs_of_the_numpy_chapter_keep_their_keys():
    stored = ROOT / "results" / "full"
    for r in runs("scratch"):
        assert (stored / f"{key(r)}.json").is_file(), r


def test_report004_replaces_schedule_and_model_args_where_they_no_longer_apply():
    p = dict(mnist_subset=None, val_subset=None, test_subset=None, epochs_004=5)
    assert recipes.report004(p)["schedule_args"] == {"step_size": 2, "gamma": 0.1}
    flat = recipes.report004(p, schedule="none")
    assert flat["schedule"] == "none" and flat["schedule_args"] == {}
    cnn = recipes.report004(p, model="lenet", lr=0.01)
    assert cnn["model_args"] == {} and cnn["lr"] == 0.01
    RunConfig.from_dict(cnn)
    assert recipes.report004(p, model_args={"activation": "relu"})["model_args"] == \
        {"hidden": [1000], "activation": "relu"}
