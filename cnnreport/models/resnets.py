"""Residual networks.

* :class:`ResNet` -- generic stem + stages of residual blocks + pooled fc head.
  Builders: ``residual_cnn`` (report 000), ``resnet18`` (CIFAR variant, report 001),
  ``res9`` and ``simp_res9`` (report 001, layout chosen here, see ``res9``).
* :class:`ResNet9` -- the fast CIFAR ResNet-9 of report 003 (``resnet9``).
"""
from __future__ import annotations

import functools
from typing import Optional, Sequence

import torch
from torch import nn

from cnnreport.models._api import MODELS
from cnnreport.models.layers import (
    BasicBlock,
    BlockFactory,
    ConvBNAct,
    Residual,
    SimpleBottleneck,
    check_activation,
    scaled,
)


def validate_kernels(first_block: Sequence[int]) -> list:
    """Check a stem kernel list: a non-empty list of odd positive ints."""
    if isinstance(first_block, (str, bytes)) or not isinstance(first_block, (list, tuple)):
        raise ValueError(f"first_block must be a list of kernel sizes such as [3] or "
                         f"[3, 3], got {first_block!r}")
    # Odd kernels keep the map size with padding k // 2; bool is an int subclass.
    bad = [k for k in first_block
           if isinstance(k, bool) or not isinstance(k, int) or k < 1 or k % 2 == 0]
    if not first_block or bad:
        raise ValueError(f"first_block must be a non-empty list of odd positive ints "
                         f"such as [3], [7], [3, 3] or [3, 3, 3]; got {first_block!r}")
    return list(first_block)


