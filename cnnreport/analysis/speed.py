"""Readings of the benchmark files in ``bench/results/<device>/*.json`` for the speed
page: which file stands for a device, and the speed-up ratios (ours over the plain
PyTorch loop) each one recorded.

A benchmark file is a dict; its ``ratios`` are rows with ``workload``, ``part``
("loader", "model", "end-to-end (wall)", ...), ``mean`` and ``std``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Union


def load_benchmarks(folder: Union[str, Path]) -> Dict[str, Dict[str, Any]]:
    """Every benchmark file one level below ``folder``, as ``{"<device>/<name>": dict}``
    in sorted order."""
    files = sorted(Path(folder).glob("*/*.json"))
    return {f"{p.parent.name}/{p.stem}": json.loads(p.read_text()) for p in files}


def first_present(benchmarks: Mapping[str, Mapping[str, Any]], names: Sequence[str]) -> Dict[str, Any]:
    """The first of ``names`` that was measured (and is not empty); an empty dict if none."""
    for name in names:
        if benchmarks.get(name):
            return dict(benchmarks[name])
    return {}


def ratio_table(benchmark: Mapping[str, Any]):
    """A benchmark's speed-up ratios as a DataFrame, one row per (workload, part)."""
    import pandas as pd
    return pd.DataFrame(benchmark.get("ratios", []))


def find_ratio(benchmark: Mapping[str, Any], workload_prefix: str, part: str) -> Optional[Dict[str, Any]]:
    """The first ratio row whose workload starts with ``workload_prefix`` and whose part
    starts with ``part``; None when the benchmark did not measure it."""
    for r in benchmark.get("ratios", []):
        if r["workload"].startswith(workload_prefix) and r["part"].startswith(part):
            return dict(r)
    return None


def ratio_text(row: Optional[Mapping[str, Any]]) -> str:
    """A ratio row as "mean ± std" (two decimals), or "not measured"."""
    return "not measured" if row is None else f"{row['mean']:.2f} ± {row['std']:.2f}"


PRECISION_COLUMNS = ("plain_fp32", "plain_bf16", "ours_fp32", "ours_bf16")


def auto_column(benchmark: Mapping[str, Any]) -> str:
    """The contender that precision "auto" trains in ``bench/cpu_speed.py``'s file: ``ours_bf16``
    where the CPU multiplies bf16 natively, else ``ours_fp32``."""
    return "ours_fp32" if benchmark.get("cpu_capability") == "none" else "ours_bf16"


def conv_rate(benchmark: Mapping[str, Any], row: Mapping[str, Any], column: str) -> Optional[float]:
    """The 3x3 convolution rate (TFLOP/s) at ``column``'s precision measured in the same run
    as ``row``: the row's own reference where the file joins rows of several runs, else the
    file's."""
    ref = row.get("conv_reference_tflops") or benchmark.get("conv_reference_tflops") or {}
    return ref.get(column.split("_")[1])


def precision_table(benchmark: Mapping[str, Any]):
    """``bench/cpu_speed.py``'s file as a DataFrame: one row per model, images/s of each
    contender it timed, our step at precision "auto" (:func:`auto_column`) in TFLOP/s, over
    the plain fp32 loop (and the plain bf16 loop, where timed), and as a share of the 3x3
    convolution rate measured in the same run at that precision.  Empty when not measured."""
    import pandas as pd
    auto = auto_column(benchmark)
    rows = []
    for r in benchmark.get("rows", []):
        ips, tf = r["images_per_s"], r["tflops"]
        peak = conv_rate(benchmark, r, auto)
        row = {"model": r["model"], "batch": r["batch"], "runs": r["runs"]}
        row.update({f"{c} img/s": round(ips[c]) for c in PRECISION_COLUMNS if c in ips})
        row[f"{auto} TFLOP/s"] = round(tf[auto], 2)
        row["vs plain fp32"] = round(ips[auto] / ips["plain_fp32"], 2)
        if "plain_bf16" in ips:
            row["vs plain bf16"] = round(ips[auto] / ips["plain_bf16"], 2)
        row["of conv rate"] = round(tf[auto] / peak, 2) if peak else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def layouts_table(benchmark: Mapping[str, Any]):
    """``bench/cpu_speed.py --best``'s file as a DataFrame: per model, images/s of the whole
    machine in each layout it timed (eager one process, compiled steps, one-thread jobs side by
    side), the best of them, and the best over the plain fp32 loop and over our eager step.
    Empty when not measured."""
    import pandas as pd
    auto = auto_column(benchmark)
    rows = []
    timed = {k: None for r in benchmark.get("rows", []) for k in (r.get("layouts") or {})}  # every layout, in order
    for r in benchmark.get("rows", []):
        lay = r.get("layouts")
        if not lay:
            continue
        ips = r["images_per_s"]
        row = {"model": r["model"], "batch": r["batch"]}
        row.update({f"{k} img/s": round(v) for k, v in lay.items()})
        row.update({f"{k} img/s": "not timed" for k in timed if k not in lay})
        row["best"] = r["best_layout"]
        row["best vs plain fp32"] = round(lay[r["best_layout"]] / ips["plain_fp32"], 2)
        row["best vs ours eager"] = round(lay[r["best_layout"]] / ips[auto], 2)
        rows.append(row)
    return pd.DataFrame(rows)


