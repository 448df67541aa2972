"""The layer-case registry: one entry per layer, and every contract test applies to it.

Add a layer here (a factory, example inputs, what its backward takes) and
``test_layer_contract.py`` runs on it: shapes and dtypes, float32 against float64, the
numerical gradient check of every input and parameter, no mutation of inputs, attribute
conventions, and clear errors for bad input; ``test_layer_reliability.py`` runs the
state-changed-after-validation cases in a subprocess.

Each case builds everything from a seeded ``numpy.random.Generator`` and a dtype, so a case
is reproducible and the same in the parent and in a subprocess.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from fastprop import layers


@dataclass(frozen=True)
class LayerCase:
    """How to build and drive one layer.

    Attributes
    ----------
    name : str, the test id
    make : ``make(rng, dtype) -> layer``
    inputs : ``inputs(rng, dtype) -> tuple`` of forward arguments
    grad_inputs : positions of the forward arguments that get a gradient from backward
        (labels do not)
    loss : True when forward returns a scalar loss and backward takes ``dout=1``
    attributes : names the book's code reads after forward (beyond ``params``/``grads``)
    saved : attributes forward stores and backward reads (the reliability tests replace them)
    dtypes : the dtypes the layer computes in
    grad_atol : absolute tolerance of the numerical gradient check (float64)
    """

    name: str
    make: Callable
    inputs: Callable
    grad_inputs: tuple = (0,)
    loss: bool = False
    attributes: tuple = ()
    saved: tuple = ()
    dtypes: tuple = (np.float64, np.float32)
    grad_atol: float = 1e-8


def _normal(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def _relu_input(rng, dtype):
    # away from the kink at 0, where the central difference straddles it
    x = _normal(rng, (4, 5), dtype)
    x[np.abs(x) < 0.05] = 0.5
    return (x,)


def _labels(rng, n, c):
    return rng.integers(0, c, n)


# The book's loss is -log(y + 1e-7) while its gradient is (y - t) / N, the gradient of
# -log(y): the two differ by about 1e-7 / y per element.
LOSS_ATOL = 5e-6

CASES = [
    LayerCase("Relu", lambda rng, dt: layers.Relu(), _relu_input,
              attributes=("mask",), saved=("mask",)),
    LayerCase("Sigmoid", lambda rng, dt: layers.Sigmoid(),
              lambda rng, dt: (_normal(rng, (3, 2, 4), dt, 2.0),),
              attributes=("out",), saved=("out",)),
    LayerCase("Affine", lambda rng, dt: layers.Affine(_normal(rng, (6, 4), dt), _normal(rng, 4, dt)),
              lambda rng, dt: (_normal(rng, (5, 6), dt),),
              attributes=("W", "b", "x", "dW", "db", "original_x_shape"), saved=("x",)),
    LayerCase("Affine-4d", lambda rng, dt: layers.Affine(_normal(rng, (12, 3), dt), _normal(rng, 3, dt)),
              lambda rng, dt: (_normal(rng, (2, 3, 2, 2), dt),),
              attributes=("W", "b", "x", "dW", "db", "original_x_shape"), saved=("x",)),
    LayerCase("MatMul", lambda rng, dt: layers.MatMul(_normal(rng, (5, 3), dt)),
              lambda rng, dt: (_normal(rng, (4, 5), dt),), attributes=("x",), saved=("x",)),
    LayerCase("Repeat", lambda rng, dt: layers.Repeat(4), lambda rng, dt: (_normal(rng, (1, 6), dt),),
              attributes=("N", "D"), saved=("D",)),
    LayerCase("Sum", lambda rng, dt: layers.Sum(), lambda rng, dt: (_normal(rng, (5, 3), dt),),
              attributes=("N",), saved=("N",)),
    LayerCase("Softmax", lambda rng, dt: layers.Softmax(), lambda rng, dt: (_normal(rng, (4, 5), dt),),
              attributes=("out",), saved=("out",)),
    LayerCase("SoftmaxWithLoss-labels", lambda rng, dt: layers.SoftmaxWithLoss(),
              lambda rng, dt: (_normal(rng, (6, 4), dt, 3.0), _labels(rng, 6, 4)),
              loss=True, attributes=("loss", "y", "t"), saved=("y", "t"), grad_atol=LOSS_ATOL),
    LayerCase("SoftmaxWithLoss-onehot", lambda rng, dt: layers.SoftmaxWithLoss(),
              lambda rng, dt: (_normal(rng, (6, 4), dt, 3.0), np.eye(4)[_labels(rng, 6, 4)]),
              loss=True, attributes=("loss", "y", "t"), saved=("y", "t"), grad_atol=LOSS_ATOL),
]

BY_NAME = {c.name: c for c in CASES}


def build(case: LayerCase, dtype=np.float64, seed: int = 0):
    """``(layer, forward args)`` of ``case``, freshly built from ``seed``."""
    rng = np.random.default_rng(seed)
    layer = case.make(rng, dtype)
    return layer, case.inputs(rng, dtype)


def upstream(case: LayerCase, out, seed: int = 1):
    """The ``dout`` backward gets: 1 for a loss, else random of the output's shape and dtype."""
    if case.loss:
        return 1.0
    return np.random.default_rng(seed).standard_normal(np.shape(out)).astype(np.asarray(out).dtype)
