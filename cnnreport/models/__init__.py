"""The PyTorch model zoo.

Every architecture of the five reports is registered by name in :data:`MODELS`::

    from cnnreport.models import MODELS
    model = MODELS.build("simp_res9", activation="gelu", first_block=[3, 3])
    MODELS.names(), MODELS.info("simp_res9").input_shape

Importing this package registers the builders but builds no model.
"""
from cnnreport.models._api import MODELS, count_params
from cnnreport.models.layers import ACTIVATIONS, ConvBNAct

# Imported for their registration side effect.
from cnnreport.models import convnets, mnist, resnets  # noqa: E402,F401  isort:skip

__all__ = ["ACTIVATIONS", "MODELS", "ConvBNAct", "count_params"]
