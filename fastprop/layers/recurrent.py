"""vol. 2's recurrent cells ``RNN``, ``LSTM`` and ``GRU`` (one time step), and the checks the
Time* recurrent layers share.

A cell is the one-step case of its Time layer's compiled loop (:mod:`fastprop.kernels.recurrent`,
:mod:`fastprop.kernels.gru` with T = 1), so the cell and the time loop run the same arithmetic.
``cache`` holds fastprop's saved arrays (time-major caches), not the book's tuple.
"""
from __future__ import annotations

import numpy as np

from .. import threads, validate
from ..kernels import gru as gru_k
from ..kernels import recurrent as rec_k
from .base import Layer

#: gate blocks along the ``Wx``/``Wh``/``b`` columns: RNN h; LSTM f, g, i, o; GRU z, r, h~
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
#: what ``cache`` holds, in order, for each kind (all time-major)
CACHE_NAMES = {"RNN": ("xtm", "Hs"), "LSTM": ("xtm", "Hs", "Cs", "G", "TC"), "GRU": ("xtm", "Hs", "G", "RH")}


def check_params(Wx, Wh, b, gates: int) -> None:
    """Construction-time checks: ``Wx`` (D, gH), ``Wh`` (H, gH), ``b`` (gH,), one float dtype."""
    dt = validate.param_dtype(Wx, "Wx")
    for name, p in (("Wh", Wh), ("b", b)):
        if validate.param_dtype(p, name) != dt:
            raise TypeError(f"{name} has dtype {p.dtype} but Wx has {dt}; use one dtype")
    if Wx.ndim != 2 or Wh.ndim != 2:
        raise ValueError(f"Wx and Wh must be 2-D, got shapes {Wx.shape} and {Wh.shape}")
    H = Wh.shape[0]
    if H == 0 or Wh.shape != (H, gates * H) or Wx.shape[1] != gates * H or b.shape != (gates * H,):
        raise ValueError(f"expected Wx (D, {gates}H), Wh (H, {gates}H), b ({gates}H,) with one H, "
                         f"got Wx {Wx.shape}, Wh {Wh.shape}, b {b.shape}")


class Recurrent(Layer):
    """Base of the cells and the Time recurrent layers: ``params = [Wx, Wh, b]``."""

    GATES = 1

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray):
        check_params(Wx, Wh, b, self.GATES)
        super().__init__(Wx, Wh, b)
        self.cache = None
        self._geometry = None  # (N, T, D, H, dtype) of the last forward: what cache must fit

    def _weights(self, dtype=None):
        """``(Wx, Wh, b)`` as they are now, checked and C-contiguous (a copy for this call
        only when a parameter is F-ordered or strided)."""
        Wx, Wh, b = self.params
        g = self.GATES
        Wx = validate.weight(Wx, "Wx", dtype)
        dt = Wx.dtype
        Wh = validate.weight(Wh, "Wh", dt)
        H = Wh.shape[0]
        if H == 0 or Wh.shape != (H, g * H):
            raise ValueError(f"Wh must have shape (H, {g}H), got {Wh.shape}")
        if Wx.shape[1] != g * H:
            raise ValueError(f"Wx must have {g * H} columns to match Wh of shape {Wh.shape}, got {Wx.shape}")
        b = validate.bias(b, g * H, dt)
        return np.ascontiguousarray(Wx), np.ascontiguousarray(Wh), b

    @staticmethod
    def _sequence(xs, D: int, dt, name: str = "xs") -> np.ndarray:
        """``xs`` as a C-contiguous (N, T, D) array of ``dt`` with N, T >= 1."""
        xs = validate.batch(validate.as_real(xs, name, dt), name)
        if xs.ndim != 3 or xs.shape[2] != D or xs.shape[1] == 0:
            raise ValueError(f"{name} must have shape (N, T, {D}) with T >= 1, got {xs.shape}")
        return xs

    @staticmethod
    def _state(h, N: int, H: int, dt, name: str) -> np.ndarray:
        """A (N, H) state as a C-contiguous array of ``dt``."""
        h = validate.as_real(h, name, dt)
        if h.shape != (N, H):
            raise ValueError(f"{name} must have shape ({N}, {H}) (batch, hidden) here, got {h.shape}")
        return h

    def _check_cache(self, Wx, Wh):
        """The saved caches as the kernels will read them: ``(N, T, D, H)`` and the arrays.

        The forward recorded its geometry (N, T, D, H, dtype); the weights as they are now
        and every cached array must still fit it (shape, dtype, C-contiguous), or a kernel
        would read and write past their ends. A read-only array is copied for this call.
        """
        N, T, D, H, dt = self._recorded()
        g = self.GATES
        if Wx.dtype != dt or Wx.shape != (D, g * H) or Wh.shape != (H, g * H):
            raise ValueError(f"the weights changed since forward (Wx {Wx.shape}, Wh {Wh.shape}, "
                             f"{Wx.dtype}; forward saw D={D}, H={H}, {dt}); run forward again")
        shapes = {"xtm": (T, N, D), "Hs": (T + 1, N, H), "Cs": (T + 1, N, H),
                  "G": (T, N, g * H), "TC": (T, N, H), "RH": (T, N, H)}
        names = CACHE_NAMES[self.KIND]
        cache = self.cache
        where = f"{type(self).__name__}.cache"
        if not isinstance(cache, (tuple, list)) or len(cache) != len(names):
            raise ValueError(f"{where} must be the {len(names)} arrays ({', '.join(names)}) forward "
                             f"saved, got {validate.describe(cache)} (replaced since forward? run forward again)")
        arrays = []
        for i, (name, a) in enumerate(zip(names, cache)):
            want = shapes[name]
            if not (isinstance(a, np.ndarray) and a.shape == want and a.dtype == dt and a.flags.c_contiguous):
                got = validate.describe(a)
                if isinstance(a, np.ndarray) and not a.flags.c_contiguous:
                    got += ", not C-contiguous"
                raise ValueError(f"{where}[{i}] ({name}) must be a C-contiguous {dt} array of shape {want} "
                                 f"as forward saved it (N={N}, T={T}, D={D}, H={H}), got {got}; "
                                 "replaced since forward? run forward again")
            arrays.append(a if a.flags.writeable else a.copy())
        return (N, T, D, H), arrays

    def _recorded(self):
        """``(N, T, D, H, dtype)`` of the last forward (ValueError when there is none)."""
        if getattr(self, "_geometry", None) is None:
            raise ValueError(f"{type(self).__name__}.cache was not written by forward(); run forward first")
        return self._geometry

    def _grads(self):
        return self._grad(0), self._grad(1), self._grad(2)


