"""Models for 1 x 28 x 28 input (MNIST, Fashion-MNIST).

* ``alexnet_fmnist``, ``vgg_fmnist`` -- report 002's AlexNet-style (5 conv + 3 fc) and
  VGG-style (6 conv + 3 fc) nets.  The report gives only the layer counts and the
  dropout in the fc layers; the widths below are our choice, and so is their He
  initialisation: with PyTorch's default init these plain 8- and 9-layer stacks start
  with nearly input-independent logits and plain SGD at lr 0.01 (the report's run 1,
  which learned to 91.66%) stays at chance for hundreds of steps, so our layout with
  that init cannot be what the report trained; He init is our repair of the guess.
* ``lenet``, ``mlp`` -- report 004's LeNet-like CNN and MLP (torch versions of its
  NumPy models).

All conv nets are :class:`~cnnreport.models.convnets.ConvNet` instances.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import torch
from torch import nn

from cnnreport.models._api import MODELS
from cnnreport.models.convnets import ConvNet
from cnnreport.models.layers import ACTIVATIONS, check_activation, scaled

MNIST_SHAPE = (1, 28, 28)


@MODELS.register("alexnet_fmnist", input_shape=MNIST_SHAPE, family="mnist")
def alexnet_fmnist(num_classes: int = 10, in_channels: int = 1, *, activation: str = "relu",
                   dropout: float = 0.5, hidden: Sequence[int] = (512, 512),
                   batch_norm: bool = False, width: float = 1.0, init: str = "he") -> ConvNet:
    """Report 002 AlexNet-style net for 28x28: 5 conv (64-128-256-256-128) + 3 fc.

    AlexNet's shape scaled to 28x28 gray input: large kernels first, then three 3x3
    convs that narrow again at the end, max-pool 2 after conv1, conv2 and conv5, and
    dropout in the fc layers::

        conv5x5  1->64   + act, maxpool 2    # (B, 64, 14, 14)
        conv5x5 64->128  + act, maxpool 2    # (B, 128, 7, 7)
        conv3x3 128->256 + act
        conv3x3 256->256 + act
        conv3x3 256->128 + act, maxpool 2    # (B, 128, 3, 3)
        fc 1152->512 + act + dropout, fc 512->512 + act + dropout, fc 512->classes

    2,245,002 parameters at 1 -> 10.  ``batch_norm`` adds BN after each conv (off, as
    in AlexNet).  ``init``: "he" (He-normal weights, zero biases; see the module
    docstring) or "default" (PyTorch's).
    """
    return ConvNet([[(64, 5)], [(128, 5)], [256, 256, 128]], in_channels=in_channels,
                   num_classes=num_classes, input_size=(28, 28), hidden=hidden,
                   activation=activation, batch_norm=batch_norm, dropout=dropout, width=width,
                   init=init)


@MODELS.register("vgg_fmnist", input_shape=MNIST_SHAPE, family="mnist")
def vgg_fmnist(num_classes: int = 10, in_channels: int = 1, *, activation: str = "relu",
               dropout: float = 0.5, hidden: Sequence[int] = (512, 512),
               batch_norm: bool = False, width: float = 1.0, init: str = "he") -> ConvNet:
    """Report 002 VGG-style net for 28x28: 6 conv3x3 in 3 pairs (64, 128, 256) + 3 fc.

    VGG's pattern of stacked 3x3 convs, channels doubling per pooled stage::

        conv3x3 1->64, 64->64     + act, maxpool 2   # (B, 64, 14, 14)
        conv3x3 64->128, 128->128 + act, maxpool 2   # (B, 128, 7, 7)
        conv3x3 128->256, 256->256 + act, maxpool 2  # (B, 256, 3, 3)
        fc 2304->512 + act + dropout, fc 512->512 + act + dropout, fc 512->classes

    2,592,202 parameters at 1 -> 10.  ``batch_norm`` adds BN after each conv (off).
    ``init`` as for ``alexnet_fmnist``.
    """
    return ConvNet([[64, 64], [128, 128], [256, 256]], in_channels=in_channels,
                   num_classes=num_classes, input_size=(28, 28), hidden=hidden,
                   activation=activation, batch_norm=batch_norm, dropout=dropout, width=width,
                   init=init)


@MODELS.register("lenet", input_shape=MNIST_SHAPE, family="mnist")
def lenet(num_classes: int = 10, in_channels: int = 1, *, activation: str = "leaky_relu",
          width: float = 1.0) -> ConvNet:
    """Report 004 LeNet-like CNN: conv5x5 1->6, pool, conv5x5 6->16, pool, fc 256-128-64-10.

    Convs have no padding (28 -> 24 -> pool 12 -> 8 -> pool 4, so 16*4*4 = 256
    features); activation (LeakyReLU by default, as in the report) after every conv
    and hidden fc.  44,374 parameters at 1 -> 10.
    """
    return ConvNet([[(6, 5)], [(16, 5)]], in_channels=in_channels, num_classes=num_classes,
                   input_size=(28, 28), hidden=(128, 64), activation=activation,
                   padding=0, width=width)


class MLP(nn.Module):
    """Flatten -> [Linear -> activation] per hidden width -> Linear."""

    def __init__(self, in_features: int, hidden: Sequence[int], num_classes: int,
                 activation: str = "leaky_relu") -> None:
        super().__init__()
        check_activation(activation)
        layers = [nn.Flatten()]
        n = in_features
        for h in hidden:
            if isinstance(h, bool) or not isinstance(h, int) or h < 1:
                raise ValueError(f"hidden sizes must be positive ints, got {list(hidden)!r}")
            layers += [nn.Linear(n, h), ACTIVATIONS.build(activation)]
            n = h
        layers.append(nn.Linear(n, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) or (B, C*H*W)
        return self.net(x)  # (B, num_classes)


@MODELS.register("mlp", input_shape=MNIST_SHAPE, family="mnist")
def mlp(num_classes: int = 10, in_channels: int = 1, *, hidden: Sequence[int] = (1000,),
        activation: str = "leaky_relu", input_shape: Optional[Tuple[int, int, int]] = None,
        width: float = 1.0) -> MLP:
    """Report 004 MLP: flattened 28x28 input, hidden (1000,) by default, LeakyReLU.

    ``in_features = in_channels * 28 * 28`` unless ``input_shape`` (C, H, W) is given;
    ``width`` scales the hidden sizes.  784-1000-10 has 795,010 parameters.
    """
    if isinstance(hidden, int):
        hidden = (hidden,)
    hidden = [h if isinstance(h, bool) or not isinstance(h, int) else scaled(h, width)
              for h in hidden]  # non-ints are left for MLP to reject
    shape = tuple(input_shape) if input_shape is not None else (in_channels, 28, 28)
    return MLP(math.prod(shape), hidden, num_classes, activation)
