"""The planner: every distinct run of a profile, validated, merged by key, ordered."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnreport import experiments as E
from cnnreport.compute import plan as P
from cnnreport.core.paths import PROFILES

ROOT = Path(__file__).resolve().parents[1]

SMALL = dict(dataset="tiny", model="mlp", model_args={"hidden": [16], "input_shape": [3, 32, 32]},
             epochs=2, batch_size=16, optimizer="sgd", lr=0.05, val_fraction=0.25, device="cpu")


def _no_data(*a, **k):
    raise AssertionError("the plan must not load a dataset or train")


@pytest.fixture(scope="module")
def full_plans():
    """The plan of every profile, built with dataset loading and training forbidden."""
    with pytest.MonkeyPatch.context() as mp:
        import cnnreport.core.data as D
        import importlib
        import cnnreport.training as T
        F = importlib.import_module("cnnreport.training.fit")  # the module; T.fit is the function
        mp.setattr(D, "load_dataset", _no_data)
        mp.setattr(T, "fit", _no_data)              # what run_or_load calls
        mp.setattr(F, "build_setup", _no_data)      # what every training run goes through
        mp.setenv("CNNREPORT_DATA", "/nonexistent-data-root")
        return {p: P.build(p, results=f"/nonexistent-results/{p}") for p in PROFILES}


def test_every_run_of_every_profile_validates_and_has_one_entry_per_key(full_plans):
    for profile, plan in full_plans.items():
        assert plan.entries, profile
        keys = [e.key for e in plan.entries]
        assert len(keys) == len(set(keys)), f"{profile}: a key is listed twice"
        for e in plan.entries:
            from cnnreport.core.config import RunConfig
            assert RunConfig.from_dict(e.config).key() == e.config_key
            assert e.uses and e.tier == min(u.tier for u in e.uses)
            assert e.est_gpu_s > 0 and e.state == P.PENDING


def _passes(entries):
    """The entries' ranks, with tier 1 and the noise seeds as the one first pass."""
    return [1.0 if e.rank in P.FIRST_PASS else e.rank for e in entries]


def _entry(key, epochs, *claims, tier=1, noise=False, model="mlp", state=P.PENDING):
    cfg = dict(SMALL, epochs=epochs, model=model)
    use = P.Use("ch", "g", key, 0, tier, "001", tuple(claims), noise)
    return P.Entry(key=key, config_key=key, config=cfg, uses=[use], tier=tier, claim_group="ch/g",
                   est_gpu_s=0.0, est_cpu_s=0.0, first_epoch_s=0.0, checkpoint_bytes=0.0, state=state)


def test_plan_order_is_rank_then_audit_rows_unlocked_per_hour(full_plans):
    passes = _passes(full_plans["full"].entries)
    assert passes == sorted(passes)
    entry = _entry
    # "z" needs one cheap run, which also half-completes "y"; then "y" costs 10 epochs for one row
    # and "x" 20 epochs for one row; a run that serves no claim comes last
    order = P.order_entries([entry("e1", 20, "x"), entry("e2", 10, "y"), entry("e3", 1, "y", "z"),
                             entry("e0", 1)], "cpu")
    assert [e.key for e in order] == ["e3", "e2", "e1", "e0"]


def test_a_one_seed_verdict_waits_for_its_noise_seeds_so_they_come_first():
    # "stored" is judged from a stored seed once the two noise seeds of its report and model
    # are in; "new" needs a tier-1 run of the same cost as well: the noise seeds unlock a row
    # on their own, so they come before it, though their tier is 2
    stored = _entry("s0", 10, "stored", state=P.STORED)
    n1, n2 = (_entry(k, 10, tier=2, noise=True) for k in ("n1", "n2"))
    new = _entry("t1", 10, "new")
    other = _entry("o1", 1, "other model", model="basic_cnn")  # no noise run of its model; cheap
    order = [e.key for e in P.order_entries([new, n1, stored, n2, other], "cpu") if not e.stored]
    assert order == ["o1", "n1", "n2", "t1"]
    # without the noise seeds in the selection, the tier-1 run is all "new" waits for
    assert [e.key for e in P.order_entries([new, stored, other], "cpu") if not e.stored] == ["o1", "t1"]


