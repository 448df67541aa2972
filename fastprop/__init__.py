"""fastprop: compiled (Numba) drop-in layers for *Deep Learning from Scratch*.

Replace the book's imports and keep the code::

    from fastprop.layers import Affine, Relu, SoftmaxWithLoss   # common.layers
    from fastprop import TwoLayerNet                             # ch05/two_layer_net.py
"""
from . import _checkout  # noqa: F401,I001  (first: a checkout not installed gets its kernels)
from . import functions, layers, optimizers, threads
from .gradient import gradient_check, numerical_gradient
from .layers import AddLayer, Affine, MatMul, MulLayer, Relu, Repeat, Sigmoid, Softmax, SoftmaxWithLoss, Sum
from .nets import TwoLayerNet
from .trainer import Trainer

#: the one version string (pyproject.toml reads it from here)
__version__ = "0.1.0"

__all__ = [
    "AddLayer", "Affine", "MatMul", "MulLayer", "Relu", "Repeat", "Sigmoid", "Softmax",
    "SoftmaxWithLoss", "Sum", "Trainer", "TwoLayerNet", "functions", "gradient_check", "layers",
    "numerical_gradient", "optimizers", "threads",
]
