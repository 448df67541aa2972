"""Layer cases of vol. 1 ch. 6: Dropout and BatchNormalization (see :mod:`cases`)."""
import numpy as np
from cases import LayerCase

from fastprop import layers

#: the global-RNG seed every Dropout forward of a case starts from, so that each forward
#: of the numerical gradient check draws the same mask
DROPOUT_SEED = 7


def _normal(rng, shape, dtype, scale=1.0, shift=0.0):
    return (shift + scale * rng.standard_normal(shape)).astype(dtype)


def _dropout_forward(layer, args):
    np.random.seed(DROPOUT_SEED)
    return layer.forward(*args, train_flg=True)


def _train_forward(layer, args):
    return layer.forward(*args, train_flg=True)


def _batchnorm(d):
    def make(rng, dt):
        return layers.BatchNormalization(_normal(rng, d, dt, 0.5, 1.0), _normal(rng, d, dt, 0.5))
    return make


BN_ATTRIBUTES = ("gamma", "beta", "input_shape", "xc", "xn", "std", "batch_size", "running_mean",
                 "running_var", "dgamma", "dbeta", "momentum")

CASES = [
    LayerCase("Dropout", lambda rng, dt: layers.Dropout(0.3),
              lambda rng, dt: (_normal(rng, (6, 5), dt),),
              attributes=("mask", "dropout_ratio"), saved=("mask",), forward=_dropout_forward),
    LayerCase("Dropout-4d", lambda rng, dt: layers.Dropout(0.5),
              lambda rng, dt: (_normal(rng, (2, 3, 2, 2), dt),),
              # saved=(): the reliability suite's "bigger" replacement adds 1000 to every axis,
              # which for a 4-D mask is ~1 TB; the 2-D case above covers a replaced mask
              attributes=("mask",), saved=(), forward=_dropout_forward),
    LayerCase("BatchNormalization", _batchnorm(4),
              lambda rng, dt: (_normal(rng, (6, 4), dt, 2.0, 0.5),),
              attributes=BN_ATTRIBUTES, saved=("xc", "xn", "std", "batch_size"),
              forward=_train_forward),
    LayerCase("BatchNormalization-4d", _batchnorm(12),
              lambda rng, dt: (_normal(rng, (5, 3, 2, 2), dt, 1.5, -0.3),),
              attributes=BN_ATTRIBUTES, saved=("xc", "xn", "std"), forward=_train_forward),
]