def test_a_checkpointed_run_is_resumed_before_new_runs_of_its_rank():
    fresh = _entry("f1", 1, "cheap")
    resumed = _entry("r1", 20, "dear", state=P.CHECKPOINTED)
    assert [e.key for e in P.order_entries([fresh, resumed], "cpu")] == ["r1", "f1"]


def test_plan_json_is_deterministic():
    a = json.dumps(P.build("smoke", results="/nonexistent").to_json(), sort_keys=True)
    b = json.dumps(P.build("smoke", results="/nonexistent").to_json(), sort_keys=True)
    assert a == b
    d = json.loads(a)
    assert {"runs", "totals"} <= set(d) and d["runs"]
    assert {"key", "tier", "config", "uses", "est_gpu_s", "stored"} <= set(d["runs"][0])


def test_a_run_two_chapters_share_is_one_entry_with_both_uses(register, tmp_path):
    shared = dict(SMALL, lr=0.1)
    register("plantest_a", lambda p: E.seeded("plantest_a", "g1", {"shared": shared, "own": SMALL}, [0],
                                              report="001"))
    register("plantest_b", lambda p: E.seeded("plantest_b", "g9", {"same training": shared}, [0, 1],
                                              extra=True))
    plan = P.build("smoke", ["plantest_a", "plantest_b"], results=tmp_path, params={"plantest_a": {},
                                                                                    "plantest_b": {}})
    by_names = {tuple(u.name for u in e.uses): e for e in plan.entries}
    assert len(plan.entries) == 3  # shared seed 0, own seed 0, shared seed 1 (b only)
    both = by_names[("plantest_a: shared", "plantest_b: same training")]
    assert both.tier == 1 and both.chapters == ["plantest_a", "plantest_b"]
    assert both.config["name"] == "plantest_a: shared"
    t = plan.totals()
    assert t["all"]["runs"] == 3 and t["chapters"]["plantest_a"]["runs"] == 2
    assert t["chapters"]["plantest_b"]["runs"] == 2 and t["tiers"]["3"]["runs"] == 1
    # a stored result and a checkpoint change the state, nothing else
    (tmp_path / f"{both.key}.json").write_text("{}")
    other = next(e for e in plan.entries if e is not both and e.seed == 1)
    (tmp_path / "checkpoints" / other.key).mkdir(parents=True)
    (tmp_path / "checkpoints" / other.key / "last.pt").write_bytes(b"x")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / f"{other.key}.csv").write_text("epoch,train_loss\n1,0.5\n")
    P.refresh(plan)
    assert both.state == P.STORED and other.state == P.CHECKPOINTED and other.epochs_done == 1
    assert plan.totals()["all"]["pending_runs"] == 2


def test_a_bad_config_names_the_chapter_and_the_label(register, tmp_path):
    register("plantest_bad", lambda p: E.seeded("plantest_bad", "g", {"fine": SMALL,
                                                                      "broken lr": dict(SMALL, lr=-1.0)}, [0]))
    with pytest.raises(P.PlanError, match=r"plantest_bad: run 'broken lr' .*lr"):
        P.build("smoke", ["plantest_bad"], results=tmp_path, params={"plantest_bad": {}})
    plan = P.build("smoke", ["plantest_bad"], results=tmp_path, params={"plantest_bad": {}}, strict=False)
    assert not plan.entries and "broken lr" in plan.errors["plantest_bad"]


def test_tier_and_run_filters(register, tmp_path):
    register("plantest_t", lambda p: E.seeded("plantest_t", "g", {"m": SMALL}, [0, 1, 2], report="002"))
    kw = dict(results=tmp_path, params={"plantest_t": {}})
    assert [e.tier for e in P.build("smoke", ["plantest_t"], **kw).entries] == [1, 2, 2]
    assert len(P.build("smoke", ["plantest_t"], tier=1, **kw).entries) == 1
    assert len(P.build("smoke", ["plantest_t"], runs=["plantest_t: m"], **kw).entries) == 3
    assert not P.build("smoke", ["plantest_t"], runs=["nothing*"], **kw).entries


