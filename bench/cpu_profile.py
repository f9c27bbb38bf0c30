"""Where a CPU training step spends its time, by kind of operation.

For each model asked (default: the two slowest to gain from bf16, ``simp_res9`` and
``vgg_a``, and ``alexnet_fmnist``), our trainer's step (as ``bench/cpu_speed.py`` builds it,
batch resident in memory) runs under ``torch.profiler`` for a few steps after a warm-up,
eager and under ``torch.compile``.  Each op's self CPU time goes to one kind: convolution
(forward, backward), BatchNorm, activation, residual add and other element-wise work,
pooling, matrix products, the optimizer, copies and layout changes, Inductor's fused
kernels (compiled steps only) and the rest.  The second table gives, for the model's
convolution shapes, the time and TFLOP/s of each shape's forward and backward: it shows
which layers keep the matrix units idle.  The third times the 3x3 layers of ``vgg_a``'s small
maps two ways, oneDNN's convolution and the same product as one im2col matrix product.

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. .venv/bin/python bench/cpu_profile.py \\
        --out bench/results/cpu/cpu_profile.json
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpu_speed as CS  # noqa: E402

# kind -> aten op names (without "aten::" and a trailing "_" of the in-place form)
ATEN_KINDS = {
    "conv forward": {"mkldnn_convolution", "_convolution", "convolution", "conv2d"},
    "conv backward": {"convolution_backward"},
    "batchnorm": {"native_batch_norm", "native_batch_norm_backward", "batch_norm", "_batch_norm_impl_index",
                  "_native_batch_norm_legit", "_native_batch_norm_legit_functional", "batch_norm_backward"},
    "activation": {"relu", "threshold_backward", "clamp_min", "leaky_relu", "leaky_relu_backward", "gelu",
                   "gelu_backward", "elu", "elu_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward"},
    "pooling": {"max_pool2d_with_indices", "max_pool2d_with_indices_backward", "adaptive_avg_pool2d",
                "_adaptive_avg_pool2d", "_adaptive_avg_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"},
    "matmul": {"mm", "addmm", "bmm", "linear", "matmul"},
    "loss": {"_log_softmax", "_log_softmax_backward_data", "nll_loss_forward", "nll_loss_backward",
             "mse_loss", "mse_loss_backward", "cross_entropy_loss"},
    "add and other element-wise": {"add", "mul", "div", "sub", "fill", "zero", "where", "sum", "scatter_reduce",
                                   "lerp", "addcmul", "addcdiv", "sqrt", "neg"},
    "copies and layout": {"copy", "_to_copy", "contiguous", "clone", "empty", "empty_strided", "cat", "to",
                          "as_strided", "view", "permute"},
}
# other profiler events by a part of their name: the optimizer's and Inductor's own
NAMED_KINDS = [("optimizer", ("Optimizer.", "_foreach_", "_fused_sgd", "_fused_adam")),
               ("fused (Inductor)", ("CompiledFxGraph", "cpp_fused", "CompiledFunction", "Torch-Compiled"))]


def kind_of(name: str) -> str:
    """The kind of a profiler event: an aten op by its name, else by a part of the name."""
    if name.startswith("aten::"):
        base = name[len("aten::"):]
        for kind, ops in ATEN_KINDS.items():
            if base in ops or base.rstrip("_") in ops:
                return kind
    for kind, parts in NAMED_KINDS:
        if any(part in name for part in parts):
            return kind
    return "other"


def profile_step(row: Dict[str, Any], compiled: bool, steps: int) -> Dict[str, Any]:
    """ms per step by kind, and per convolution shape (forward, backward), of our bf16 step."""
    step = CS.ours_contender(row, "bf16", "default" if compiled else "")
    for _ in range(2):
        step()  # warm-up (and, compiled, the compilation)
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            step()
    wall_ms = (time.perf_counter() - t0) * 1e3 / steps
    kinds: Dict[str, float] = collections.Counter()
    ops: Dict[str, float] = collections.Counter()
    convs: Dict[str, Dict[str, float]] = collections.defaultdict(dict)
    for e in prof.key_averages(group_by_input_shape=True):
        ms = e.self_cpu_time_total / 1e3 / steps
        kind = kind_of(e.key)
        kinds[kind] += ms
        ops[e.key] += ms
        if kind in ("conv forward", "conv backward") and e.input_shapes and len(e.input_shapes[0]) == 4:
            x = e.input_shapes[0] if kind == "conv forward" else e.input_shapes[1]   # the conv's input
            w = e.input_shapes[1] if kind == "conv forward" else e.input_shapes[2]   # (O, C, k, k)
            if len(w) != 4:
                continue
            name = f"{x[1]}->{w[0]} k{w[2]} @ {x[2]}x{x[3]}"
            convs[name][kind] = convs[name].get(kind, 0.0) + ms
            convs[name]["input"], convs[name]["weight"] = x, w
    total = sum(kinds.values())
    return {"wall_ms_per_step": wall_ms, "profiled_ms_per_step": total,
            "kinds_ms": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
            "ops_ms": {k: v for k, v in ops.most_common(30)}, "convs": convs}


def conv_rates(convs: Dict[str, Dict[str, Any]], batch: int) -> List[Dict[str, Any]]:
    """Per conv shape: ms and TFLOP/s of its forward and backward (twice the forward's FLOPs).
    The FLOPs assume the output map as large as the input (stride 1, "same" padding): a
    strided conv's rate reads too high by the stride squared, an unpadded one's a little high."""
    out = []
    for name, c in convs.items():
        x, w = c["input"], c["weight"]
        flops = 2.0 * batch * w[0] * w[1] * w[2] * w[3] * x[2] * x[3]
        fwd, bwd = c.get("conv forward", 0.0), c.get("conv backward", 0.0)
        out.append({"conv": name, "forward_ms": fwd, "backward_ms": bwd,
                    "forward_tflops": flops / (fwd * 1e-3) / 1e12 if fwd else None,
                    "backward_tflops": 2 * flops / (bwd * 1e-3) / 1e12 if bwd else None})
    return sorted(out, key=lambda r: -(r["forward_ms"] + r["backward_ms"]))


def im2col_conv(x: torch.Tensor, w: torch.Tensor, pad: int) -> torch.Tensor:
    """A stride-1 convolution as one matrix product over gathered patches, channels-last:
    (B*H*W, k*k*C) @ (k*k*C, O).  The same FLOPs as oneDNN's convolution, but one large GEMM
    however small the map is."""
    B, C, H, W = x.shape
    O, _, k, _ = w.shape
    xh = torch.nn.functional.pad(x.permute(0, 2, 3, 1), (0, 0, pad, pad, pad, pad))  # (B, H+2p, W+2p, C)
    Ho, Wo = H + 2 * pad - k + 1, W + 2 * pad - k + 1
    cols = torch.cat([xh[:, i:i + Ho, j:j + Wo, :] for i in range(k) for j in range(k)], dim=3)  # (B, Ho, Wo, k*k*C)
    out = cols.reshape(B * Ho * Wo, k * k * C) @ w.permute(0, 2, 3, 1).reshape(O, k * k * C).t()  # (B*Ho*Wo, O)
    return out.view(B, Ho, Wo, O).permute(0, 3, 1, 2)


# (batch, in channels, out channels, map side) of the 3x3 layers on small maps in vgg_a
SMALL_MAPS = [(128, 512, 512, 2), (128, 512, 512, 4), (128, 256, 512, 4), (128, 256, 256, 8)]


def small_maps(rounds: int = 3) -> List[Dict[str, Any]]:
    """Forward + backward of a bf16 3x3 convolution on a small map: oneDNN's kernel against
    :func:`im2col_conv`, interleaved, ms and TFLOP/s of each (best of ``rounds``)."""
    out = []
    for B, C, O, H in SMALL_MAPS:
        conv = torch.nn.Conv2d(C, O, 3, padding=1, bias=False).to(memory_format=torch.channels_last)
        x = torch.randn(B, C, H, H).contiguous(memory_format=torch.channels_last).requires_grad_()
        ways = {"onednn": lambda: conv(x), "im2col": lambda: im2col_conv(x, conv.weight, 1)}
        best = {k: float("inf") for k in ways}
        for r in range(rounds + 1):  # the first round warms up
            for k, f in ways.items():
                t0 = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    y = f()
                y.float().sum().backward()
                if r:
                    best[k] = min(best[k], time.perf_counter() - t0)
        flops = 3 * 2.0 * B * C * O * 9 * H * H  # forward and a backward of twice its work
        out.append({"conv": f"{C}->{O} k3 @ {H}x{H}", "batch": B,
                    **{f"{k}_ms": v * 1e3 for k, v in best.items()},
                    **{f"{k}_tflops": flops / v / 1e12 for k, v in best.items()}})
        print(f"  {out[-1]['conv']:22} oneDNN {best['onednn'] * 1e3:6.1f} ms, im2col GEMM "
              f"{best['im2col'] * 1e3:6.1f} ms ({best['onednn'] / best['im2col']:.2f}x)", flush=True)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["simp_res9", "vgg_a", "alexnet_fmnist"])
    p.add_argument("--steps", type=int, default=3, help="profiled steps per model and mode")
    p.add_argument("--no-compile", action="store_true", help="profile the eager step only")
    p.add_argument("--out", help="write the profile as JSON here")
    a = p.parse_args(argv)
    rows = {r["model"]: r for r in CS.plan_rows()}
    unknown = [m for m in a.models if m not in rows]
    if unknown:
        p.error(f"not a model of the full plan: {', '.join(unknown)} (choose from {', '.join(sorted(rows))})")
    out = []
    for m in a.models:
        r = rows[m]
        entry = {"model": m, "batch": r["batch"], "dataset": r["dataset"], "modes": {}}
        for mode in ("eager",) + (() if a.no_compile else ("compiled",)):
            prof = profile_step(r, mode == "compiled", a.steps)
            prof["conv_rates"] = conv_rates(prof.pop("convs"), r["batch"])
            entry["modes"][mode] = prof
            share = {k: v / prof["profiled_ms_per_step"] for k, v in prof["kinds_ms"].items()}
            print(f"{m} ({mode}): {prof['wall_ms_per_step']:.0f} ms a step; "
                  + ", ".join(f"{k} {s:.0%}" for k, s in share.items() if s >= 0.02), flush=True)
            for c in prof["conv_rates"][:4]:
                rate = lambda v: "-" if v is None else f"{v:.2f}"
                print(f"    {c['conv']:24} fwd {c['forward_ms']:6.1f} ms ({rate(c['forward_tflops'])} TFLOP/s)"
                      f"  bwd {c['backward_ms']:6.1f} ms ({rate(c['backward_tflops'])} TFLOP/s)")
        out.append(entry)
    from cnnreport.core.hardware import cpu_capability
    print("3x3 convolutions on small maps, forward + backward in bf16:")
    payload = {"cpu_capability": cpu_capability(), "threads": torch.get_num_threads(), "torch": torch.__version__,
               "rows": out, "small_maps": small_maps(), "time": time.strftime("%Y-%m-%d %H:%M:%S %z")}
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