def profile_table(profile: Mapping[str, Any], min_share: float = 0.02):
    """``bench/cpu_profile.py``'s file as a DataFrame: per model and mode (eager, compiled),
    ms per step and the share of the profiled time of each kind of op (kinds under
    ``min_share`` in every row are summed into "rest").  Empty when not measured."""
    import pandas as pd
    rows = []
    for r in profile.get("rows", []):
        for mode, m in r["modes"].items():
            total = m["profiled_ms_per_step"] or float("nan")
            row = {"model": r["model"], "step": mode, "ms a step": round(m["wall_ms_per_step"])}
            row.update({k: v / total for k, v in m["kinds_ms"].items()})
            rows.append(row)
    df = pd.DataFrame(rows).fillna(0.0)
    if df.empty:
        return df
    kinds = [c for c in df.columns[3:] if df[c].max() >= min_share]
    rest = [c for c in df.columns[3:] if c not in kinds]
    if rest:
        df["rest"] = df[rest].sum(axis=1)
        df = df.drop(columns=rest)
    for c in df.columns[3:]:
        df[c] = (100 * df[c]).round().astype(int).astype(str) + "%"
    return df


def slowest_convs(profile: Mapping[str, Any], model: str, n: int = 3, mode: str = "eager") -> list:
    """The ``n`` convolution shapes of ``model`` that took the most time in ``mode``, with
    their forward and backward rates (``bench/cpu_profile.py``'s ``conv_rates``)."""
    for r in profile.get("rows", []):
        if r["model"] == model and mode in r["modes"]:
            return list(r["modes"][mode]["conv_rates"][:n])
    return []


# The targets for the best layout of an AMX-BF16 CPU: every model at least 3x the
# plain fp32 loop; the two models bound by element-wise work and small maps 2x the plain bf16 loop.
TARGET_VS_PLAIN_FP32 = 3.0
TARGET_VS_PLAIN_BF16 = {"simp_res9": 2.0, "vgg_a": 2.0}


def targets_table(precision: Mapping[str, Any], best: Mapping[str, Any]):
    """Per model of ``precision`` (``bench/cpu_speed.py``'s file): the best images/s this
    machine reached (``best``'s layouts where timed, else our eager step), over the plain
    fp32 and bf16 loops of the same run, each against its target, and our step's share of
    the bf16 convolution rate.  Empty when not measured."""
    import pandas as pd
    auto = auto_column(precision)
    layouts = {r["model"]: r for r in best.get("rows", []) if r.get("layouts")}
    rows = []
    for r in precision.get("rows", []):
        ips = r["images_per_s"]
        b = layouts.get(r["model"])
        if b is not None:  # ratios within the run that timed the layouts
            top, how, base = b["layouts"][b["best_layout"]], b["best_layout"], b["images_per_s"]
        else:
            top, how, base = ips[auto], "eager, 1 process", ips
        vs32 = top / base["plain_fp32"]
        vs16 = top / base["plain_bf16"] if "plain_bf16" in base else float("nan")
        need16 = TARGET_VS_PLAIN_BF16.get(r["model"])
        peak = conv_rate(precision, r, auto)
        rows.append({"model": r["model"], "best img/s": round(top), "layout": how,
                     "vs plain fp32": round(vs32, 2), "3x fp32 met": vs32 >= TARGET_VS_PLAIN_FP32,
                     "vs plain bf16": round(vs16, 2),
                     "2x bf16 met": "" if need16 is None else bool(vs16 >= need16),
                     "of conv rate": round(r["tflops"][auto] / peak, 2) if peak else float("nan")})
    return pd.DataFrame(rows)


def small_maps_table(profile: Mapping[str, Any]):
    """``bench/cpu_profile.py``'s small-map convolutions: per shape, forward + backward ms and
    TFLOP/s of oneDNN's convolution and of the im2col matrix product, and their ratio (> 1: the
    matrix product is faster).  Empty when not measured."""
    import pandas as pd
    rows = [{"conv": r["conv"], "oneDNN ms": round(r["onednn_ms"], 1), "oneDNN TFLOP/s": round(r["onednn_tflops"], 2),
             "im2col ms": round(r["im2col_ms"], 1), "im2col TFLOP/s": round(r["im2col_tflops"], 2),
             "oneDNN / im2col time": round(r["onednn_ms"] / r["im2col_ms"], 2)}
            for r in profile.get("small_maps", [])]
    return pd.DataFrame(rows)