def test_reports_filter_spans_chapters_and_names_an_unknown_report(register, tmp_path):
    register("plantest_r1", lambda p: E.seeded("plantest_r1", "g", {"m": SMALL}, [0], report="002"))
    register("plantest_r2", lambda p: E.seeded("plantest_r2", "g", {"m": dict(SMALL, lr=0.1)}, [0], report="002")
             + E.seeded("plantest_r2", "h", {"n": dict(SMALL, lr=0.2)}, [0], report="003"))
    kw = dict(results=tmp_path, params={"plantest_r1": {}, "plantest_r2": {}})
    chapters = ["plantest_r1", "plantest_r2"]
    got = P.build("smoke", chapters, reports=["002"], **kw).entries
    assert len(got) == 2 and {e.chapters[0] for e in got} == set(chapters) and all(e.reports == ["002"] for e in got)
    assert [e.reports for e in P.build("smoke", chapters, reports=["003"], **kw).entries] == [["003"]]
    with pytest.raises(P.PlanError, match="unknown report\\(s\\) 009; the planned chapters serve: 002, 003"):
        P.build("smoke", chapters, reports=["009"], **kw)


def test_cpu_estimates_come_from_measured_rates_and_long_runs_wait_for_the_gpu(monkeypatch):
    from cnnreport.compute import costs
    cfg = dict(dataset="fashion_mnist", model="alexnet_fmnist", epochs=20, batch_size=128, val_fraction=0.2)
    monkeypatch.setitem(costs.MEASURED_CPU, "amx_bf16", {"alexnet_fmnist": 1600.0})
    assert costs.cpu_rate("alexnet_fmnist", 2, "amx_bf16") == 1600.0
    assert costs.cpu_rate("alexnet_fmnist", 1, "amx_bf16") == 800.0
    monkeypatch.setitem(costs.MEASURED_CPU, "fp32_avx512", {"alexnet_fmnist": 300.0})
    assert costs.cpu_rate("alexnet_fmnist", 2, "avx512_bf16") is None and costs.cpu_rate("lenet", 2, "amx_bf16") is None
    import cnnreport.core.hardware as H
    monkeypatch.setattr(H, "cpu_flags", lambda: {"amx_bf16": True, "avx512_bf16": True, "avx512f": True})
    measured = costs.run_seconds(cfg, "cpu", 2)
    # 48,000 training images x 20 epochs at 1,600 img/s, and 22,000 evaluations an epoch at 3x that
    assert measured == pytest.approx(48_000 * 20 / 1600 + 22_000 * 20 / 4800, rel=0.05)
    # an fp32 twin on the same CPU reads its AVX-512 fp32 rate, over five times slower
    assert costs.run_seconds(dict(cfg, precision="fp32"), "cpu", 2) == pytest.approx(measured * 1600 / 300, rel=0.05)
    monkeypatch.setattr(H, "cpu_flags", lambda: {"amx_bf16": False, "avx512_bf16": True})
    assert costs.run_seconds(cfg, "cpu", 2) != pytest.approx(measured, rel=0.05)  # not measured: FLOP fallback
    # an AVX2 CPU without bf16 trains "auto" in fp32 and reads its own class, not the Xeon's fp32 rate
    monkeypatch.setattr(H, "cpu_flags", lambda: {"amx_bf16": False, "avx512_bf16": False, "avx2": True})
    monkeypatch.setitem(costs.MEASURED_CPU, "fp32_avx2", {"alexnet_fmnist": 150.0})
    assert costs.run_seconds(cfg, "cpu", 2) == pytest.approx(measured * 1600 / 150, rel=0.05)
    e = P.Entry(key="k", config_key="k", config=cfg, uses=[], tier=1, claim_group="g", est_gpu_s=1.0,
                est_cpu_s=P.CPU_SITTING_S + 1, first_epoch_s=1.0, checkpoint_bytes=0.0)
    assert e.gpu_only and not P.Entry(**{**e.__dict__, "est_cpu_s": 60.0}).gpu_only


