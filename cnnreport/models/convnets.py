"""Plain (non-residual) conv nets: a conv stack with max-pooling, then an MLP head.

One parameterized class, :class:`ConvNet`, covers every plain network in the
reports; the registered builders below only choose its stage layout:

* ``basic_cnn``, ``improved_cnn`` (report 000)
* ``vgg_a``, ``vgg_a_bn`` (reports 000 and 001, BN and the loss landscape)

The Fashion-MNIST / MNIST nets (``alexnet_fmnist``, ``vgg_fmnist``, ``lenet``) reuse
the same class from :mod:`cnnreport.models.mnist`.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import torch
from torch import nn

from cnnreport.models._api import MODELS
from cnnreport.models.layers import ACTIVATIONS, ConvBNAct, check_activation, scaled

#: One conv in a stage: its output channels, or (channels, kernel size).
ConvSpec = Union[int, Tuple[int, int]]

#: Weight initialisations of :class:`ConvNet`: PyTorch's layer defaults, or He-normal.
INITS = ("default", "he")


def _conv_out(size: int, kernel: int, padding: int, stride: int = 1) -> int:
    return (size + 2 * padding - kernel) // stride + 1


class ConvNet(nn.Module):
    """Stages of conv(+BN)+activation layers, each stage followed by a max-pool,
    then a fully connected head.

    Args:
        stages: per stage, the convs as output channels or (channels, kernel size);
            kernels default to ``kernel_size``.
        in_channels, num_classes: input channels and output logits.
        input_size: (H, W) of the input, used to size the first fc layer.
        hidden: widths of the hidden fc layers (empty: a single linear classifier).
        activation: activation name for every conv and hidden fc layer.
        batch_norm: BatchNorm2d after every conv (before the activation).
        conv_bias: conv bias.  Kept True by default even with BN because the
            reference parameter counts (ImprovedCNN, VGG-A-BN) include it.
        padding: conv padding; None means ``k // 2`` ("same" size), LeNet uses 0.
        pool: max-pool kernel and stride after each stage.
        hidden_bn: BatchNorm1d after each hidden fc (before the activation).
        dropout: dropout probability after each hidden fc's activation (0: none).
        width: channel/hidden-width multiplier (layout unchanged).
        init: "default" keeps PyTorch's layer initialisation (what the reports' code
            uses); "he" draws every conv and fc weight He-normal (fan-out for convs,
            fan-in for fc layers) and zeroes the biases, so the signal keeps its scale
            through a deep plain stack.  A deep plain net with the default init starts
            with nearly input-independent logits and can sit at chance under plain SGD.
    """

    def __init__(
        self,
        stages: Sequence[Sequence[ConvSpec]],
        *,
        in_channels: int,
        num_classes: int,
        input_size: Tuple[int, int],
        hidden: Sequence[int] = (),
        activation: str = "relu",
        batch_norm: bool = False,
        conv_bias: bool = True,
        kernel_size: int = 3,
        padding: Optional[int] = None,
        pool: int = 2,
        hidden_bn: bool = False,
        dropout: float = 0.0,
        width: float = 1.0,
        init: str = "default",
    ) -> None:
        super().__init__()
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}, got {init!r}")
        check_activation(activation)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        h, w = input_size
        c = in_channels
        features = []
        for stage in stages:
            for spec in stage:
                out, k = (spec, kernel_size) if isinstance(spec, int) else spec
                out = scaled(out, width)
                pad = k // 2 if padding is None else padding
                features.append(ConvBNAct(c, out, k, padding=pad, batch_norm=batch_norm,
                                          activation=activation, bias=conv_bias))
                c, h, w = out, _conv_out(h, k, pad), _conv_out(w, k, pad)
            features.append(nn.MaxPool2d(pool))
            h, w = h // pool, w // pool
        if h < 1 or w < 1:
            raise ValueError(f"input {input_size} is too small for {len(stages)} pooled stages")
        self.features = nn.Sequential(*features)
        self.feature_shape = (c, h, w)  # what the head sees, for summaries

        head = [nn.Flatten()]
        n = c * h * w
        for width_h in hidden:
            width_h = scaled(width_h, width)
            head.append(nn.Linear(n, width_h))
            if hidden_bn:
                head.append(nn.BatchNorm1d(width_h))
            head.append(ACTIVATIONS.build(activation))
            if dropout > 0:
                head.append(nn.Dropout(dropout))
            n = width_h
        head.append(nn.Linear(n, num_classes))
        self.classifier = nn.Sequential(*head)
        if init == "he":
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.Linear):
                    nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        x = self.features(x)  # (B, C', H', W')
        return self.classifier(x)  # (B, num_classes)


# --------------------------------------------------------------------------------------
# Report 000
# --------------------------------------------------------------------------------------
@MODELS.register("basic_cnn", input_shape=(3, 32, 32), family="convnet")
def basic_cnn(num_classes: int = 10, in_channels: int = 3, *, activation: str = "relu",
              width: float = 1.0) -> ConvNet:
    """Report 000 BasicCNN: 3 conv3x3 (32-64-128) each + act + maxpool, fc 2048-512-10.

    1,147,466 parameters at 3 -> 10.  No BatchNorm, no dropout.
    """
    return ConvNet([[32], [64], [128]], in_channels=in_channels, num_classes=num_classes,
                   input_size=(32, 32), hidden=(512,), activation=activation, width=width)


@MODELS.register("improved_cnn", input_shape=(3, 32, 32), family="convnet")
def improved_cnn(num_classes: int = 10, in_channels: int = 3, *, activation: str = "relu",
                 dropout: float = 0.5, width: float = 1.0) -> ConvNet:
    """Report 000 ImprovedCNN: 6 conv3x3+BN+act (64,128 | 256,256 | 512,512), pool per pair.

    Head: fc 8192 -> 1024, BatchNorm1d, act, dropout, fc 1024 -> classes.
    The convs keep their bias despite BN (12,906,250 parameters at 3 -> 10).
    """
    return ConvNet([[64, 128], [256, 256], [512, 512]], in_channels=in_channels,
                   num_classes=num_classes, input_size=(32, 32), hidden=(1024,),
                   activation=activation, batch_norm=True, conv_bias=True, hidden_bn=True,
                   dropout=dropout, width=width)


# --------------------------------------------------------------------------------------
# VGG-A (reports 000 and 001, BatchNorm chapter)
# --------------------------------------------------------------------------------------
VGG_A_STAGES = [[64], [128], [256, 256], [512, 512], [512, 512]]


def _vgg_a(num_classes: int, in_channels: int, batch_norm: bool, activation: str,
           width: float, dropout: float, init: str) -> ConvNet:
    # 32x32 input, 5 pools -> 512 x 1 x 1 features; head 512-512-512-classes.
    return ConvNet(VGG_A_STAGES, in_channels=in_channels, num_classes=num_classes,
                   input_size=(32, 32), hidden=(512, 512), activation=activation,
                   batch_norm=batch_norm, conv_bias=True, dropout=dropout, width=width, init=init)


@MODELS.register("vgg_a", input_shape=(3, 32, 32), family="convnet")
def vgg_a(num_classes: int = 10, in_channels: int = 3, *, activation: str = "relu",
          width: float = 1.0, dropout: float = 0.0, batch_norm: bool = False,
          init: str = "default") -> ConvNet:
    """VGG-A for CIFAR: convs 64 | 128 | 256,256 | 512,512 | 512,512, fc 512-512-classes.

    Every conv is 3x3 padding 1 with bias, each stage ends in maxpool 2.  9,750,922
    parameters at 3 -> 10.  ``batch_norm=True`` gives the ``vgg_a_bn`` network.
    ``init="default"`` keeps PyTorch's layer initialisation, as report 000's code does
    (its ``VGG_A`` initialises nothing itself); ``init="he"`` draws He-normal weights,
    without which the plain network starts with nearly input-independent logits and
    stays near chance for a long time under plain SGD.
    """
    return _vgg_a(num_classes, in_channels, batch_norm, activation, width, dropout, init)


@MODELS.register("vgg_a_bn", input_shape=(3, 32, 32), family="convnet")
def vgg_a_bn(num_classes: int = 10, in_channels: int = 3, *, activation: str = "relu",
             width: float = 1.0, dropout: float = 0.0, init: str = "default") -> ConvNet:
    """VGG-A with BatchNorm2d after every conv, before the activation.

    Same layout and initialisation choices as ``vgg_a`` (PyTorch's default unless
    ``init="he"``); the convs keep their bias.  9,756,426 parameters.
    """
    return _vgg_a(num_classes, in_channels, True, activation, width, dropout, init)
