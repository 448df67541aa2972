"""Layer cases of vol. 1 ch. 5 and vol. 2 ch. 1 (see :mod:`cases`)."""
import numpy as np
from cases import LayerCase

from fastprop import layers


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

