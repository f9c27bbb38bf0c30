"""The PyTorch model zoo.

Every architecture of the five reports is registered by name::

    from cnnreport.models import get_model, list_models, model_input_shape
    model = get_model("simp_res9", activation="gelu", first_block=[3, 3])

Importing this package registers the builders but builds no model.
"""
from cnnreport.models._api import (
    MODELS,
    ModelInfo,
    count_params,
    get_model,
    list_models,
    model_info,
    model_input_shape,
    register_model,
)
from cnnreport.models.layers import ACTIVATIONS, ConvBNAct, get_activation

# Imported for their registration side effect.
from cnnreport.models import convnets, mnist, resnets  # noqa: E402,F401  isort:skip

__all__ = [
    "ACTIVATIONS",
    "MODELS",
    "ConvBNAct",
    "ModelInfo",
    "count_params",
    "get_activation",
    "get_model",
    "list_models",
    "model_info",
    "model_input_shape",
    "register_model",
]
