"""Readings of the benchmark files for the speed page."""
import json

from cnnreport.analysis import speed as SP

BENCH = {"ratios": [{"workload": "lenet (MNIST)", "part": "end-to-end (wall)", "mean": 3.456, "std": 0.2},
                    {"workload": "basic_cnn (CIFAR-10)", "part": "loader", "mean": 40.0, "std": 5.0},
                    {"workload": "basic_cnn (CIFAR-10)", "part": "model", "mean": 1.04, "std": 0.031}]}


def test_find_ratio_matches_prefixes_and_says_when_not_measured():
    assert SP.find_ratio(BENCH, "basic_cnn", "model")["mean"] == 1.04
    assert SP.ratio_text(SP.find_ratio(BENCH, "lenet", "end-to-end")) == "3.46 ± 0.20"
    assert SP.find_ratio(BENCH, "resnet9", "model") is None
    assert SP.ratio_text(None) == "not measured"
    assert list(SP.ratio_table(BENCH)["part"]) == ["end-to-end (wall)", "loader", "model"]
    assert SP.ratio_table({}).empty


def test_load_benchmarks_and_first_present(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "trainer_speed.json").write_text(json.dumps(BENCH))
    (tmp_path / "cpu" / "trainer_speed_threads1.json").write_text(json.dumps({}))
    runs = SP.load_benchmarks(tmp_path)
    assert list(runs) == ["cpu/trainer_speed", "cpu/trainer_speed_threads1"]
    # an empty file does not count as measured
    assert SP.first_present(runs, ["cpu/trainer_speed_threads1", "cpu/trainer_speed"]) == BENCH
    assert SP.first_present(runs, ["gpu/trainer_speed"]) == {}


def test_precision_table_ratios_and_share_of_the_conv_rate():
    row = {"model": "resnet9", "batch": 128, "runs": 4,
           "images_per_s": {"plain_fp32": 80.0, "plain_bf16": 200.0, "ours_fp32": 79.0, "ours_bf16": 300.0},
           "tflops": {"plain_fp32": 0.1, "plain_bf16": 0.25, "ours_fp32": 0.1, "ours_bf16": 0.6}}
    t = SP.precision_table({"conv_reference_tflops": {"fp32": 0.2, "bf16": 1.2}, "rows": [row]})
    r = t.iloc[0]
    assert r["vs plain fp32"] == 3.75 and r["vs plain bf16"] == 1.5 and r["of conv rate"] == 0.5
    assert r["ours_bf16 img/s"] == 300 and r["runs"] == 4
    assert SP.precision_table({}).empty


def test_precision_table_of_a_cpu_without_bf16_reads_the_fp32_columns():
    row = {"model": "resnet9", "batch": 128, "runs": 4,
           "images_per_s": {"plain_fp32": 40.0, "ours_fp32": 50.0}, "tflops": {"plain_fp32": 0.08, "ours_fp32": 0.1}}
    t = SP.precision_table({"cpu_capability": "none", "conv_reference_tflops": {"fp32": 0.125}, "rows": [row]})
    r = t.iloc[0]
    assert r["vs plain fp32"] == 1.25 and r["of conv rate"] == 0.8 and r["ours_fp32 TFLOP/s"] == 0.1
    assert "plain_bf16 img/s" not in t.columns and "vs plain bf16" not in t.columns


def test_layouts_table_names_the_best_layout_and_its_gains():
    row = {"model": "alexnet_fmnist", "batch": 128, "runs": 20, "best_layout": "2 jobs x 1 thread",
           "layouts": {"compile": 160.0, "2 jobs x 1 thread": 210.0, "eager, 1 process": 150.0},
           "images_per_s": {"plain_fp32": 175.0, "ours_fp32": 150.0, "best": 210.0},
           "tflops": {"plain_fp32": 0.1, "ours_fp32": 0.09, "best": 0.12}}
    t = SP.layouts_table({"cpu_capability": "none", "rows": [row, dict(row, layouts=None, model="x")]})
    assert list(t["model"]) == ["alexnet_fmnist"]  # a row without layouts was not timed that way
    r = t.iloc[0]
    assert r["best"] == "2 jobs x 1 thread" and r["best vs ours eager"] == 1.4 and r["best vs plain fp32"] == 1.2
    assert r["compile img/s"] == 160 and SP.layouts_table({}).empty
    assert "compile, 2 jobs x 1 thread img/s" not in t.columns  # no row timed it
    both = dict(row, model="vgg_a", layouts={**row["layouts"], "compile, 2 jobs x 1 thread": 220.0},
                best_layout="compile, 2 jobs x 1 thread")
    t2 = SP.layouts_table({"cpu_capability": "none", "rows": [row, both]}).set_index("model")
    assert t2.loc["alexnet_fmnist", "compile, 2 jobs x 1 thread img/s"] == "not timed"
    assert t2.loc["vgg_a", "compile, 2 jobs x 1 thread img/s"] == 220


