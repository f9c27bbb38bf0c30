"""Shared machinery of the benchmarks: environment report, timing, interleaved trials, output.

Timing rules every benchmark here follows:

* ``time.perf_counter`` around the measured call, with ``torch.cuda.synchronize`` on
  both sides when the device is CUDA: kernels are asynchronous, and without the sync
  the clock would stop when the last kernel is *queued*, not when it has run.
* Contenders are measured in interleaved rounds (A B A B ...), after untimed warm-up
  rounds, so that load from other processes, clock boosts and thermal drift hit every
  contender alike.  Ratios are computed per round (A_i / B_i) and then averaged: the
  two runs of one round saw the same machine state, so the paired ratio is less noisy
  than the ratio of the two means.
* Every number is reported as mean +- sample std over the rounds, with n.

Output: ``write_results(path, payload)`` writes the JSON and a Markdown table next to
it (same name, ``.md``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch

Trial = Dict[str, Any]  # {"seconds": float, "images": int, ...any extra fields}


# -- environment -----------------------------------------------------------------------
def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> Optional[str]:
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def environment(device: torch.device) -> Dict[str, Any]:
    """What the numbers depend on: hardware, versions, threads and precision flags."""
    import torchvision

    env: Dict[str, Any] = {
        "device_type": device.type,
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cuda_matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        # Thread settings from the environment: on a loaded machine OMP_WAIT_POLICY alone
        # changes small-op CPU speed several-fold (spinning threads wait on descheduled ones).
        "env_vars": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS",
                                                "CUDA_VISIBLE_DEVICES") if k in os.environ},
        "loadavg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "git_commit": _git_commit(),
        "argv": sys.argv,
        "time": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        env.update(device_name=p.name, device_capability=f"{p.major}.{p.minor}",
                   device_memory_gib=round(p.total_memory / 2 ** 30, 1),
                   bf16_supported=torch.cuda.is_bf16_supported())
    else:
        env["device_name"] = env["cpu"]
    return env


# -- timing ------------------------------------------------------------------------------
def sync(device: torch.device) -> None:
    """Wait for queued kernels, so that a clock read after it counts their run time."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device):
    """Run ``fn()`` and return ``(seconds, result)``, synchronised on CUDA."""
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, out


def timed_trial(fn: Callable[[], int], device: torch.device) -> Trial:
    """Time ``fn()``, which returns the number of images it processed, as one trial."""
    seconds, images = timed(fn, device)
    return {"seconds": seconds, "images": images}


def _load() -> Optional[float]:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def interleave(contenders: Dict[str, Callable[[], Trial]], trials: int, warmup: int = 1,
               log: Callable[[str], None] = print, label: str = "") -> Dict[str, List[Trial]]:
    """Run the contenders in rounds A B A B ... and return each one's trials.

    Each callable does its own setup, times the part that counts (with :func:`timed`)
    and returns at least ``{"seconds": s, "images": n}``.  ``warmup`` untimed rounds
    come first (first-call costs: allocator, cudnn autotuning, page faults).
    """
    out: Dict[str, List[Trial]] = {name: [] for name in contenders}
    for r in range(warmup + trials):
        for name, fn in contenders.items():
            trial = dict(fn())
            trial["loadavg"] = _load()
            rate = trial["images"] / trial["seconds"] if trial["seconds"] > 0 else float("nan")
            tag = "warm-up" if r < warmup else f"trial {r - warmup + 1}/{trials}"
            load = f"  (load {trial['loadavg']:.2f})" if trial["loadavg"] is not None else ""
            log(f"  {label} {name:<28} {tag:<12} {trial['seconds']:8.3f} s  {rate:10.1f} img/s{load}")
            if r >= warmup:
                out[name].append(trial)
    return out


def mean_std(values: Sequence[float]) -> Dict[str, float]:
    v = [float(x) for x in values]
    return {"mean": statistics.fmean(v) if v else float("nan"),
            "std": statistics.stdev(v) if len(v) > 1 else 0.0, "n": len(v)}


