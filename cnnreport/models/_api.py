"""The model registry and its helpers.

A model builder is registered with its *native* input shape (C, H, W) and default
class count, so the trainer and the tests know what to feed a model without
building it::

    @register_model("lenet", input_shape=(1, 28, 28))
    def lenet(num_classes=10, in_channels=1, ...): ...

    model = get_model("lenet", num_classes=10)
    model_input_shape("lenet")   # (1, 28, 28)
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple, TypeVar

from torch import nn

from cnnreport.registry import Registry

F = TypeVar("F", bound=Callable[..., nn.Module])

MODELS = Registry("model")


@dataclass(frozen=True)
class ModelInfo:
    """What is known about a registered model without building it."""

    name: str
    input_shape: Tuple[int, int, int]  # native (C, H, W)
    num_classes: int  # default class count
    summary: str  # first docstring line of the builder


_INFO: Dict[str, ModelInfo] = {}


def register_model(
    name: str, *, input_shape: Tuple[int, int, int] = (3, 32, 32), num_classes: int = 10
) -> Callable[[F], F]:
    """Decorator: register a builder under ``name`` with its native input shape.

    A duplicate name raises ``ValueError`` (from the registry) and leaves the
    existing entry and its metadata untouched.
    """
    if len(tuple(input_shape)) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {input_shape!r}")

    def deco(fn: F) -> F:
        MODELS.register(name, fn)  # raises on duplicates before we record anything
        key = name.lower()
        _INFO[key] = ModelInfo(
            name=key,
            input_shape=tuple(int(v) for v in input_shape),  # type: ignore[arg-type]
            num_classes=int(num_classes),
            summary=MODELS.describe()[key],
        )
        return fn

    return deco


def get_model(name: str, **config: Any) -> nn.Module:
    """Build model ``name`` with keyword ``config`` (e.g. ``num_classes=7``).

    An unknown name raises ``UnknownNameError`` listing the models; an unknown config
    key raises ``TypeError`` listing the builder's accepted arguments.
    """
    builder = MODELS.get(name)
    try:
        inspect.signature(builder).bind(**config)
    except TypeError as exc:
        allowed = ", ".join(inspect.signature(builder).parameters)
        raise TypeError(f"bad config for model {name!r}: {exc}; accepted: {allowed}") from None
    return builder(**config)


def list_models() -> List[str]:
    """Sorted names of all registered models."""
    return MODELS.names()


def model_info(name: str) -> ModelInfo:
    """Metadata recorded at registration (unknown name: ``UnknownNameError``)."""
    MODELS.get(name)  # raises the registry's helpful error for unknown names
    return _INFO[name.lower()]


def model_input_shape(name: str) -> Tuple[int, int, int]:
    """Native input shape (C, H, W) of model ``name``."""
    return model_info(name).input_shape


def count_params(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable, by default) parameters; buffers such as BN running
    statistics are not parameters and are not counted."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