class ResNet(nn.Module):
    """Stem -> stages of residual blocks -> adaptive avg-pool -> fc.

    Args:
        widths, depths: output channels and block count of each stage.  The first
            block of every stage but the first has stride 2.
        block: ``block(in_ch, out_ch, stride, activation)`` -> module.
        stem_kernels: kernel sizes of the stem's conv+BN+act layers (stride 1, no
            max-pool: the CIFAR stem).  The first maps ``in_channels`` to
            ``stem_width``, the others keep ``stem_width``.
        stem_width: stem channels (default: ``widths[0]``).
        head_pool: the final feature map is average-pooled to head_pool x head_pool
            and flattened into the fc (1 for ResNet-18, 4 for ResidualCNN).
    """

    def __init__(
        self,
        widths: Sequence[int],
        depths: Sequence[int],
        block: BlockFactory,
        *,
        in_channels: int = 3,
        num_classes: int = 10,
        stem_kernels: Sequence[int] = (3,),
        stem_width: Optional[int] = None,
        activation: str = "relu",
        head_pool: int = 1,
    ) -> None:
        super().__init__()
        check_activation(activation)
        if len(widths) != len(depths) or not widths:
            raise ValueError(f"widths {widths!r} and depths {depths!r} must be non-empty "
                             "and of equal length")
        stem_width = stem_width or widths[0]
        c = in_channels
        stem = []
        for k in validate_kernels(stem_kernels):
            stem.append(ConvBNAct(c, stem_width, k, activation=activation))
            c = stem_width
        self.stem = nn.Sequential(*stem)

        stages = []
        for i, (w, d) in enumerate(zip(widths, depths)):
            blocks = []
            for j in range(d):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(block(c, w, stride, activation))
                c = w
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)

        self.pool = nn.AdaptiveAvgPool2d(head_pool)
        self.fc = nn.Linear(c * head_pool * head_pool, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        x = self.stem(x)  # (B, stem_width, H, W)
        x = self.stages(x)  # (B, widths[-1], H / 2**(n-1), W / 2**(n-1))
        x = torch.flatten(self.pool(x), 1)  # (B, widths[-1] * head_pool**2)
        return self.fc(x)  # (B, num_classes)


@MODELS.register("residual_cnn", input_shape=(3, 32, 32), family="resnet")
def residual_cnn(num_classes: int = 10, in_channels: int = 3, *, activation: str = "relu",
                 width: float = 1.0) -> ResNet:
    """Report 000 ResidualCNN: conv3x3 stem, 3 stages x 2 basic blocks (64-128-256), 4x4 pool.

    Stem conv3x3 (no bias) + BN + act; stages 64, 128 (stride 2), 256 (stride 2) with
    1x1 conv + BN projections where the shape changes; adaptive avg-pool to 4x4;
    fc 4096 -> classes.  2,816,074 parameters at 3 -> 10.
    """
    return ResNet([scaled(c, width) for c in (64, 128, 256)], [2, 2, 2], BasicBlock,
                  in_channels=in_channels, num_classes=num_classes, activation=activation,
                  head_pool=4)


@MODELS.register("resnet18", input_shape=(3, 32, 32), family="resnet")
def resnet18(num_classes: int = 10, in_channels: int = 3, *, activation: str = "relu",
             width: float = 1.0) -> ResNet:
    """ResNet-18, CIFAR variant: conv3x3+BN+act stem (no 7x7, no max-pool), [2,2,2,2] blocks.

    Basic blocks over 64-128-256-512, global avg-pool, fc 512 -> classes.
    11,173,962 parameters at 3 -> 10.
    """
    return ResNet([scaled(c, width) for c in (64, 128, 256, 512)], [2, 2, 2, 2], BasicBlock,
                  in_channels=in_channels, num_classes=num_classes, activation=activation)


# Report 001 gives no layers for Res9 / simp_Res9, only their weight files (8.7 MB and
# 3.41 MB, i.e. ~2.2M and ~0.85M float32 parameters).  Our layout, shared by both:
RES9_WIDTHS = (64, 128, 256, 256)
RES9_DEPTHS = (1, 1, 1, 1)


@MODELS.register("res9", input_shape=(3, 32, 32), family="resnet")
def res9(num_classes: int = 10, in_channels: int = 3, *, activation: str = "relu",
         first_block: Sequence[int] = (3,), width: float = 1.0) -> ResNet:
    """Report 001 Res9: ResNet-18 (CIFAR) halved to one basic block per stage, 64-128-256-256.

    The report describes Res9 only as a shallower Res18 of about 2.2M parameters, so
    the layout is our choice:

    * stem: one conv(k)+BN+act per entry of ``first_block`` (default ``[3]``), all
      stride 1, in_channels -> 64 -> 64 ...;
    * 4 stages of ONE basic block each, widths 64, 128, 256, 256, strides 1, 2, 2, 2
      (1x1 conv + BN projection when the shape changes);
    * global avg-pool, fc 256 -> classes.

    With the default stem that is 9 convs on the main path (1 + 4 x 2), hence the name.
    Halving ResNet-18's depth alone leaves 4.9M parameters, 3.7M of them in the 512
    stage, so the last stage is capped at 256 channels: 2,474,314 parameters at
    3 -> 10, i.e. 9.4 MiB of float32.  The report's sizes are MiB (its ResNet-18,
    11,173,962 params, is listed as 42.7 MB), so its 8.7 MB Res9 has ~2.28M params:
    ours is 8.5% above that and 12.5% above the rounder "~2.2M".  The same skeleton
    gives simp_res9 851,594 params (3.25 MiB vs the report's 3.41).
    """
    return _res9(num_classes, in_channels, activation, first_block, width, BasicBlock)


@MODELS.register("simp_res9", input_shape=(3, 32, 32), family="resnet")
def simp_res9(num_classes: int = 10, in_channels: int = 3, *, activation: str = "relu",
              first_block: Sequence[int] = (3,), width: float = 1.0,
              reduction: int = 2) -> ResNet:
    """Report 001 simp_Res9: ``res9`` with simplified bottleneck blocks (~0.85M params).

    Identical stem, stages (64-128-256-256, one block each) and head as ``res9``; each
    basic block is replaced by :class:`~cnnreport.models.layers.SimpleBottleneck`:
    conv1x1 (C_in -> C/reduction) + BN + act, conv3x3 (C/reduction -> C, carries the
    stride) + BN, plus the shortcut, then act.  At ``reduction=2`` that is 851,594
    parameters at 3 -> 10, against the report's ~0.85M (3.41 MB).

    ``first_block`` picks the stem kernels studied in report 001: [3], [7], [3, 3],
    [3, 3, 3] (any list of odd positive ints works).
    """
    block = functools.partial(SimpleBottleneck, reduction=reduction)
    return _res9(num_classes, in_channels, activation, first_block, width, block)


def _res9(num_classes: int, in_channels: int, activation: str, first_block: Sequence[int],
          width: float, block: BlockFactory) -> ResNet:
    return ResNet([scaled(c, width) for c in RES9_WIDTHS], RES9_DEPTHS, block,
                  in_channels=in_channels, num_classes=num_classes,
                  stem_kernels=validate_kernels(first_block), activation=activation)


# --------------------------------------------------------------------------------------
# Report 003: the fast CIFAR ResNet-9
# --------------------------------------------------------------------------------------
class ResNet9(nn.Module):
    """prep -> layer1 (+res) -> layer2 -> layer3 (+res) -> max-pool -> fc, no biases.

    Every conv is 3x3 padding 1 + BN + activation; residual branches are two such
    convs added to their input with no activation after the sum.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, activation: str = "relu",
                 widths: Sequence[int] = (64, 128, 256, 512)) -> None:
        super().__init__()
        c0, c1, c2, c3 = widths

        def unit(cin: int, cout: int) -> ConvBNAct:
            return ConvBNAct(cin, cout, 3, activation=activation)  # BN -> no conv bias

        def res(c: int) -> Residual:
            return Residual(nn.Sequential(unit(c, c), unit(c, c)))

        self.prep = unit(in_channels, c0)  # (B, 64, 32, 32)
        self.layer1 = nn.Sequential(unit(c0, c1), nn.MaxPool2d(2), res(c1))  # (B, 128, 16, 16)
        self.layer2 = nn.Sequential(unit(c1, c2), nn.MaxPool2d(2))  # (B, 256, 8, 8)
        self.layer3 = nn.Sequential(unit(c2, c3), nn.MaxPool2d(2), res(c3))  # (B, 512, 4, 4)
        # The reference uses MaxPool2d(4) on the 4x4 map; the adaptive form is the
        # same there and also accepts other input sizes.
        self.pool = nn.AdaptiveMaxPool2d(1)  # (B, 512, 1, 1)
        self.fc = nn.Linear(c3, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, 32, 32)
        x = self.layer3(self.layer2(self.layer1(self.prep(x))))  # (B, 512, 4, 4)
        return self.fc(torch.flatten(self.pool(x), 1))  # (B, num_classes)


@MODELS.register("resnet9", input_shape=(3, 32, 32), family="resnet")
def resnet9(num_classes: int = 10, in_channels: int = 3, *, activation: str = "relu",
            width: float = 1.0) -> ResNet9:
    """Report 003 ResNet-9 (fast CIFAR design), 64-128-256-512, no conv or fc bias.

    prep conv 3->64; layer1 conv 64->128, maxpool 2, residual(2 x conv 128);
    layer2 conv 128->256, maxpool 2; layer3 conv 256->512, maxpool 2,
    residual(2 x conv 512); max-pool to 1x1; fc 512 -> classes.  6,573,120 parameters.
    """
    return ResNet9(in_channels, num_classes, activation,
                   [scaled(c, width) for c in (64, 128, 256, 512)])
