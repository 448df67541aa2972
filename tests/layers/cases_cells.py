"""Layer cases of vol. 2 ch. 5-6's single-step cells: RNN, LSTM, GRU (see :mod:`cases`).

A cell takes one time step, ``forward(x, h_prev[, c_prev])``; its backward returns a
gradient for each of them (``dx, dh_prev[, dc_prev]``), and the LSTM returns two outputs
``(h_next, c_next)`` and takes two upstream gradients. Weights are scaled like the book's
(``randn / sqrt(fan_in)``) so the gates are neither saturated nor linear.
"""
import numpy as np
from cases import LayerCase

from fastprop import layers

N, D, H = 3, 5, 4


def _w(rng, shape, dtype, fan_in):
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)


def _cell(cls, gates):
    def make(rng, dt):
        return cls(_w(rng, (D, gates * H), dt, D), _w(rng, (H, gates * H), dt, H),
                   (0.1 * rng.standard_normal(gates * H)).astype(dt))
    return make


def _step(n_states):
    def inputs(rng, dt):
        return (rng.standard_normal((N, D)).astype(dt),) + tuple(
            (0.5 * rng.standard_normal((N, H))).astype(dt) for _ in range(n_states))
    return inputs


CELL = dict(attributes=("cache",), saved=("cache",))

CASES = [
    LayerCase("RNN", _cell(layers.RNN, 1), _step(1), grad_inputs=(0, 1), **CELL),
    LayerCase("LSTM", _cell(layers.LSTM, 4), _step(2), grad_inputs=(0, 1, 2), n_outputs=2, **CELL),
    LayerCase("GRU", _cell(layers.GRU, 3), _step(1), grad_inputs=(0, 1), attributes=("cache", "dWx", "dWh", "db"),
              saved=("cache",)),
]
