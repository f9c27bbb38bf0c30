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


def precision_table(benchmark: Mapping[str, Any]):
    """``bench/cpu_speed.py``'s file as a DataFrame: one row per model, images/s of each
    contender it timed, our step at precision "auto" (:func:`auto_column`) in TFLOP/s, over
    the plain fp32 loop (and the plain bf16 loop, where timed), and as a share of the 3x3
    convolution rate measured in the same run at that precision.  Empty when not measured."""
    import pandas as pd
    auto = auto_column(benchmark)
    peak = (benchmark.get("conv_reference_tflops") or {}).get(auto.split("_")[1])
    rows = []
    for r in benchmark.get("rows", []):
        ips, tf = r["images_per_s"], r["tflops"]
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
    for r in benchmark.get("rows", []):
        lay = r.get("layouts")
        if not lay:
            continue
        ips = r["images_per_s"]
        row = {"model": r["model"], "batch": r["batch"]}
        row.update({f"{k} img/s": round(v) for k, v in lay.items()})
        row["best"] = r["best_layout"]
        row["best vs plain fp32"] = round(lay[r["best_layout"]] / ips["plain_fp32"], 2)
        row["best vs ours eager"] = round(lay[r["best_layout"]] / ips[auto], 2)
        rows.append(row)
    return pd.DataFrame(rows)

