"""vol. 2's ``TimeRNN``, ``TimeLSTM``, ``TimeGRU`` and ``TimeBiLSTM``: the whole time loop of
each direction is one compiled call (BLAS GEMMs and fused gate passes inside), no per-step
Python objects.

As the book: ``forward(xs)`` takes (N, T, D) and returns (N, T, H); with ``stateful=True`` the
last ``h`` (and ``c``) carry over to the next forward until ``reset_state()``; ``set_state(h[,
c])`` sets them; ``backward(dhs)`` writes ``grads`` in place, keeps ``dh`` (the gradient of the
initial ``h``) and returns ``dxs``. The compute dtype is the parameters' (the book's ``'f'``
with its float32 weights); the states are checked against ``(N, H)`` at ``set_state`` and
again at forward.
"""
from __future__ import annotations

import numpy as np

from .. import threads, validate
from .base import Layer
from .recurrent import Recurrent, run_backward, run_forward


class _TimeRecurrent(Recurrent):
    """Shared forward/backward/state handling; ``KIND`` and ``GATES`` pick the kernels."""

    HAS_CELL = False

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, stateful: bool = False):
        super().__init__(Wx, Wh, b)
        self.stateful = validate.flag(stateful, "stateful")
        self.layers = None  # the book's per-step cells: none here, the loop is compiled
        self.h, self.dh = None, None
        if self.HAS_CELL:
            self.c = None

    def _hidden(self) -> int:
        Wh = self.params[1]
        validate.check_type(Wh, np.ndarray, "Wh", "a 2-D array")
        if Wh.ndim != 2:  # an array of another rank: a wrong value
            raise ValueError(f"Wh must be a 2-D array, got {validate.describe(Wh)}")
        return Wh.shape[0]

    def _check_set(self, h, name):
        if h is None:
            return None
        H = self._hidden()
        arr = validate.as_real(h, name)
        if arr.ndim != 2 or arr.shape[1] != H or arr.shape[0] == 0:
            raise ValueError(f"{name} must have shape (N, {H}) (batch, hidden), got {arr.shape}")
        return arr

    def _initial(self, value, N, H, dt, name):
        if not self.stateful or value is None:
            return np.zeros((N, H), dt)
        return self._state(value, N, H, dt, name)

    def forward(self, xs) -> np.ndarray:
        threads.poll()
        weights = self._weights()
        Wx, Wh, _ = weights
        xs = self._sequence(xs, Wx.shape[0], Wx.dtype)
        N, H, dt = xs.shape[0], Wh.shape[0], Wx.dtype
        h0 = self._initial(self.h, N, H, dt, "h")
        c0 = self._initial(self.c, N, H, dt, "c") if self.HAS_CELL else None
        hs, self.h, c = run_forward(self, xs, h0, c0, weights)
        if self.HAS_CELL:
            self.c = c
        return hs

    def backward(self, dhs) -> np.ndarray:
        self._require_forward(self.cache)
        N, _, _, H, dt = self._recorded()
        dh = np.zeros((N, H), dt)
        dc = np.zeros((N, H), dt) if self.HAS_CELL else None
        dxs = run_backward(self, dhs, dh, dc)
        self.dh = dh
        return dxs

    def reset_state(self) -> None:
        """Forget the carried state (the next forward starts from zeros)."""
        self.h = None
        if self.HAS_CELL:
            self.c = None


class TimeRNN(_TimeRecurrent):
    """``h_t = tanh(h_{t-1} Wh + x_t Wx + b)`` over T steps; ``params = [Wx, Wh, b]``."""

    KIND, GATES = "RNN", 1

    def set_state(self, h) -> None:
        """Set the state the next (stateful) forward starts from: (N, H)."""
        self.h = self._check_set(h, "h")


class TimeGRU(_TimeRecurrent):
    """The book's GRU (with bias, gates ``z, r, h~``) over T steps."""

    KIND, GATES = "GRU", 3

    def set_state(self, h) -> None:
        """Set the state the next (stateful) forward starts from: (N, H)."""
        self.h = self._check_set(h, "h")


class TimeLSTM(_TimeRecurrent):
    """The book's LSTM (gates ``f, g, i, o``) over T steps; keeps ``h``, ``c`` and ``dh``."""

    KIND, GATES, HAS_CELL = "LSTM", 4, True

    def set_state(self, h, c=None) -> None:
        """Set ``h`` (and ``c``; None means zeros at the next forward), each (N, H)."""
        h, c = self._check_set(h, "h"), self._check_set(c, "c")
        if h is not None and c is not None and h.shape != c.shape:
            raise ValueError(f"h and c must have one shape, got {h.shape} and {c.shape}")
        self.h, self.c = h, c


class TimeBiLSTM(Layer):
    """Two TimeLSTMs, the second reading the sequence backwards; outputs concatenated (2H).

    ``params``/``grads`` are the two layers' lists joined, as the book; an entry replaced in
    ``params`` is handed to the sub-layer at the next forward or backward.
    """

    def __init__(self, Wx1, Wh1, b1, Wx2, Wh2, b2, stateful: bool = False):
        self.forward_lstm = TimeLSTM(Wx1, Wh1, b1, stateful)
        self.backward_lstm = TimeLSTM(Wx2, Wh2, b2, stateful)
        self.params = self.forward_lstm.params + self.backward_lstm.params
        self.grads = self.forward_lstm.grads + self.backward_lstm.grads
        self._H = None

    def _sync(self):
        self.forward_lstm.params[:] = self.params[:3]
        self.backward_lstm.params[:] = self.params[3:]

    def forward(self, xs) -> np.ndarray:
        self._sync()
        xs = validate.as_real(xs, "xs")
        if xs.ndim != 3:
            raise ValueError(f"xs must have shape (N, T, D), got {xs.shape}")
        o1 = self.forward_lstm.forward(xs)
        o2 = self.backward_lstm.forward(xs[:, ::-1])[:, ::-1]
        self._H = (o1.shape[2], o2.shape[2])
        return np.concatenate((o1, o2), axis=2)

    def backward(self, dhs) -> np.ndarray:
        self._require_forward(self._H)
        self._sync()
        dhs = validate.as_real(dhs, "dhs")
        H1, H2 = self._H
        if dhs.ndim != 3 or dhs.shape[2] != H1 + H2:
            raise ValueError(f"dout must have shape (N, T, {H1 + H2}), got {dhs.shape}")
        dxs1 = self.forward_lstm.backward(dhs[:, :, :H1])
        dxs2 = self.backward_lstm.backward(dhs[:, ::-1, H1:])[:, ::-1]
        self.grads[:] = self.forward_lstm.grads + self.backward_lstm.grads
        return dxs1 + dxs2