def run_forward(layer, xs, h0, c0=None, weights=None):
    """Run the layer's compiled forward on checked arrays; sets ``layer.cache``; returns
    ``(hs, h_last, c_last)``. ``weights`` is ``layer._weights(xs.dtype)`` when the caller
    has just made it (checked once per call, not twice)."""
    Wx, Wh, b = layer._weights(xs.dtype) if weights is None else weights
    N, T, D = xs.shape
    H = Wh.shape[0]
    dt = xs.dtype
    kind = layer.KIND
    geometry = (N, T, D, H, dt)
    g = layer.GATES * H
    if kind == "LSTM":
        shapes = ((T, N, D), (T + 1, N, H), (T + 1, N, H), (T, N, g), (T, N, H))
    elif kind == "RNN":
        shapes = ((T, N, D), (T + 1, N, H))
    else:
        shapes = ((T, N, D), (T + 1, N, H), (T, N, g), (T, N, H))
    layer._geometry = None  # until the new cache is complete
    # fresh arrays each call, never kept ones: long-lived multi-megabyte buffers keep glibc's
    # mmap threshold at 128 KB, so every other large temporary of the step (the book's
    # attention arrays, hs, dxs) is mmapped and page-faulted anew (ch08 step: 390k vs 14k
    # minor faults, 230 vs 164 ms)
    cache = [np.empty(s, dt) for s in shapes]
    hs = np.empty((N, T, H), dt)
    if kind == "RNN":
        xtm, Hs = cache
        with threads.one_thread_for(N * H * g):
            rec_k.rnn_forward(xs, Wx, Wh, b, h0, hs, xtm, Hs)
        layer.cache, layer._geometry = tuple(cache), geometry
        return hs, Hs[T].copy(), None
    if kind == "LSTM":
        xtm, Hs, Cs, G, TC = cache
        with threads.one_thread_for(N * H * g):
            rec_k.lstm_forward(xs, Wx, Wh, b, h0, c0, hs, xtm, Hs, Cs, G, TC)
        layer.cache, layer._geometry = tuple(cache), geometry
        return hs, Hs[T].copy(), Cs[T].copy()
    xtm, Hs, G, RH = cache
    with threads.one_thread_for(N * H * g):
        gru_k.gru_forward(xs, Wx, Wh, b, h0, hs, xtm, Hs, G, RH)
    layer.cache, layer._geometry = tuple(cache), geometry
    return hs, Hs[T].copy(), None