def test_importing_plan_and_queue_imports_no_torch_and_the_cli_prints_totals():
    code = ("import sys, cnnreport.compute.plan, cnnreport.compute.queue, cnnreport.compute.costs, cnnreport.compute.archive; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    out = subprocess.run([sys.executable, "-m", "cnnreport.compute.plan", "--profile", "smoke", "--chapters",
                          "architectures", "--results", "/nonexistent"], capture_output=True, text=True,
                         cwd=ROOT, env={**__import__("os").environ, "CNNREPORT_DATA": "/nonexistent"})
    assert out.returncode == 0, out.stderr
    assert "totals per tier" in out.stdout and "tier 1:" in out.stdout and "CPU-h" in out.stdout


def test_costs_width_rule_and_measured_override(monkeypatch):
    from cnnreport.compute import costs
    f1 = costs.forward_flops("resnet18", "cifar10", {"width": 1.0})
    assert f1 == costs.FORWARD_FLOPS[("resnet18", (3, 32, 32))][0]
    assert costs.forward_flops("resnet18", "cifar10", {"width": 0.5}) == pytest.approx(
        costs.FORWARD_FLOPS[("resnet18", (3, 32, 32))][1])
    assert 0.2 < costs.forward_flops("resnet18", "cifar10", {"width": 0.5}) / f1 < 0.3
    cfg = dict(dataset="cifar10", model="resnet18", epochs=10, batch_size=128, val_fraction=0.0)
    est = costs.run_seconds(cfg)
    monkeypatch.setitem(costs.MEASURED, "resnet18", 1e9)  # absurdly fast: only overheads remain
    assert costs.run_seconds(cfg) < est


@pytest.mark.parametrize("argv, message", [
    (["cnnreport.compute.plan", "--profile", "full", "--tier", "7"], "--tier: 7 is out of range; allowed: 1 to 3"),
    (["cnnreport.compute.plan", "--profile", "full", "--tier", "x"], "--tier: 'x' is not a whole number"),
    (["cnnreport.compute.queue", "--profile", "full", "--budget", "10", "--jobs", "0"], "--jobs: 0 is below 1"),
    (["cnnreport.compute.remote", "--data", "/nonexistent", "--out", "OUT", "--budget", "60"],
     "--data /nonexistent: no such folder"),
    (["cnnreport.compute.remote", "--data", ".", "--out", "OUT", "--budget", "0"], "--budget 0: must be > 0"),
])
def test_bad_command_line_values_fail_before_any_work(argv, message, tmp_path):
    import os
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in argv]
    p = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert p.returncode == 2 and message in p.stderr, p.stderr
    assert not (tmp_path / "out").exists()  # nothing written


def test_every_named_noise_run_exists_at_full_and_trains_at_every_seed(full_plans):
    plan = full_plans["full"]
    uses = {(u.report, u.chapter, u.group, u.label): set() for e in plan.entries for u in e.uses
            if u.noise and u.tier <= 2}
    for e in plan.entries:
        for u in e.uses:
            if (u.report, u.chapter, u.group, u.label) in uses:
                uses[(u.report, u.chapter, u.group, u.label)].add(u.seed)
    named = {(r, *w) for r, ws in E.NOISE_RUNS.items() for w in ws}
    assert named == set(uses), f"noise runs named but not planned: {sorted(named - set(uses))}"
    assert all(len(seeds) >= 3 for seeds in uses.values())
    # every model that a report's claims train at one seed has a noise run of that report
    models = {(u.report, e.model) for e in plan.entries for u in e.uses if u.tier == 1 and u.report
              and not e.probe}
    noisy = {(u.report, e.model) for e in plan.entries for u in e.uses if u.noise}
    assert models - noisy <= {("004", "lenet")}, sorted(models - noisy)


