"""fastprop: compiled (Numba) drop-in layers for *Deep Learning from Scratch*.

Replace the book's imports and keep the code::

    from fastprop.layers import Affine, Relu, SoftmaxWithLoss   # common.layers
    from fastprop import TwoLayerNet                             # ch05/two_layer_net.py
"""
from . import _checkout  # noqa: F401,I001  (first: a checkout not installed gets its kernels)
from ._lazy import exports

# each name's module is imported when the name is first used: a run that needs three
# layers does not import the conv nets, the seq2seq models and the trainers
__getattr__, __dir__, _names = exports(__name__, {
    ".functions": ["functions"], ".optimizers": ["optimizers"], ".threads": ["threads"],
    ".gradient": ["gradient_check", "numerical_gradient"],
    ".layers": ["layers", "AddLayer", "Affine", "MatMul", "MulLayer", "Relu", "Repeat", "Sigmoid", "Softmax",
                "SoftmaxWithLoss", "Sum"],
    ".nets": ["TwoLayerNet"],
    ".trainer": ["Trainer"],
})

#: the one version string (pyproject.toml reads it from here)
__version__ = "0.1.0"

__all__ = [
    "AddLayer", "Affine", "MatMul", "MulLayer", "Relu", "Repeat", "Sigmoid", "Softmax",
    "SoftmaxWithLoss", "Sum", "Trainer", "TwoLayerNet", "functions", "gradient_check", "layers",
    "numerical_gradient", "optimizers", "threads",
]
