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


def precision_table(benchmark: Mapping[str, Any]):
    """``bench/cpu_speed.py``'s file as a DataFrame: one row per model, images/s and TFLOP/s
    of each contender, our bf16 step over the plain fp32 and bf16 loops, and the share of
    the bf16 convolution rate measured in the same run.  Empty when not measured."""
    import pandas as pd
    peak = (benchmark.get("conv_reference_tflops") or {}).get("bf16")
    rows = []
    for r in benchmark.get("rows", []):
        ips, tf = r["images_per_s"], r["tflops"]
        row = {"model": r["model"], "batch": r["batch"], "runs": r["runs"]}
        row.update({f"{c} img/s": round(ips[c]) for c in PRECISION_COLUMNS})
        row["ours_bf16 TFLOP/s"] = round(tf["ours_bf16"], 2)
        row["vs plain fp32"] = round(ips["ours_bf16"] / ips["plain_fp32"], 2)
        row["vs plain bf16"] = round(ips["ours_bf16"] / ips["plain_bf16"], 2)
        row["of bf16 conv rate"] = round(tf["ours_bf16"] / peak, 2) if peak else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)
