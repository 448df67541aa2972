"""Layer cases of vol. 2 ch. 5-8: the time layers (see :mod:`cases`).

Recurrent weights are scaled like the book's (``randn / sqrt(D)``) so the gates are neither
saturated nor linear; stateful layers are reset in the ``forward`` hook, so every forward of
the gradient check starts from the same state, and TimeDropout re-seeds the global RNG there
so its mask is the same in every forward.
"""
import numpy as np
from cases import LayerCase

from fastprop import layers

N, T, D, H, V = 3, 4, 5, 4, 7


def _w(rng, shape, dtype, fan_in):
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)


def _recurrent(cls, gates, stateful=False):
    def make(rng, dt):
        return cls(_w(rng, (D, gates * H), dt, D), _w(rng, (H, gates * H), dt, H),
                   (0.1 * rng.standard_normal(gates * H)).astype(dt), stateful=stateful)
    return make


def _seq(rng, dt, d=D):
    return ((rng.standard_normal((N, T, d))).astype(dt),)


def _stateful_forward(layer, args):
    """A stateful layer carrying a set state: reset, set, then run (the same every call)."""
    rng = np.random.default_rng(7)
    h = 0.5 * rng.standard_normal((N, H))
    if isinstance(layer, layers.TimeLSTM):
        layer.set_state(h, 0.5 * rng.standard_normal((N, H)))
    else:
        layer.set_state(h)
    return layer.forward(*args)


def _seeded_dropout(layer, args):
    np.random.seed(3)
    return layer.forward(*args)


def _ids(rng, dt):
    return (rng.integers(0, V, (N, T)),)


def _scores_labels(rng, dt):
    ts = rng.integers(0, V, (N, T))
    ts[0, 1] = -1  # an ignored position
    return (2 * rng.standard_normal((N, T, V))).astype(dt), ts


RECURRENT = dict(attributes=("h",))  # dh is set by backward (tests/test_time_layers.py)

CASES = [
    LayerCase("TimeRNN", _recurrent(layers.TimeRNN, 1), _seq, **RECURRENT),
    LayerCase("TimeRNN-stateful", _recurrent(layers.TimeRNN, 1, True), _seq, forward=_stateful_forward,
              **RECURRENT),
    LayerCase("TimeLSTM", _recurrent(layers.TimeLSTM, 4), _seq, attributes=("h", "c")),
    LayerCase("TimeLSTM-stateful", _recurrent(layers.TimeLSTM, 4, True), _seq, forward=_stateful_forward,
              attributes=("h", "c")),
    LayerCase("TimeGRU", _recurrent(layers.TimeGRU, 3), _seq, **RECURRENT),
    LayerCase("TimeGRU-stateful", _recurrent(layers.TimeGRU, 3, True), _seq, forward=_stateful_forward,
              **RECURRENT),
    LayerCase("TimeBiLSTM", lambda rng, dt: layers.TimeBiLSTM(
        *_recurrent(layers.TimeLSTM, 4)(rng, dt).params, *_recurrent(layers.TimeLSTM, 4)(rng, dt).params),
        _seq),
    LayerCase("TimeEmbedding", lambda rng, dt: layers.TimeEmbedding(rng.standard_normal((V, D)).astype(dt)),
              _ids, grad_inputs=(), attributes=("W", "idx"), saved=("idx",)),
    LayerCase("TimeAffine", lambda rng, dt: layers.TimeAffine(
        _w(rng, (D, V), dt, D), rng.standard_normal(V).astype(dt)),
              _seq, attributes=("x",), saved=("x",)),
    LayerCase("Simple_TimeAffine", lambda rng, dt: layers.Simple_TimeAffine(
        _w(rng, (D, V), dt, D), rng.standard_normal(V).astype(dt)), _seq,
        attributes=("x", "W", "b", "dW", "db"), saved=("x",)),
    LayerCase("TimeSoftmaxWithLoss", lambda rng, dt: layers.TimeSoftmaxWithLoss(), _scores_labels,
              loss=True, attributes=("cache", "loss"), saved=("cache",)),
    LayerCase("Simple_TimeSoftmaxWithLoss", lambda rng, dt: layers.Simple_TimeSoftmaxWithLoss(),
              # moderate scores: the book's +1e-7 in the log shifts its loss by ~1e-7 / y[t]
              lambda rng, dt: ((0.5 * rng.standard_normal((N, T, V))).astype(dt), rng.integers(0, V, (N, T))),
              loss=True, attributes=("cache",), grad_atol=5e-6),
    LayerCase("TimeSigmoidWithLoss", lambda rng, dt: layers.TimeSigmoidWithLoss(),
              lambda rng, dt: ((2 * rng.standard_normal((N, T))).astype(dt), rng.integers(0, 2, (N, T))),
              loss=True, attributes=("xs_shape",), grad_atol=5e-6),
    LayerCase("TimeDropout", lambda rng, dt: layers.TimeDropout(0.3), _seq, forward=_seeded_dropout,
              attributes=("mask",), saved=("mask",)),
]
