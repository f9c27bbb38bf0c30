"""What a run costs on the GPU machine (one NVIDIA H200), estimated before it runs.

The planner (:mod:`cnnreport.compute.plan`) and the queue (:mod:`cnnreport.compute.queue`) need the cost
of a run without training it: to order the runs, to say how many GPU-minutes a chapter
waits for, and to decide whether a run's next epoch still fits in a budget.

**Forward FLOPs.**  :data:`FORWARD_FLOPS` holds, per model and input shape, the forward
FLOPs of one image at width 1 and at width 0.5.  They were measured once on a CPU with
``torch.utils.flop_counter.FlopCounterMode`` (which counts 2 FLOPs per multiply-add of
every convolution and matrix product, and ignores element-wise work such as BatchNorm,
activations and pooling) on a batch of two zero images, in eval mode, with the builder's
defaults apart from ``width``; ``python -m cnnreport costs --measure`` measures them again
and prints the table in this file's format.

**Width rule.**  A layer's work is (input channels) x (output channels), so it scales
with width squared, except the first layer (fixed input channels) and the classifier
(fixed output classes), which scale linearly.  The two measured points give the
coefficients of ``flops(w) = a w^2 + b w`` exactly (``a + b = f(1)``, ``a/4 + b/2 =
f(0.5)``); the measured ratio f(0.5)/f(1) is 0.25 to 0.27 for the convolutional nets and
0.5 for the MLP, whose layers all touch a fixed side.  A config whose ``model_args``
change the architecture beyond width (``first_block``, ``hidden``, ``widths``) or a
shape the table lacks is counted the same way at call time on PyTorch's ``meta``
device (no memory, no arithmetic), and cached.

**Training FLOPs.**  A training image costs about 3x its forward pass (forward, and a
backward that computes gradients with respect to both activations and weights); an
evaluation image costs one forward pass.  Per epoch the trainer trains on the training
split and evaluates the validation split and the test set (every ``eval_every`` epochs),
and evaluates the test set once more at the end on the selected weights.

**Seconds on the H200.**  The trainer runs eagerly in bf16 autocast with channels-last,
one Python process per run.  A step cannot take less than the host needs to launch its
kernels, nor less than the GPU needs to run them, and the two overlap, so::

    step seconds = max(host seconds per step, step FLOPs / effective FLOP/s)

:data:`FAMILIES` states, per model family, the assumed effective throughput (a share of
the H200's ~790 TFLOP/s dense bf16 matrix peak: small CNNs on 32x32 images with batches
of 32-128 reach a few per cent of it in eager mode) and the host time per step (about
10 us per launched kernel; a ResNet-18 step launches a few hundred kernels).  Each epoch
adds :data:`EPOCH_OVERHEAD_S` (evaluation setup, the per-epoch host syncs, the CSV log)
plus the checkpoint write (weights, optimizer state and the best weights in fp32, at
:data:`CHECKPOINT_BYTES_PER_S`), and each run :data:`RUN_OVERHEAD_S` (model build,
cuDNN autotuning, the first epoch's warm-up).  These are assumptions until measured:
``bench/queue_speed.py`` measures training images/s per model on the GPU machine and
prints the entries of :data:`MEASURED`, which then replace the FLOP estimate of that
model (scaled to other widths by the FLOP ratio).

Early stopping: the estimate is for all ``epochs`` of the config, an upper bound for a
run with ``early_stopping`` set (report 000's runs usually stop well before it).

Loss-landscape probe runs (:mod:`cnnreport.core.landscape`) add, every ``probe_every`` steps,
``1 + len(eta_factors)`` extra forward+backward passes of the batch in fp32 (taken as 4x
slower than bf16) and their host time.

Nothing here imports torch at import time; the ``meta`` fallback imports it when used.
"""
from __future__ import annotations

import argparse
import math
from functools import lru_cache
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

H200_BF16_PEAK = 790e12        # FLOP/s, dense bf16 matrix products (measured on the device: 769-798)

