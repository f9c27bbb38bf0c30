"""Shared building blocks for the model zoo.

Everything that more than one architecture needs lives here, parameterized rather
than copied: the activation table, a conv(+BN)(+activation) unit, the two residual
blocks (basic and simplified bottleneck), a generic residual wrapper and the channel
width multiplier.  The architectures in the sibling modules are thin builders over
these classes.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Optional

import torch
from torch import nn

from cnnreport.core.registry import Registry

# --------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------
#: name -> factory returning a *fresh* ``nn.Module`` (keyword arguments go to the torch
#: constructor, e.g. ``ACTIVATIONS.build("leaky_relu", negative_slope=0.1)``).  Fresh
#: instances matter: RReLU carries state (its training flag) and forward hooks used by
#: the visualisation code must see one module per position in the network.
#: Metadata: ``torch_class``, the ``torch.nn`` class built.
ACTIVATIONS = Registry("activation", defaults={"torch_class": None})


def _register_activation(name: str, cls: Callable[..., nn.Module]) -> None:
    def make(**kwargs: Any) -> nn.Module:
        return cls(**kwargs)

    make.__name__ = name
    make.__doc__ = f"torch.nn.{cls.__name__} (fresh instance; kwargs go to its constructor)"
    ACTIVATIONS.register(name, make, torch_class=cls)


# None of these is in-place: an in-place activation overwrites the tensor a forward
# hook (feature maps, landscape probes) may still be holding.
for _name, _cls in [
    ("relu", nn.ReLU),
    ("leaky_relu", nn.LeakyReLU),  # default negative slope 0.01
    ("gelu", nn.GELU),
    ("mish", nn.Mish),
    ("elu", nn.ELU),
    ("rrelu", nn.RReLU),  # random slope in training, mean slope in eval
    ("sigmoid", nn.Sigmoid),
    ("tanh", nn.Tanh),
    ("silu", nn.SiLU),
]:
    _register_activation(_name, _cls)
del _name, _cls


def check_activation(name: Optional[str]) -> None:
    """Fail early (at model construction, with the allowed names) on a bad name."""
    if name is not None:
        ACTIVATIONS.get(name)


# --------------------------------------------------------------------------------------
# Width multiplier
# --------------------------------------------------------------------------------------
def scaled(channels: int, width: float) -> int:
    """``channels * width`` rounded half-up.

    Used for quick profiles: ``width=0.25`` gives a network with ~1/16 of the
    parameters and the same topology.  A width that would round a layer to zero channels
    is an error naming the smallest width that layer allows (never clamped silently).
    """
    if width <= 0:
        raise ValueError(f"width must be > 0, got {width!r}")
    n = int(channels * width + 0.5)
    if n < 1:
        raise ValueError(f"width {width:g} rounds a layer of {channels} channels to zero; "
                         f"this model needs width >= {0.5 / channels:.3g}")
    return n


# --------------------------------------------------------------------------------------
# Conv unit
# --------------------------------------------------------------------------------------
class ConvBNAct(nn.Sequential):
    """conv(k x k) -> [BatchNorm2d] -> [activation].

    Args:
        in_channels, out_channels, kernel_size, stride: as for ``nn.Conv2d``.
        padding: defaults to ``kernel_size // 2`` ("same" size for odd kernels at
            stride 1); LeNet passes 0.
        batch_norm: add a BatchNorm2d after the conv.
        activation: activation name, or None for no activation (the last conv of a
            residual branch is activated only after the addition).
        bias: conv bias.  Defaults to ``not batch_norm`` because BN's shift makes a
            conv bias redundant; some reference models (ImprovedCNN, VGG-A-BN) keep
            it anyway, and their exact parameter counts depend on it.

    Children are named ``conv``, ``bn`` and ``act`` so visualisation code can reach
    e.g. ``model.stem[0].conv.weight``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        *,
        padding: Optional[int] = None,
        batch_norm: bool = True,
        activation: Optional[str] = "relu",
        bias: Optional[bool] = None,
    ) -> None:
        check_activation(activation)
        if padding is None:
            padding = kernel_size // 2
        if bias is None:
            bias = not batch_norm
        layers: "OrderedDict[str, nn.Module]" = OrderedDict()
        layers["conv"] = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
        )
        if batch_norm:
            layers["bn"] = nn.BatchNorm2d(out_channels)
        if activation is not None:
            layers["act"] = ACTIVATIONS.build(activation)
        super().__init__(layers)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity when the shape is kept, else a 1x1 conv + BN projection."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return ConvBNAct(in_channels, out_channels, 1, stride, activation=None)


# --------------------------------------------------------------------------------------
# Residual blocks.  Both share one constructor signature,
#   Block(in_channels, out_channels, stride, activation)
# so the generic ResNet can take either as its ``block`` argument.
# --------------------------------------------------------------------------------------
class BasicBlock(nn.Module):
    """ResNet basic block: act(conv3x3-BN-act-conv3x3-BN(x) + shortcut(x)).

    The stride sits on the first conv; the shortcut projects (1x1 conv + BN) when the
    stride or the channel count changes.  Convs have no bias (BN follows).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 activation: str = "relu") -> None:
        super().__init__()
        self.conv1 = ConvBNAct(in_channels, out_channels, 3, stride, activation=activation)
        self.conv2 = ConvBNAct(out_channels, out_channels, 3, 1, activation=None)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.act = ACTIVATIONS.build(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, Cin, H, W)
        out = self.conv2(self.conv1(x))  # (B, Cout, H/s, W/s)
        return self.act(out + self.shortcut(x))


class SimpleBottleneck(nn.Module):
    """Simplified bottleneck: act(conv1x1(C_in -> C/r)-BN-act-conv3x3(C/r -> C)-BN(x)
    + shortcut(x)), with ``r = reduction`` (default 2).

    The standard bottleneck is 1x1 reduce -> 3x3 -> 1x1 expand (x4).  This one drops
    the expanding 1x1 and lets the 3x3 restore the width, so a block costs
    ``C_in*C/r + 9*C*C/r`` weights instead of the basic block's ``9*C_in*C + 9*C*C``
    (about 28% of it at r=2 for C_in=C).  The stride sits on the 3x3 conv, not on the
    1x1 (a strided 1x1 would simply drop 3 of every 4 pixels).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 activation: str = "relu", reduction: int = 2) -> None:
        super().__init__()
        mid = max(1, out_channels // reduction)
        self.reduce = ConvBNAct(in_channels, mid, 1, 1, activation=activation)
        self.conv = ConvBNAct(mid, out_channels, 3, stride, activation=None)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.act = ACTIVATIONS.build(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, Cin, H, W)
        out = self.conv(self.reduce(x))  # (B, Cout, H/s, W/s)
        return self.act(out + self.shortcut(x))


class Residual(nn.Module):
    """``x + branch(x)`` with no activation after the sum (the fast-ResNet-9 style,
    where every conv in the branch already ends in BN + activation)."""

    def __init__(self, branch: nn.Module) -> None:
        super().__init__()
        self.branch = branch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


BlockFactory = Callable[[int, int, int, str], nn.Module]
