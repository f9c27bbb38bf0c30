"""The architectures and kernels chapters' runs: labels, groups, shared keys, tiers and the
full profile's settings against the reports'."""
import pytest

from cnnreport import experiments as E
from cnnreport.experiments import params as P
from cnnreport.core.config import RunConfig
from cnnreport.experiments import recipes


def _runs(chapter, profile):
    return E.runs_for(chapter, P.resolve(chapter, profile))


def _key(cfg, seed=0):
    return RunConfig.from_dict({**cfg, "seed": seed}).key()


@pytest.mark.parametrize("chapter", ["architectures", "kernels"])
@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_profiles_keep_the_parameter_contract(chapter, profile):
    values = P.resolve(chapter, profile)
    assert P.check(chapter, values) == []
    assert values["profile"] == profile


def test_architecture_groups_and_labels_are_what_the_chapter_reads():
    runs = _runs("architectures", "quick")
    assert list(E.group(runs, "000")) == ["BasicCNN", "ImprovedCNN", "ResidualCNN"]
    assert list(E.group(runs, "001")) == ["ResNet-18", "Res9", "simp_Res9"]
    assert list(E.group(runs, "003")) == ["ResNet-9", "3-layer CNN (003 recipe)"]
    assert {r.report for r in runs} == {"000", "001", "003"}


def test_kernel_labels_follow_the_reports_table():
    runs = _runs("kernels", "quick")
    g = E.group(runs, "001")
    assert list(g) == ["[3x3]", "[7x7]", "[3x3, 3x3, 3x3]", "[3x3, 3x3]"]
    assert [g[k][0].config["model_args"]["first_block"] for k in g] == [[3], [7], [3, 3, 3], [3, 3]]


def test_the_base_recipe_has_one_key_in_both_chapters_at_full():
    p_arch, p_kern = P.resolve("architectures", "full"), P.resolve("kernels", "full")
    arch = E.group(E.runs_for("architectures", p_arch), "001")
    kern = E.group(E.runs_for("kernels", p_kern), "001")
    base = _key(recipes.report001(p_arch))
    assert base == _key(recipes.report001(p_kern))
    assert _key(arch["simp_Res9"][0].config) == base
    assert _key(kern["[3x3]"][0].config) == base
    assert _key(kern["[7x7]"][0].config) != base
    # every seed of the base run is the same training in both chapters
    assert ([r.run_config()["seed"] for r in arch["simp_Res9"]]
            == [r.run_config()["seed"] for r in kern["[3x3]"]])
    assert ({RunConfig.from_dict(r.run_config()).key() for r in arch["simp_Res9"]}
            == {RunConfig.from_dict(r.run_config()).key() for r in kern["[3x3]"]})


def test_seed_zero_serves_the_claims_and_the_other_seeds_the_noise():
    for chapter in ("architectures", "kernels"):
        runs = _runs(chapter, "full")
        assert {r.seed for r in runs} == {0, 1, 2}
        assert {r.tier for r in runs if r.seed == 0} == {E.TIER_CLAIM}
        # rows on each seed's curves, times and confusions read every seed of the claimed runs;
        # only report 003's plain CNN, which no such row reads, keeps its later seeds in tier 2
        later = {(r.label, r.tier) for r in runs if r.seed != 0}
        assert later == {(r.label, E.TIER_SEEDS if r.label == "3-layer CNN (003 recipe)" else E.TIER_CLAIM)
                         for r in runs if r.seed != 0}
        assert all(r.every_seed == (r.label != "3-layer CNN (003 recipe)") for r in runs)


def test_full_profile_runs_the_reports_settings():
    g = {k: v[0].config for grp in ("000", "001", "003")
         for k, v in E.group(_runs("architectures", "full"), grp).items()}
    for k in ("BasicCNN", "ImprovedCNN", "ResidualCNN"):  # report 000 and its linked code
        c = g[k]
        assert (c["epochs"], c["early_stopping"], c["batch_size"]) == (50, 6, 128)
        assert (c["optimizer"], c["lr"], c["weight_decay"]) == ("adamw", 1e-3, 5e-4)
        assert c["val_fraction"] == 0.2 and c["augment"] == ["crop", "flip"]
        assert c["train_subset"] is None and c["test_subset"] is None
    assert g["ImprovedCNN"]["loss"] == "label_smoothing"
    for k in ("ResNet-18", "Res9", "simp_Res9"):  # report 001: all 50,000 images, the last epoch
        c = g[k]
        assert (c["epochs"], c["optimizer"], c["lr"], c["momentum"], c["weight_decay"]) == (50, "sgd", 1e-2, 0.9, 5e-4)
        assert c["val_fraction"] == 0.0 and c.get("early_stopping") is None
        assert c["model_args"]["width"] == 1.0 and c["train_subset"] is None
    for k in ("ResNet-9", "3-layer CNN (003 recipe)"):  # report 003
        c = g[k]
        assert (c["epochs"], c["val_fraction"], c["normalization"]) == (20, 0.2, "half")
        assert not c.get("augment")
    for r in _runs("kernels", "full"):
        c = r.config
        assert (c["epochs"], c["val_fraction"], c["batch_size"], c["model"]) == (50, 0.0, 128, "simp_res9")


def test_reports_are_read_their_own_way():
    assert recipes.READING["000"] == "selected"
    assert recipes.READING["001"] == recipes.READING["003"] == "final"
