"""The BatchNorm chapter's runs: report 000's linked code at full, probes as data, pending probes."""
import json

import pytest

from cnnreport import experiments as E
from cnnreport.pages.audit import PENDING, Audit
from cnnreport.core.config import RunConfig
from cnnreport.core.landscape import cache_path, probes_or_pending
from cnnreport.experiments.params import resolve


@pytest.fixture(scope="module")
def full():
    return resolve("batchnorm", "full")


def test_full_band_runs_follow_report_000s_linked_code(full):
    band = E.group(E.runs_for("batchnorm", full), "band")
    assert len(band) == 8 and all(len(rs) == len(full["seeds"]) for rs in band.values())
    for label, rs in band.items():
        cfg = RunConfig.from_dict(rs[0].run_config())
        assert (cfg.optimizer, cfg.weight_decay, cfg.batch_size, cfg.epochs, cfg.early_stopping) == \
               ("adam", 0.0, 128, 200, 10), label
        assert cfg.augment == ["crop", "flip"] and cfg.normalization == "dataset"
        assert cfg.val_fraction > 0 and cfg.model in ("vgg_a", "vgg_a_bn")
        assert cfg.divergence_patience == 0     # stuck runs end by early stopping, as in the code
        # PyTorch's default initialisation: the same key as a config naming it explicitly.
        explicit = {**rs[0].run_config(), "model_args": {"width": 1.0, "init": "default"}}
        he = {**rs[0].run_config(), "model_args": {"width": 1.0, "init": "he"}}
        assert cfg.key() == RunConfig.from_dict(explicit).key() != RunConfig.from_dict(he).key()
        # the band rows read each seed's own loss curve: every seed is needed for a verdict
        assert [r.tier for r in rs] == [1, 1, 1] and all(r.report == "000" and r.every_seed for r in rs)
    assert {c.config["lr"] for rs in band.values() for c in rs} == {1e-3, 2e-3, 1e-4, 5e-4}
    assert f"VGG-A, lr {full['curve_lr']:g}" in band


def test_probe_runs_are_defined_as_probed_sgd_runs(full):
    probes = E.group(E.runs_for("batchnorm", full), "probes")
    assert set(probes) == {"VGG-A probes", "VGG-A-BN probes"}
    for rs in probes.values():
        r = rs[0]
        assert r.probe == {"probe_every": full["probe_every"], "eta_factors": full["eta_factors"]}
        cfg = RunConfig.from_dict(r.run_config())
        assert (cfg.optimizer, cfg.momentum, cfg.schedule, cfg.augment) == ("sgd", 0.0, "none", [])
        assert cfg.model_args["init"] == "he" and cfg.val_fraction == 0.0
    band = E.group(E.runs_for("batchnorm", full), "band")
    assert all(r.probe is None for rs in band.values() for r in rs)


def test_every_profile_builds_valid_configs():
    for profile in ("smoke", "quick", "full"):
        for r in E.runs_for("batchnorm", resolve("batchnorm", profile)):
            RunConfig.from_dict(r.run_config())


def test_an_uncached_probe_run_is_pending_without_loading_data(tmp_path):
    cfg = E.group(E.runs_for("batchnorm", resolve("batchnorm", "smoke")), "probes")["VGG-A probes"][0]
    called = []
    p = probes_or_pending(cfg.run_config(), store=tmp_path, train=False,
                          data=lambda: called.append(1), **cfg.probe)
    assert p.pending and p["step"] == [] and not called
    # A pending probe record turns an audit row that needs it into "pending".
    row = Audit("batchnorm", "full").check("000", "c", True, "m", needs=[p])
    assert row.verdict == PENDING
    # Once the record is cached it is read back, still without training or data.
    path = cache_path(cfg.run_config(), store=tmp_path, **cfg.probe)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"step": [0], "status": "ok", "config": {}, "test_acc": 0.5}))
    q = probes_or_pending(cfg.run_config(), store=tmp_path, train=False,
                          data=lambda: called.append(1), **cfg.probe)
    assert not q.pending and q["step"] == [0] and not called
