"""What the machine under a run can do, detected at run time (never by machine name).

A CPU trains in bf16 (autocast, fp32 master weights) only when it multiplies bf16
matrices natively: AMX-BF16 tiles or AVX512-BF16 dot products.  Elsewhere bf16 is
emulated, slower than fp32, and fp32 is kept.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Dict

if TYPE_CHECKING:  # the planner asks for the capability without importing torch
    import torch

BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # the /proc/cpuinfo flags that mean native bf16 products
FP32_FLAGS = ("avx512f", "avx2")          # the widest fp32 vectors, which set an fp32 step's speed


@functools.lru_cache(maxsize=None)
def cpu_flags() -> Dict[str, bool]:
    """{flag: present} for :data:`BF16_FLAGS`, from /proc/cpuinfo, else from torch's own probes."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return {f: f in have for f in BF16_FLAGS + FP32_FLAGS}
    import torch
    probes = getattr(torch._C, "_cpu", None)  # not every torch build has these
    amx = getattr(probes, "_is_amx_tile_supported", lambda: False)
    avx = getattr(probes, "_is_avx512_bf16_supported", lambda: False)
    isa = torch.backends.cpu.get_cpu_capability().lower()  # "avx512", "avx2", "default", ...
    return {"amx_bf16": bool(amx()), "avx512_bf16": bool(avx()),
            "avx512f": isa.startswith("avx512"), "avx2": isa.startswith(("avx2", "avx512"))}


def cpu_capability() -> str:
    """``"amx_bf16"``, ``"avx512_bf16"`` or ``"none"``: the best native bf16 path of this CPU."""
    flags = cpu_flags()
    return next((f for f in BF16_FLAGS if flags[f]), "none")


def rate_class(precision: str = "auto") -> str:
    """The class of CPU whose measured training rates apply to a run of ``precision`` here:
    the bf16 capability (``"amx_bf16"``, ``"avx512_bf16"``) when the run trains in bf16, else
    ``"fp32_avx512"``, ``"fp32_avx2"`` or ``"fp32"`` by the widest fp32 vectors.  (An fp32 step
    on an AVX-512 Xeon runs about twice as fast as on a 2-core AVX2 EPYC: one "no bf16"
    class would misplan one of them.)"""
    capability = cpu_capability()
    if precision != "fp32" and capability != "none":
        return capability
    flags = cpu_flags()
    return next((f"fp32_{f.rstrip('f')}" for f in FP32_FLAGS if flags.get(f)), "fp32")


def bf16_native(device: "torch.device") -> bool:
    """True on CUDA and on a CPU with native bf16 matrix products."""
    return device.type == "cuda" or (device.type == "cpu" and cpu_capability() != "none")


def resolve_precision(device: "torch.device", precision: str) -> str:
    """``"bf16"`` or ``"fp32"``: ``"auto"`` follows the hardware (:func:`bf16_native`)."""
    if precision == "auto":
        return "bf16" if bf16_native(device) else "fp32"
    return precision
