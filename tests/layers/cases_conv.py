"""Layer cases of vol. 1 ch. 7: Convolution (plain, padded, strided, 1x1) and Pooling
(see :mod:`cases`)."""
import numpy as np
from cases import LayerCase

from fastprop import layers


def _normal(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def _conv(fn, c, fh, fw, stride=1, pad=0):
    return lambda rng, dt: layers.Convolution(_normal(rng, (fn, c, fh, fw), dt), _normal(rng, fn, dt),
                                              stride, pad)


def _images(shape):
    return lambda rng, dt: (_normal(rng, shape, dt),)


def _distinct_images(shape):
    """Images whose pooling windows hold well-separated values: a central difference of
    1e-5 never changes which entry is the maximum, and none is 0 (the padding's value)."""
    def make(rng, dt):
        n = int(np.prod(shape))
        return (((rng.permutation(n) + 0.5) * 0.1 - n * 0.05).reshape(shape).astype(dt),)
    return make


CONV_ATTRS = ("W", "b", "stride", "pad", "x", "col", "col_W", "dW", "db")
POOL_ATTRS = ("pool_h", "pool_w", "stride", "pad", "x", "arg_max")

CASES = [
    LayerCase("Convolution", _conv(3, 2, 3, 3), _images((2, 2, 5, 6)),
              attributes=CONV_ATTRS, saved=("x", "col")),
    LayerCase("Convolution-pad1", _conv(4, 3, 3, 3, pad=1), _images((2, 3, 5, 4)),
              attributes=CONV_ATTRS, saved=("x", "col")),
    LayerCase("Convolution-stride2-pad1", _conv(2, 2, 3, 2, stride=2, pad=1), _images((3, 2, 7, 6)),
              attributes=CONV_ATTRS, saved=("x", "col")),
    LayerCase("Convolution-1x1", _conv(3, 4, 1, 1), _images((2, 4, 3, 5)),
              attributes=CONV_ATTRS, saved=("x", "col")),
    LayerCase("Pooling", lambda rng, dt: layers.Pooling(2, 2, stride=2), _distinct_images((2, 3, 4, 6)),
              attributes=POOL_ATTRS, saved=("x", "arg_max")),
    LayerCase("Pooling-overlap-pad1", lambda rng, dt: layers.Pooling(3, 2, stride=1, pad=1),
              _distinct_images((2, 2, 5, 4)), attributes=POOL_ATTRS, saved=("x", "arg_max")),
]
