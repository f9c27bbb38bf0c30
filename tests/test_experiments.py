"""The experiments registry: runs as data, tiers, shared recipes."""
import pytest

from cnnreport import experiments as E
from cnnreport.core.config import RunConfig
from cnnreport.experiments import recipes


def test_seeded_runs_have_tiers_by_seed_and_kind():
    runs = E.seeded("ch", "g", {"a": {"model": "mlp"}}, [3, 5, 7], report="002")
    assert [(r.seed, r.replica, r.tier) for r in runs] == [(3, 0, 1), (5, 1, 2), (7, 2, 2)]
    extra = E.seeded("ch", "g", {"b": {}}, [0, 1], report="002", extra=True)
    assert {r.tier for r in extra} == {3}
    assert E.seeded("ch", "g", {"c": {}}, [0])[0].tier == 3  # no report: our own
    # a run whose row reads every seed on its own needs them all for a verdict
    every = E.seeded("ch", "g", {"d": {}}, [0, 1, 2], report="002", every_seed=True)
    assert [r.tier for r in every] == [1, 1, 1] and all(r.every_seed for r in every)
    assert {r.tier for r in E.seeded("ch", "g", {"e": {}}, [0, 1], report="002", extra=True, every_seed=True)} == {3}


def test_group_keeps_labels_in_order():
    runs = (E.seeded("ch", "x", {"a": {}, "b": {}}, [0, 1]) + E.seeded("ch", "y", {"c": {}}, [0]))
    assert list(E.group(runs, "x")) == ["a", "b"] and len(E.group(runs, "x")["a"]) == 2
    assert list(E.group(runs)) == ["a", "b", "c"]


def test_run_config_names_chapter_and_label_and_sets_seed():
    r = E.seeded("losses", "001", {"MSE": {"model": "mlp"}}, [4])[0]
    assert r.run_config() == {"model": "mlp", "seed": 4, "name": "losses: MSE",
                              "chapter": "losses", "label": "MSE"}


def test_builder_defaults_do_not_split_keys():
    p = dict(train_subset=None, val_subset=None, test_subset=None, batch_size=128, width=1.0,
             epochs_001=50)
    a = RunConfig.from_dict(recipes.report001(p))
    b = RunConfig.from_dict(recipes.report001(p, model_args={"first_block": [3], "activation": "relu"}))
    c = RunConfig.from_dict(recipes.report001(p, model_args={"first_block": [3, 3]}))
    assert a.key() == b.key() != c.key()


def test_merge_merges_args_dicts_and_copies():
    base = {"model_args": {"width": 1.0}, "augment": ["crop"]}
    out = recipes.merge(base, {"model_args": {"activation": "gelu"}, "epochs": 3})
    assert out == {"model_args": {"width": 1.0, "activation": "gelu"}, "augment": ["crop"], "epochs": 3}
    out["augment"].append("flip")
    assert base["augment"] == ["crop"]


def test_every_report_has_a_reading():
    assert set(recipes.READING) == {"000", "001", "002", "003", "004"}
    assert set(recipes.READING.values()) <= {"final", "selected"}


def test_a_run_of_another_chapter_is_refused():
    @E.EXPERIMENTS.register("wrongch")
    def wrong(p):
        return E.seeded("other", "g", {"a": {}}, [0])
    try:
        with pytest.raises(ValueError, match="returned a run of chapter 'other'"):
            E.runs_for("wrongch", {})
    finally:
        E.EXPERIMENTS.unregister("wrongch")
