"""The experiments of the losses, augmentation and hyperparameter chapters: labels and
groups as the pages expect, one key for a training two chapters share, tiers, and the
full profile's settings equal to the reports'."""
import pytest

from cnnreport.core.config import RunConfig
from cnnreport.experiments import TIER_CLAIM, TIER_EXTRA, TIER_SEEDS, group, runs_for
from cnnreport.experiments.recipes import READING, report001, report002
from cnnreport.experiments.params import resolve, validate
from cnnreport.build.sweep import expand, load_grid
from cnnreport.core.paths import repo_root

PROFILES = ("smoke", "quick", "full")
CHAPTERS = ("losses", "augmentation", "hyperparams")


def runs(chapter, profile):
    return runs_for(chapter, resolve(chapter, profile))


def key(run):
    return RunConfig.from_dict(run.run_config()).key()


def keys(chapter, profile, grp, seed=0):
    return {r.label: key(r) for r in runs(chapter, profile) if r.group == grp and r.seed == seed}


def cfg(chapter, profile, grp, label):
    return next(r.config for r in runs(chapter, profile) if r.group == grp and r.label == label)


@pytest.mark.parametrize("chapter", CHAPTERS)
@pytest.mark.parametrize("profile", PROFILES)
def test_every_config_is_valid(chapter, profile):
    rs = runs(chapter, profile)
    assert rs
    for r in rs:
        RunConfig.from_dict(r.run_config())
        assert r.chapter == chapter


@pytest.mark.parametrize("profile", PROFILES)
def test_groups_and_labels_the_pages_read(profile):
    loss = group(runs("losses", profile))
    assert {"cross-entropy", "SmoothL1", "BCEWithLogits"} <= set(loss)
    p = resolve("losses", profile)
    nets = {"alexnet_fmnist": "AlexNet", "vgg_fmnist": "VGG"}
    expected = {f"{nets[m]}, {o}, {l}" for o in ("Adam", "SGD") for m in p["fmnist_models"] for l in ("CE", "MSE")}
    assert set(group(runs("losses", profile), "002")) == expected
    aug = runs("augmentation", profile)
    assert {"crop + flip", "crop + flip + erasing", "no augmentation"} <= set(group(aug, "001"))
    assert set(group(aug, "best")) == {"best recipe", "best recipe, crop + flip only", "base recipe, same epochs"}
    pa = resolve("augmentation", profile)
    assert set(group(aug, "dropout")) == {f"p = {q:g}" for q in pa["dropouts"]}
    hp = runs("hyperparams", profile)
    ph = resolve("hyperparams", profile)
    assert set(group(hp, "this")) == {ph["label"]}
    assert all(lab.startswith("run ") for lab in group(hp, "table"))


def test_full_hyperparams_table_is_the_reports_33_runs():
    table = group(runs("hyperparams", "full"), "table")
    assert set(table) == {f"run {n}" for n in range(1, 34)}
    assert all(len(v) == 3 for v in table.values())


def test_hyperparams_without_grid_runs_only_its_own_run():
    p = resolve("hyperparams", "quick", {"grid": None})
    rs = runs_for("hyperparams", p)
    assert {r.group for r in rs} == {"this"}


def test_report002_runs_share_keys_across_chapters_at_full():
    hp = keys("hyperparams", "full", "table")
    loss = keys("losses", "full", "002")
    pairs = {"AlexNet, Adam, CE": 15, "VGG, Adam, CE": 28, "VGG, Adam, MSE": 29, "AlexNet, Adam, MSE": 30,
             "AlexNet, SGD, MSE": 31, "VGG, SGD, MSE": 32, "VGG, SGD, CE": 33, "AlexNet, SGD, CE": 2}
    for label, n in pairs.items():
        assert loss[label] == hp[f"run {n}"], label
    drop = keys("augmentation", "full", "dropout")
    for q, n in {0.4: 13, 0.5: 9, 0.6: 14, 0.7: 15, 0.8: 16}.items():
        assert drop[f"p = {q:g}"] == hp[f"run {n}"], q
    this = keys("hyperparams", "full", "this")
    assert this["run 15"] == hp["run 15"]


def test_report001_base_recipe_is_one_run_in_both_chapters():
    for profile in ("quick", "full"):
        ce = keys("losses", profile, "001")["cross-entropy"]
        cf = keys("augmentation", profile, "001")["crop + flip"]
        base = RunConfig.from_dict({**report001(resolve("losses", profile)), "seed": 0}).key()
        assert ce == base
        if profile == "full":  # the chapters' scale parameters agree at full
            assert cf == ce


def test_tiers():
    aug = runs("augmentation", "full")
    by = {(r.group, r.label, r.seed): r.tier for r in aug}
    assert by[("001", "crop + flip + erasing", 0)] == TIER_CLAIM
    assert by[("001", "crop + flip + erasing", 1)] == TIER_CLAIM   # its overfitting row reads every seed
    assert by[("001", "crop + flip", 1)] == TIER_SEEDS
    assert by[("best", "best recipe", 0)] == TIER_CLAIM
    for extra in (("001", "no augmentation"), ("001", "crop + flip, erasing's epochs"),
                  ("best", "best recipe, crop + flip only"), ("best", "base recipe, same epochs")):
        assert by[(*extra, 0)] == TIER_EXTRA
    assert all(r.tier == TIER_EXTRA for r in aug if r.group == "reg")
    every = {r.label for r in runs("hyperparams", "full") if r.every_seed}
    assert every == {"run 1", "run 2", "run 3", "run 4", "run 5", "run 6", "run 7", "run 9", "run 17", "run 18"}
    for chapter in ("losses", "hyperparams"):
        for r in runs(chapter, "full"):
            if r.group == "controls":  # our controls of run 2
                assert r.tier == TIER_EXTRA and r.seed == 0
            elif r.group == "002" or r.label in every:   # rows that read each seed's curve: all seeds
                assert r.tier == TIER_CLAIM and r.report == "002"
            else:
                assert r.tier == (TIER_CLAIM if r.seed == 0 else TIER_SEEDS)


