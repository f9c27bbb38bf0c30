"""The model registry.

A model builder is registered with its *native* input shape (C, H, W), default class
count and family, so the trainer and the tests know what to feed a model without
building it::

    @MODELS.register("lenet", input_shape=(1, 28, 28), family="mnist")
    def lenet(num_classes=10, in_channels=1, ...): ...

    model = MODELS.build("lenet", num_classes=10)   # arguments checked against lenet's
    MODELS.info("lenet").input_shape                # (1, 28, 28)

Every builder takes ``num_classes`` and ``in_channels`` first; the trainer passes the
dataset's, and the remaining keywords are a config's ``model_args``.
"""
from __future__ import annotations

from typing import Any, Dict

from torch import nn

from cnnreport.core.registry import Registry


def _check_model(meta: Dict[str, Any]) -> Dict[str, Any]:
    shape = tuple(meta["input_shape"])
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {meta['input_shape']!r}")
    return {**meta, "input_shape": tuple(int(v) for v in shape), "num_classes": int(meta["num_classes"])}


#: name -> builder ``f(num_classes, in_channels, **model_args) -> nn.Module``.
#: Metadata: ``input_shape`` native (C, H, W), ``num_classes`` default class count,
#: ``family`` the module of the zoo it belongs to (convnet, mnist, resnet).
MODELS = Registry("model", defaults={"input_shape": (3, 32, 32), "num_classes": 10, "family": ""},
                  check=_check_model)


def count_params(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable, by default) parameters; buffers such as BN running
    statistics are not parameters and are not counted."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