def summarize(workload: str, part: str, contender: str, trials: List[Trial],
              notes: str = "", **extra: Any) -> Dict[str, Any]:
    """One result row: images/s and seconds per trial as mean +- std, plus the raw trials."""
    rates = [t["images"] / t["seconds"] for t in trials]
    row = {"workload": workload, "part": part, "contender": contender,
           "images_per_sec": mean_std(rates), "seconds": mean_std([t["seconds"] for t in trials]),
           "images": trials[0]["images"] if trials else 0, "notes": notes, "trials": trials}
    row.update(extra)
    return row


def paired_ratio(workload: str, part: str, num: str, den: str, a: List[Trial],
                 b: List[Trial], key: str = "rate") -> Dict[str, Any]:
    """Per-round ratio ``num / den`` of images/s (``key='rate'``) or of seconds."""
    if key == "rate":
        vals = [(x["images"] / x["seconds"]) / (y["images"] / y["seconds"]) for x, y in zip(a, b)]
    else:
        vals = [x["seconds"] / y["seconds"] for x, y in zip(a, b)]
    what = "images/s" if key == "rate" else "seconds"
    return {"workload": workload, "part": part, "ratio": f"{num} / {den} ({what})", **mean_std(vals)}


# -- arguments and output ----------------------------------------------------------------
def add_common_args(p: argparse.ArgumentParser, trials: int = 3) -> None:
    p.add_argument("--out", default=None, help="write results to this JSON (and a .md next to it)")
    p.add_argument("--trials", type=int, default=trials, help="timed rounds per contender")
    p.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    p.add_argument("--seed", type=int, default=0)


def setup(args) -> torch.device:
    """Apply --threads and resolve --device with the trainer's own rule
    (:func:`cnnreport.training.resolve_device`: auto = CUDA when there is one)."""
    from cnnreport.training import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        return resolve_device(args.device)
    except RuntimeError:
        sys.exit(f"--device {args.device}: CUDA is not available on this machine")


def _pm(s: Dict[str, float], fmt: str = "{:.1f}") -> str:
    return f"{fmt.format(s['mean'])} ± {fmt.format(s['std'])}"


def to_markdown(payload: Dict[str, Any]) -> str:
    env = payload.get("environment", {})
    lines = [f"# {payload.get('benchmark', 'benchmark')}", ""]
    if payload.get("description"):
        lines += [payload["description"], ""]
    keys = ("device_name", "device_type", "cpu_count", "torch_threads", "torch", "torchvision",
            "cuda", "cudnn", "float32_matmul_precision", "cudnn_allow_tf32", "cudnn_benchmark",
            "env_vars", "loadavg_1min", "git_commit", "time")
    lines += ["Environment: " + ", ".join(f"{k}={env[k]}" for k in keys if k in env), ""]
    if payload.get("settings"):
        lines += ["Settings: " + ", ".join(f"{k}={v}" for k, v in payload["settings"].items()), ""]
    if payload.get("command"):
        lines += ["Command: `" + payload["command"] + "`", ""]
    rows = payload.get("results", [])
    if rows:
        lines += ["| workload | part | contender | images/s (mean ± std) | s per trial | n | notes |",
                  "|---|---|---|---:|---:|---:|---|"]
        for r in rows:
            lines.append(f"| {r['workload']} | {r['part']} | {r['contender']} | "
                         f"{_pm(r['images_per_sec'])} | {_pm(r['seconds'], '{:.3f}')} | "
                         f"{r['images_per_sec']['n']} | {r.get('notes', '')} |")
        lines.append("")
    ratios = payload.get("ratios", [])
    if ratios:
        lines += ["| workload | part | ratio | mean ± std | n |", "|---|---|---|---:|---:|"]
        for r in ratios:
            lines.append(f"| {r['workload']} | {r['part']} | {r['ratio']} | {_pm(r, '{:.2f}')} | {r['n']} |")
        lines.append("")
    for note in payload.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines).rstrip() + "\n"


def write_results(path: Optional[str], payload: Dict[str, Any]) -> None:
    """Print the Markdown; with a path, also write ``path`` (JSON) and ``path`` with ``.md``."""
    md = to_markdown(payload)
    print("\n" + md)
    if not path:
        return
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(payload, indent=1, default=str) + "\n")
    p.with_suffix(".md").write_text(md)
    print(f"wrote {p} and {p.with_suffix('.md')}")