def test_every_seed_claims_are_claims_of_the_table():
    from cnnreport.experiments.hyperparams import CLAIMS, EVERY_SEED, every_seed
    claims = {c for cs in CLAIMS.values() for c in cs}
    assert set(EVERY_SEED) <= claims and len(EVERY_SEED) == 5
    assert every_seed("run 4") and not every_seed("run 8") and not every_seed("no such run")


def test_a_run_two_chapters_share_takes_the_lower_tier_in_the_plan(tmp_path):
    # run 9 (Adam, dropout 0.5) is the augmentation chapter's "p = 0.5" too: its later seeds are
    # tier 2 there but tier 1 here (a curve row reads them), and the plan keeps the lower
    from cnnreport.compute import plan as P
    plan = P.build("full", ["augmentation", "hyperparams"], results=tmp_path)
    run9 = [e for e in plan.entries if any(u.label == "run 9" for u in e.uses)]
    assert len(run9) == 3 and {e.tier for e in run9} == {1}
    assert any(u.chapter == "augmentation" and u.tier == TIER_SEEDS for e in run9 for u in e.uses)


def test_full_profile_settings_are_the_reports():
    ce = cfg("losses", "full", "001", "cross-entropy")
    assert (ce["epochs"], ce["val_fraction"], ce["train_subset"], ce["optimizer"], ce["lr"], ce["momentum"],
            ce["weight_decay"], ce["augment"]) == (50, 0.0, None, "sgd", 1e-2, 0.9, 5e-4, ["crop", "flip"])
    er = cfg("augmentation", "full", "001", "crop + flip + erasing")
    assert er["epochs"] == 70 and er["augment"] == ["crop", "flip", "erasing"]
    best = cfg("augmentation", "full", "best", "best recipe")
    assert best["epochs"] == 150 and best["schedule"] == "cosine"
    assert best["augment"] == ["crop", "flip", "erasing"]
    assert best["model_args"]["first_block"] == [3, 3] and best["model_args"]["activation"] == "gelu"
    assert cfg("augmentation", "full", "best", "best recipe, crop + flip only")["augment"] == ["crop", "flip"]
    table = {r.label: r.config for r in runs("hyperparams", "full") if r.group == "table" and r.seed == 0}
    for c in table.values():
        assert c["dataset"] == "fashion_mnist" and c["val_fraction"] == 0.2
        assert c["train_subset"] is None and c["model_args"]["width"] == 1.0
        assert c["momentum"] == 0.0
    assert (table["run 1"]["schedule"], table["run 2"]["schedule"]) == ("none", "poly")
    assert table["run 3"]["optimizer"] == "adam" and table["run 3"]["lr"] == 0.01
    assert table["run 10"]["batch_size"] == 64 and table["run 12"]["batch_size"] == 192
    assert table["run 23"]["epochs"] == 40 and table["run 8"]["epochs"] == 15
    assert table["run 17"]["lr"] == 0.05 and table["run 7"]["lr"] == 8e-5
    assert table["run 16"]["model_args"]["dropout"] == 0.8
    assert (table["run 29"]["model"], table["run 29"]["loss"]) == ("vgg_fmnist", "mse")
    assert (table["run 31"]["optimizer"], table["run 31"]["loss"]) == ("sgd", "mse")
    assert all(c["batch_size"] == 128 for r in runs("losses", "full") if r.group == "002" for c in [r.config])


def test_report002_nets_start_from_he_init_and_the_usual_divergence_rule():
    scale = dict(width=1.0, train_subset=None, val_subset=None, test_subset=None)
    for run in (dict(scale), dict(scale, optimizer="adam", lr=1e-4), dict(scale, model="vgg_fmnist")):
        c = RunConfig.from_dict(report002(run))
        assert c.identity()["model_args"]["init"] == "he"
        assert c.divergence_patience == RunConfig().divergence_patience


def test_sweep_entries_satisfy_the_chapter_contract():
    for profile in PROFILES:
        spec = load_grid(repo_root() / f"params/sweeps/hyperparams_{profile}.yaml")
        for q in expand(spec, defaults=resolve("hyperparams", profile)):
            validate("hyperparams", q)
            assert q["profile"] == profile
            assert q["seeds"] == resolve("hyperparams", profile)["seeds"]


def test_report002_reads_the_last_epoch():
    assert READING["002"] == "final"


@pytest.mark.parametrize("name", ["alexnet_fmnist", "vgg_fmnist"])
def test_he_init_gives_input_dependent_logits(name):
    """With PyTorch's default init the plain stacks of report 002's nets start with nearly
    constant logits (plain SGD then sits at chance); He init keeps their spread."""
    import torch
    from cnnreport.models import MODELS
    torch.manual_seed(0)
    x = torch.randn(64, 1, 28, 28)
    spread = {}
    for init in ("default", "he"):
        torch.manual_seed(0)
        model = MODELS.build(name, init=init).eval()
        with torch.no_grad():
            spread[init] = model(x).std(dim=0).mean().item()
    assert spread["he"] > 20 * spread["default"]