# (model, (C, H, W)) -> (forward FLOPs per image at width 1, at width 0.5).
# Measured with FlopCounterMode as described above (torch 2.14, CPU, eval mode, batch 2).
FORWARD_FLOPS: Dict[Tuple[str, Tuple[int, int, int]], Tuple[float, float]] = {
    ("alexnet_fmnist", (1, 28, 28)): (200_110_080, 50_657_280),
    ("basic_cnn", (3, 32, 32)): (22_751_232, 6_132_736),
    ("improved_cnn", (3, 32, 32)): (1_077_301_248, 270_215_168),
    ("lenet", (1, 28, 28)): (563_200, 184_320),
    ("mlp", (1, 28, 28)): (1_588_000, 794_000),
    ("res9", (3, 32, 32)): (429_265_920, 108_202_496),
    ("res9", (1, 28, 28)): (336_190_464, 84_274_688),
    ("residual_cnn", (3, 32, 32)): (842_481_664, 211_525_632),
    ("residual_cnn", (1, 28, 28)): (643_237_888, 161_055_744),
    ("resnet18", (3, 32, 32)): (1_110_845_440, 278_598_656),
    ("resnet18", (1, 28, 28)): (911_601_664, 228_128_768),
    ("resnet9", (3, 32, 32)): (758_523_904, 190_518_272),
    ("resnet9", (1, 28, 28)): (548_270_080, 137_295_872),
    ("simp_res9", (3, 32, 32)): (161_879_040, 41_355_776),
    ("simp_res9", (1, 28, 28)): (124_836_864, 31_436_288),
    ("vgg_a", (3, 32, 32)): (306_587_648, 77_534_208),
    ("vgg_a_bn", (3, 32, 32)): (306_587_648, 77_534_208),
    ("vgg_fmnist", (1, 28, 28)): (235_008_000, 58_980_352),
}

# model -> trainable parameters at width 1 and 0.5 (same measurement, on the first shape the
# model takes; for checkpoint sizes).
PARAMS: Dict[str, Tuple[int, int]] = {
    "alexnet_fmnist": (2_245_002, 563_402), "basic_cnn": (1_147_466, 288_554),
    "improved_cnn": (12_906_250, 3_231_626), "lenet": (44_374, 11_352), "mlp": (795_010, 397_510),
    "res9": (2_474_314, 620_714), "residual_cnn": (2_816_074, 715_818),
    "resnet18": (11_173_962, 2_797_610), "resnet9": (6_573_120, 1_646_112),
    "simp_res9": (851_594, 214_858), "vgg_a": (9_750_922, 2_440_394),
    "vgg_a_bn": (9_756_426, 2_443_146), "vgg_fmnist": (2_592_202, 649_962),
}

