"""What a network's layout holds, counted from the built model: its weight layers on the
main path, and the receptive field, weights and multiply-adds of its first block.

These count modules of a built ``torch.nn.Module`` (torch is imported when called), so a
chapter's table of model sizes and costs comes from the same code as the runs.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence


def _convs(module) -> list:
    from torch import nn
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def full_width_args(config: Mapping[str, Any]) -> Dict[str, Any]:
    """A run's model arguments without ``width``: build the model with them to count the
    parameters of the reports' full-size network, whatever width the profile ran."""
    return {a: v for a, v in (config.get("model_args") or {}).items() if a != "width"}


def main_path_convs(model) -> int:
    """Convolutions larger than 1x1: the main-path weight layers (the 1x1 shortcut
    projections and bottleneck reductions are not counted, as for ResNet-18's 17)."""
    return sum(1 for m in _convs(model) if m.kernel_size != (1, 1))


def receptive_field(kernels: Sequence[int]) -> int:
    """Side in pixels of the input patch one output pixel sees through stacked stride-1,
    undilated convolutions of these kernel sizes: ``1 + sum(k - 1)``."""
    return 1 + sum(k - 1 for k in kernels)


def stem_weights(model) -> int:
    """Convolution weights (no biases, no batch norm) of ``model.stem``, the first block."""
    return sum(m.weight.numel() for m in _convs(model.stem))


def stem_macs(model, side: int = 32) -> int:
    """Multiply-adds of the first block (``model.stem``) per ``side`` x ``side`` image, for a
    stem whose convolutions all keep the image size (stride 1, same padding)."""
    return sum(m.weight.numel() * side * side for m in _convs(model.stem))