def _row(model, plain32, plain16, ours16, layouts=None, ref=None):
    r = {"model": model, "batch": 128, "runs": 3,
         "images_per_s": {"plain_fp32": plain32, "plain_bf16": plain16, "ours_fp32": plain32, "ours_bf16": ours16},
         "tflops": {"plain_fp32": 0.1, "plain_bf16": 0.2, "ours_fp32": 0.1, "ours_bf16": 0.3}}
    if layouts:
        r.update(layouts=layouts, best_layout=max(layouts, key=layouts.get))
    if ref:
        r["conv_reference_tflops"] = ref
    return r


def test_a_rows_own_conv_reference_wins_over_the_files():
    t = SP.precision_table({"conv_reference_tflops": {"bf16": 1.0},
                            "rows": [_row("a", 100, 200, 300), _row("b", 100, 200, 300, ref={"bf16": 0.6})]})
    assert list(t["of conv rate"]) == [0.3, 0.5]


def test_targets_read_the_best_layout_within_its_own_run_and_can_fail():
    precision = {"conv_reference_tflops": {"bf16": 1.0},
                 "rows": [_row("simp_res9", 200, 600, 700), _row("alexnet_fmnist", 500, 1800, 1850),
                          _row("vgg_a", 300, 500, 500)]}
    # the best run timed simp_res9 apart, with its own plain loops: its ratios come from that run
    best = {"rows": [_row("simp_res9", 250, 500, 700, layouts={"eager, 1 process": 700, "compile": 1000})]}
    t = SP.targets_table(precision, best).set_index("model")
    assert t.loc["simp_res9", "best img/s"] == 1000 and t.loc["simp_res9", "layout"] == "compile"
    assert t.loc["simp_res9", "vs plain fp32"] == 4.0 and bool(t.loc["simp_res9", "3x fp32 met"])
    assert t.loc["simp_res9", "vs plain bf16"] == 2.0 and t.loc["simp_res9", "2x bf16 met"] is True
    assert t.loc["vgg_a", "vs plain fp32"] == 1.67 and not t.loc["vgg_a", "3x fp32 met"]
    assert t.loc["vgg_a", "2x bf16 met"] is False
    assert t.loc["alexnet_fmnist", "layout"] == "eager, 1 process" and t.loc["alexnet_fmnist", "2x bf16 met"] == ""
    assert SP.targets_table({}, {}).empty


PROFILE = {"rows": [{"model": "vgg_a", "modes": {"eager": {
    "wall_ms_per_step": 270.4, "profiled_ms_per_step": 200.0,
    "kinds_ms": {"conv backward": 120.0, "conv forward": 60.0, "pooling": 18.0, "other": 1.0, "optimizer": 1.0},
    "conv_rates": [{"conv": "512->512 k3 @ 2x2", "forward_ms": 20.0, "backward_ms": 75.0,
                    "forward_tflops": 0.12, "backward_tflops": 0.06}]}}}]}


def test_profile_table_gives_shares_and_sums_the_small_kinds():
    t = SP.profile_table(PROFILE)
    r = t.iloc[0]
    assert r["ms a step"] == 270 and r["conv backward"] == "60%" and r["pooling"] == "9%"
    assert r["rest"] == "1%" and "other" not in t.columns  # 0.5% + 0.5%, each under 2%
    assert SP.slowest_convs(PROFILE, "vgg_a")[0]["backward_tflops"] == 0.06
    assert SP.slowest_convs(PROFILE, "vgg_a", mode="compiled") == [] and SP.profile_table({}).empty


def test_small_maps_table_compares_the_two_ways():
    prof = {"small_maps": [{"conv": "512->512 k3 @ 2x2", "batch": 128, "onednn_ms": 90.0, "im2col_ms": 30.0,
                            "onednn_tflops": 0.08, "im2col_tflops": 0.24}]}
    r = SP.small_maps_table(prof).iloc[0]
    assert r["oneDNN / im2col time"] == 3.0 and r["im2col TFLOP/s"] == 0.24
    assert SP.small_maps_table({}).empty