def run_backward(layer, dhs, dh, dc=None):
    """The compiled backward from ``layer.cache``: writes ``grads``, ``dh`` (and ``dc``) in
    place, returns ``dxs``."""
    layer._require_forward(layer.cache)
    Wx, Wh, _ = layer._weights()
    (N, T, D, H), cache = layer._check_cache(Wx, Wh)
    dt = Wx.dtype
    dhs = layer._dout(dhs, (N, T, H), dt)
    for name, a in (("dh", dh), ("dc", dc)):  # the caller's in/out states (made from the geometry)
        if a is not None:
            validate.output(a, (N, H), dt, name)
    dWx, dWh, db = layer._grads()
    dxs = np.empty((N, T, D), dt)
    dA, dxtm = np.empty((T, N, layer.GATES * H), dt), np.empty((T, N, D), dt)
    with threads.one_thread_for(N * H * layer.GATES * H):  # the per-step dA @ Wh.T
        if layer.KIND == "RNN":
            xtm, Hs = cache
            rec_k.rnn_backward(dhs, Wx, Wh, xtm, Hs, dWx, dWh, db, dxs, dh, dA, dxtm)
        elif layer.KIND == "LSTM":
            xtm, Hs, Cs, G, TC = cache
            rec_k.lstm_backward(dhs, Wx, Wh, xtm, Hs, Cs, G, TC, dWx, dWh, db, dxs, dh, dc, dA, dxtm)
        else:
            xtm, Hs, G, RH = cache
            gru_k.gru_backward(dhs, Wx, Wh, xtm, Hs, G, RH, dWx, dWh, db, dxs, dh, dA, dxtm)
    return dxs


class _Cell(Recurrent):
    """One time step: ``forward(x, h_prev[, c_prev])`` on (N, D) and (N, H) arrays."""

    def _step_inputs(self, x, *states):
        Wx, Wh, _ = self._weights()
        dt = Wx.dtype
        x = validate.batch(validate.as_real(x, "x", dt), "x")
        if x.ndim != 2 or x.shape[1] != Wx.shape[0]:
            raise ValueError(f"x must have shape (N, {Wx.shape[0]}), got {x.shape}")
        names = ("h_prev", "c_prev")
        return [x.reshape(x.shape[0], 1, x.shape[1])] + [self._state(s, x.shape[0], Wh.shape[0], dt, n)
                                  for s, n in zip(states, names)]

    def _dnext(self, d, name):
        self._require_forward(self.cache)
        N, _, _, H, dt = self._recorded()
        return self._dout(d, (N, H), dt, f"the shape of {name}")


class _OneStateCell(_Cell):
    """A cell with only a hidden state (RNN, GRU): one step of its Time kernel each way."""

    def forward(self, x, h_prev) -> np.ndarray:
        xs, h0 = self._step_inputs(x, h_prev)
        return run_forward(self, xs, h0)[1]

    def backward(self, dh_next):
        dh_next = self._dnext(dh_next, "h_next")
        dh = np.zeros_like(dh_next)
        dxs = run_backward(self, dh_next.reshape(dh.shape[0], 1, -1), dh)
        return dxs[:, 0, :], dh


class RNN(_OneStateCell):
    """``h_next = tanh(h_prev @ Wh + x @ Wx + b)``; ``backward(dh_next) -> (dx, dh_prev)``."""

    KIND, GATES = "RNN", 1


class LSTM(_Cell):
    """The book's LSTM cell (gates ``f, g, i, o``); ``forward(x, h_prev, c_prev) -> (h_next,
    c_next)``, ``backward(dh_next, dc_next) -> (dx, dh_prev, dc_prev)``."""

    KIND, GATES = "LSTM", 4

    def forward(self, x, h_prev, c_prev):
        xs, h0, c0 = self._step_inputs(x, h_prev, c_prev)
        _, h, c = run_forward(self, xs, h0, c0)
        return h, c

    def backward(self, dh_next, dc_next):
        dh_next = self._dnext(dh_next, "h_next")
        dc = np.array(self._dnext(dc_next, "c_next"), order="C")  # in/out: a copy, never the caller's
        dh = np.zeros_like(dh_next)
        dxs = run_backward(self, dh_next.reshape(dh.shape[0], 1, -1), dh, dc)
        return dxs[:, 0, :], dh, dc


class GRU(_OneStateCell):
    """The book's GRU cell with bias (gates ``z, r, h~``); ``backward(dh_next) -> (dx,
    dh_prev)``; ``dWx``, ``dWh``, ``db`` are ``grads``."""

    KIND, GATES = "GRU", 3
    dWx = property(lambda self: self.grads[0])
    dWh = property(lambda self: self.grads[1])
    db = property(lambda self: self.grads[2])