DATASET_SHAPES = {"cifar10": (3, 32, 32), "mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28)}
# (train, test) sizes: the one table is cnnreport.core.data.KNOWN (data.sizes reads any other file)

# family -> (share of the bf16 peak reached, host seconds per training step).  Assumptions.
FAMILIES: Dict[str, Tuple[float, float]] = {
    "resnet": (0.06, 0.004),     # resnet18, res9, simp_res9, resnet9, residual_cnn
    "convnet": (0.04, 0.002),    # basic_cnn, improved_cnn, vgg_*, alexnet_fmnist, lenet
    "mlp": (0.01, 0.001),        # two matrix products; launch-bound at any batch size
}
FAMILY_OF = {"resnet18": "resnet", "res9": "resnet", "simp_res9": "resnet", "resnet9": "resnet",
             "residual_cnn": "resnet", "mlp": "mlp"}
EVAL_BATCH_HOST_S = 0.002      # host seconds per evaluation batch
EPOCH_OVERHEAD_S = 0.5
RUN_OVERHEAD_S = 5.0
CHECKPOINT_BYTES_PER_S = 1e9
FP32_SLOWDOWN = 4.0            # probes run in fp32

# model -> training images/s on the H200 at width 1, batch 128, bf16 eager, one job
# (filled from bench/queue_speed.py once measured there; empty: FLOP estimates are used).
MEASURED: Dict[str, float] = {}

# CPU rate class (cnnreport.core.hardware.rate_class) -> model -> training images/s of our
# trainer's step, 2 threads, at the batch most of the model's full-profile runs use: the
# column of ``bench/cpu_speed.py`` that precision "auto" trains there (``ours_bf16`` where bf16
# is native, else ``ours_fp32``), printed by the bench as this entry.  A class or model not
# measured falls back to the FLOP estimate below.
MEASURED_CPU: Dict[str, Dict[str, float]] = {
    # an AMX-BF16 Xeon, 2 cores, idle: ``ours_bf16`` of bench/results/cpu/cpu_speed.json
    "amx_bf16": {"alexnet_fmnist": 1867, "basic_cnn": 6172, "improved_cnn": 303, "lenet": 7356, "mlp": 12555,
                 "res9": 535, "residual_cnn": 369, "resnet18": 212, "resnet9": 335, "simp_res9": 680,
                 "vgg_a": 455, "vgg_a_bn": 440, "vgg_fmnist": 1606},
    # the same Xeon's fp32 path (AVX-512), for runs that ask for fp32: its ``ours_fp32``
    "fp32_avx512": {"alexnet_fmnist": 522, "basic_cnn": 2448, "improved_cnn": 85, "lenet": 6920, "mlp": 9637,
                    "res9": 152, "residual_cnn": 87, "resnet18": 70, "resnet9": 106, "simp_res9": 244,
                    "vgg_a": 296, "vgg_a_bn": 276, "vgg_fmnist": 396},
    # a 2-core AMD EPYC (Zen 3, AVX2, no bf16): ``ours_fp32``, bench/results/cpu/cpu_speed_fp32_avx2.json
    "fp32_avx2": {"alexnet_fmnist": 156, "basic_cnn": 908, "improved_cnn": 29, "lenet": 5019, "mlp": 9919,
                  "res9": 64, "residual_cnn": 40, "resnet18": 28, "resnet9": 46, "simp_res9": 100, "vgg_a": 85,
                  "vgg_a_bn": 81, "vgg_fmnist": 141},
}
MEASURED_CPU_THREADS = 2

# An assumed CPU, for the queue's decisions when it runs on a CPU (tests, smoke runs):
# about 20 GFLOP/s of fp32 convolution per core, 0.5 ms of host time per step.  The
# queue corrects any of these estimates by the epoch times it observes.
CPU_FLOPS_PER_CORE = 20e9
CPU_STEP_HOST_S = 0.0005
CPU_RUN_OVERHEAD_S = 2.0       # loading a dataset and building the model on a CPU

_WIDTH_ONLY = {"width", "activation", "dropout", "init", "batch_norm"}


def family(model: str) -> str:
    return FAMILY_OF.get(model, "convnet")


def _fit(f1: float, fh: float, width: float) -> float:
    a = 2.0 * (f1 - 2.0 * fh)
    b = f1 - a
    return max(a * width * width + b * width, 0.0)


@lru_cache(maxsize=256)
def _meta_flops(model: str, shape: Tuple[int, int, int], args_json: str) -> float:
    """Forward FLOPs per image counted on the meta device (no memory, no arithmetic)."""
    import json

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ..models import MODELS
    args = json.loads(args_json)
    with torch.device("meta"):
        net = MODELS.build(model, num_classes=10, in_channels=shape[0], **args).eval()
        x = torch.zeros(2, *shape)
        with FlopCounterMode(display=False) as fc:
            net(x)
    return fc.get_total_flops() / 2


def _non_default(model: str, args: Dict[str, Any]) -> Dict[str, Any]:
    """``args`` without the entries equal to the builder's defaults (``hidden=[1000]`` of the
    MLP names the table's model)."""
    try:
        from ..core.config import keyword_defaults
        from ..models import MODELS
        defaults = keyword_defaults(MODELS.get(model), ("num_classes", "in_channels"))
    except Exception:  # noqa: BLE001 - unknown model: keep the args as given
        return args
    norm = lambda v: list(v) if isinstance(v, tuple) else v
    return {k: v for k, v in args.items() if k == "width" or norm(v) != norm(defaults.get(k, object()))}


def forward_flops(model: str, dataset: str, model_args: Optional[Mapping[str, Any]] = None) -> float:
    """Forward FLOPs of one image of ``dataset`` through ``model`` with ``model_args``."""
    model = model.lower()
    args = _non_default(model, dict(model_args or {}))
    shape = DATASET_SHAPES.get(dataset, (3, 32, 32))
    width = float(args.get("width", 1.0))
    entry = FORWARD_FLOPS.get((model, shape))
    if entry is not None and set(args) <= _WIDTH_ONLY:
        return _fit(entry[0], entry[1], width)
    import json
    try:
        return _meta_flops(model, shape, json.dumps(args, sort_keys=True, default=str))
    except Exception:  # noqa: BLE001 - an estimate must not fail a plan; fall back to the table
        if entry is not None:
            return _fit(entry[0], entry[1], width)
        return _fit(*FORWARD_FLOPS[("resnet18", (3, 32, 32))], width)


def num_params(model: str, model_args: Optional[Mapping[str, Any]] = None) -> float:
    p1, ph = PARAMS.get(model.lower(), PARAMS["resnet18"])
    return _fit(p1, ph, float((model_args or {}).get("width", 1.0)))


def dataset_sizes(name: str) -> Tuple[int, int]:
    """(train, test) images of a dataset (:func:`cnnreport.core.data.sizes`); CIFAR-10's for a
    file that is not there, so an estimate never fails."""
    from ..core.data import sizes
    return sizes(name) or sizes("cifar10")


def split_sizes(config: Mapping[str, Any]) -> Tuple[int, int, int]:
    """(training, validation, test) images of a run config, as the trainer splits them."""
    n_train, n_test = dataset_sizes(config.get("dataset", "cifar10"))
    vf = float(config.get("val_fraction", 0.2))
    n_val = int(round(n_train * vf))
    n_tr = n_train - n_val
    cap = lambda n, c: n if c is None else min(n, int(c))
    return cap(n_tr, config.get("train_subset")), cap(n_val, config.get("val_subset")), \
        cap(n_test, config.get("test_subset"))


def cpu_rate(model: str, threads: int, rate_class: Optional[str] = None,
             precision: str = "auto") -> Optional[float]:
    """Measured training images/s of ``model`` in this CPU's rate class (:data:`MEASURED_CPU`)
    at ``precision``, scaled to ``threads``; None where not measured.  ``rate_class`` defaults
    to this CPU's (:func:`cnnreport.core.hardware.rate_class`)."""
    if rate_class is None:
        from ..core.hardware import rate_class as this_cpu
        rate_class = this_cpu(precision)
    rate = MEASURED_CPU.get(rate_class, {}).get(model)
    return None if rate is None else rate * max(1, threads) / MEASURED_CPU_THREADS


def _device_rates(model: str, device: str, threads: int) -> Tuple[float, float]:
    """(effective FLOP/s, host seconds per step) on ``device`` (``h200`` or ``cpu``)."""
    if device == "cpu":
        return CPU_FLOPS_PER_CORE * max(1, threads), CPU_STEP_HOST_S
    share, host = FAMILIES[family(model)]
    return H200_BF16_PEAK * share, host


def epoch_seconds(config: Mapping[str, Any], device: str = "h200", threads: int = 1,
                  probe: Optional[Mapping[str, Any]] = None) -> float:
    """Estimated seconds of one epoch of ``config`` (training, evaluation, checkpoint)."""
    model = str(config.get("model", "basic_cnn")).lower()
    margs = config.get("model_args") or {}
    fwd = forward_flops(model, config.get("dataset", "cifar10"), margs)
    n_tr, n_val, n_te = split_sizes(config)
    bs = int(config.get("batch_size", 128))
    ebs = int(config.get("eval_batch_size", 1024))
    flops_s, host = _device_rates(model, device, threads)
    steps = max(1, math.ceil(n_tr / bs))
    step_device = 3.0 * fwd * bs / flops_s
    precision = str(config.get("precision", "auto"))  # a twin may ask for fp32 on any CPU
    measured = cpu_rate(model, threads, precision=precision) if device == "cpu" else MEASURED.get(model)
    if measured:
        at_width_1 = forward_flops(model, config.get("dataset", "cifar10"), {**margs, "width": 1.0})
        step_device = bs / measured * fwd / at_width_1
    train = steps * max(host, step_device) if device != "cpu" else steps * (host + step_device)
    every = max(1, int(config.get("eval_every", 1)))
    n_eval = (n_val + n_te) / every
    eval_s = n_eval * fwd / flops_s + math.ceil(n_eval / ebs) * EVAL_BATCH_HOST_S
    if measured:  # an evaluation image is one forward pass: a third of a training image
        eval_s = n_eval * step_device / bs / 3.0 + math.ceil(n_eval / ebs) * EVAL_BATCH_HOST_S
    ckpt = 0.0
    if int(config.get("checkpoint_every", 1)):
        states = 3 if str(config.get("optimizer", "sgd")).lower() in ("adam", "adamw") else 2
        ckpt = (states + 1) * 4 * num_params(model, margs) / CHECKPOINT_BYTES_PER_S
    extra = 0.0
    if probe:
        etas = len(probe.get("eta_factors") or (0.5, 1.0, 2.0, 3.0, 4.0))
        probes = steps / max(1, int(probe.get("probe_every", 10)))
        extra = probes * (1 + etas) * (3.0 * fwd * bs / flops_s * FP32_SLOWDOWN + 3 * host)
    return train + eval_s + ckpt + extra + (EPOCH_OVERHEAD_S if device != "cpu" else 0.05)


def run_seconds(config: Mapping[str, Any], device: str = "h200", threads: int = 1,
                probe: Optional[Mapping[str, Any]] = None, epochs_done: int = 0) -> float:
    """Estimated seconds of the epochs still to train (all of ``epochs``, an upper bound
    with early stopping), plus the run's start-up and the final test evaluation."""
    epochs = int(config.get("epochs", 10)) - int(epochs_done)
    if epochs <= 0:
        return 0.0
    per = epoch_seconds(config, device, threads, probe)
    overhead = RUN_OVERHEAD_S if device != "cpu" else CPU_RUN_OVERHEAD_S
    return overhead + epochs * per


def first_epoch_seconds(config: Mapping[str, Any], device: str = "h200", threads: int = 1,
                        probe: Optional[Mapping[str, Any]] = None) -> float:
    """Estimated seconds from starting a run to the end of its first epoch."""
    overhead = RUN_OVERHEAD_S if device != "cpu" else CPU_RUN_OVERHEAD_S
    return overhead + epoch_seconds(config, device, threads, probe)


def checkpoint_bytes(config: Mapping[str, Any]) -> float:
    """Approximate size of a run's ``last.pt`` (weights, optimizer state, best weights)."""
    states = 3 if str(config.get("optimizer", "sgd")).lower() in ("adam", "adamw") else 2
    return (states + 1) * 4 * num_params(str(config.get("model", "basic_cnn")), config.get("model_args"))


# -- measuring the table again -----------------------------------------------------------
def measure(models: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Forward FLOPs (width 1 and 0.5) per model and dataset shape, and parameter counts,
    measured as the module docstring says.  Imports torch."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ..models import MODELS, count_params
    flops: Dict[Tuple[str, Tuple[int, int, int]], Tuple[float, float]] = {}
    params: Dict[str, Tuple[int, int]] = {}
    for m in models or MODELS.names():
        for shape in sorted(set(DATASET_SHAPES.values()), reverse=True):
            row, counts = [], []
            try:
                for w in (1.0, 0.5):
                    net = MODELS.build(m, num_classes=10, in_channels=shape[0], width=w).eval()
                    with FlopCounterMode(display=False) as fc, torch.no_grad():
                        net(torch.zeros(2, *shape))
                    row.append(fc.get_total_flops() / 2)
                    counts.append(count_params(net))
            except Exception:  # noqa: BLE001 - this model does not take this input shape
                continue
            params.setdefault(m, tuple(counts))  # the first shape it takes: (3, 32, 32) if any
            flops[(m, shape)] = tuple(row)
    return {"flops": flops, "params": params}


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="cnnreport costs", description=__doc__.split("\n\n")[0])
    p.add_argument("--measure", action="store_true", help="measure FORWARD_FLOPS and PARAMS again and print them")
    a = p.parse_args(argv)
    if not a.measure:
        for (m, shape), (f1, fh) in sorted(FORWARD_FLOPS.items()):
            print(f"{m:16s} {str(shape):12s} {f1 / 1e6:10.1f} MFLOP (width 1) {fh / 1e6:9.1f} (width 0.5)")
        return 0
    t = measure()
    print("FORWARD_FLOPS = {")
    for (m, shape), (f1, fh) in sorted(t["flops"].items()):
        print(f"    ({m!r}, {shape}): ({int(f1):_}, {int(fh):_}),")
    print("}\nPARAMS = {")
    for m, (p1, ph) in sorted(t["params"].items()):
        print(f"    {m!r}: ({p1:_}, {ph:_}),")
    print("}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