def test_noise_selection_is_ordered_with_tier_one(full_plans):
    plan = P.build("full", tier=1, noise=True, results="/nonexistent-results/full",
                   chapters=["schedules"])
    ranks = [e.rank for e in plan.entries]
    # tier 1's first seeds and the noise seeds, then the later seeds of runs read seed by seed
    assert 1.5 in ranks and set(ranks) == {1.0, 1.5, P.SEED_BY_SEED_RANK}
    assert ranks == sorted(ranks, key=lambda r: 1.0 if r in P.FIRST_PASS else r)
    assert all(e.tier <= 2 and any(u.noise for u in e.uses) for e in plan.entries if e.rank == 1.5)
    assert all(e.tier_mark == "1s" and all(u.later for u in e.uses) for e in plan.entries
               if e.rank == P.SEED_BY_SEED_RANK)
    assert not any(e.noise for e in P.build("full", tier=1, results="/nonexistent-results/full",
                                            chapters=["schedules"]).entries)


def test_run_2s_controls_are_planned_at_full_with_the_fp32_twin_kept_apart(full_plans):
    from cnnreport.experiments.hyperparams import CONTROLS
    plan = full_plans["full"]
    controls = {u.label: e for e in plan.entries for u in e.uses if u.group == "controls"}
    assert set(controls) == set(CONTROLS)
    twin, main = controls["run 2, fp32"], next(e for e in plan.entries for u in e.uses if u.label == "run 2"
                                                and u.group == "table" and u.seed == 0)
    assert twin.store == "controls" and twin.config_key == main.config_key and twin.config["precision"] == "fp32"
    assert twin.rank == 1.75 and all(e.tier == 3 and e.seed == 0 for e in controls.values())
    assert controls["run 2, momentum 0.9"].config_key != main.config_key   # a real change: its own key
    assert not any(u.group == "controls" for e in full_plans["quick"].entries for u in e.uses)


def test_ranks_follow_the_one_seed_rows_then_the_twins_then_the_rows_read_seed_by_seed():
    def use(tier, later=False, noise=False):
        return P.Use("ch", "g", "l", 1 if later else 0, tier, "002", ("c",), noise, later)

    def entry(key, *uses, store=""):
        return P.Entry(key=key, config_key=key, config={"model": "mlp", "epochs": 1}, uses=list(uses),
                       tier=min(u.tier for u in uses), claim_group="ch/g", est_gpu_s=1.0, est_cpu_s=10.0,
                       first_epoch_s=1.0, checkpoint_bytes=0.0, store=store)
    first = entry("first", use(1))
    noise_seed = entry("noise", use(2, later=True, noise=True))
    noise_read_by_seed = entry("noise1", use(1, later=True, noise=True))
    twin = entry("twin", use(3), store="controls")
    by_seed = entry("byseed", use(1, later=True))
    shared = entry("shared", use(2, later=True), use(1, later=True))   # another chapter reads it seed by seed
    also_first = entry("alsofirst", use(1), use(1, later=True))        # the first seed somewhere else
    seed2 = entry("seed2", use(2, later=True))
    marks = {e.key: (e.rank, e.tier_mark) for e in (first, noise_seed, noise_read_by_seed, twin, by_seed, shared,
                                                    also_first, seed2)}
    assert marks == {"first": (1.0, "1"), "noise": (1.5, "2n"), "noise1": (1.5, "1n"), "twin": (1.75, "3n"),
                     "byseed": (1.9, "1s"), "shared": (1.9, "1s"), "alsofirst": (1.0, "1"), "seed2": (2.0, "2")}
    order = [e.key for e in P.order_entries([seed2, by_seed, twin, noise_seed, first], "cpu")]
    assert order.index("first") < order.index("twin") < order.index("byseed") < order.index("seed2")
    assert order.index("noise") < order.index("twin")
