"""Whole time loops of vol. 2's recurrent layers (TimeRNN, TimeLSTM, TimeGRU), one call each way.

Layout: every cache is *time-major* (``(T, N, ...)``), so that the step ``t`` slice is a
C-contiguous (N, ...) block a GEMM can take, and so that the weight gradients summed over all
steps are one GEMM each over the (T*N, ...) stacks instead of T small ones:

* forward: ``G = x @ Wx`` for all steps at once (one GEMM), then per step
  ``G[t] += h_prev @ Wh`` (:func:`gemm_acc`, BLAS accumulating into the block) and one fused
  pass for the bias, the gate nonlinearities, the cell and the new ``h``;
* backward: per step one fused pass for the gate gradients ``dA[t]`` and one GEMM
  ``dh_prev = dA[t] @ Wh.T``; after the loop ``dWx = x.T @ dA``, ``dWh = h_prev.T @ dA``,
  ``db = sum(dA)`` and ``dx = dA @ Wx.T`` once each.

``sigmoid`` and ``tanh`` go through the vectorisable ``exp`` of :mod:`.vmath`, so the gate
passes compile to SIMD loops (a libm ``tanh`` per element would cost more than the GEMMs).
Caller-owned buffers, nothing validated here: the layer checks every shape first.
"""
import numpy as np

from ._jit import jit
from .blas import gemm_acc
from .vmath import exp as vexp
from .vmath import exp32


@jit
def sigmoid(v):
    """``1 / (1 + exp(-v))`` as a float64 (exp overflow gives exactly 0)."""
    return 1.0 / (1.0 + vexp(-v))


@jit
def tanh(v):
    """``tanh(v) = 2 sigmoid(2v) - 1``: straight-line code the loop vectoriser keeps
    (absolute error a few ulp of 1; exactly -1 / 1 in the tails)."""
    return 2.0 / (1.0 + vexp(-2.0 * v)) - 1.0


@jit
def to_time_major(xs, out):
    """``out[t, n] = xs[n, t]``: (N, T, D) to (T, N, D); any (A, B, D) to (B, A, D), rows of
    ``xs`` read in order."""
    n_, t_, d_ = xs.shape
    for n in range(n_):
        for t in range(t_):
            for j in range(d_):
                out[t, n, j] = xs[n, t, j]
    return out


@jit
def to_batch_major(xtm, out):
    """``out[n, t] = xtm[t, n]``: (T, N, D) to (N, T, D), the same swap of the two leading
    axes as :func:`to_time_major` (one loop serves both ways)."""
    return to_time_major(xtm, out)


@jit
def _input_gemm(xs, Wx, xtm, G):
    """``xtm = xs`` time-major, ``G[t] = xs[:, t] @ Wx`` for every t in one GEMM."""
    T, N, D = xtm.shape
    to_time_major(xs, xtm)
    np.dot(xtm.reshape(T * N, D), Wx, G.reshape(T * N, G.shape[2]))


@jit
def all_zero(a):
    """True when every element of the 2-D ``a`` is exactly 0 (stops at the first that is
    not): a zero initial state (the book's non-stateful layers, the encoders) makes its
    GEMMs ``0 @ W`` skippable. ~N*H compares against a (N, H) @ (H, gH) GEMM."""
    for n in range(a.shape[0]):
        for j in range(a.shape[1]):
            if a[n, j] != 0:
                return False
    return True


@jit
def step_gemm(h, W, out, row):
    """``out += h @ W`` for one time step. One row (batch 1: the book's ``generate`` and
    ``eval_seq2seq``) goes through ``np.dot`` (a GEMV, which reads ``W`` once) into ``row``
    (a (1, M) scratch) and is added: a one-row GEMM packs all of ``W`` first, 2-2.3x slower
    at (1, 256) @ (256, 1024) (29 vs 12.6 us, float32, 1 thread)."""
    if h.shape[0] == 1:
        np.dot(h, W, row)
        o = out[0]
        r = row[0]
        for j in range(o.shape[0]):
            o[j] += r[j]
    else:
        gemm_acc(h, W, out, 1.0)


@jit
def _input_grads(xtm, dA, Wx, dWx, db, dxtm, dxs):
    """After a backward loop, what every recurrent layer derives from its gate gradients
    ``dA`` (T, N, M) alike: ``dWx = x.T dA``, ``db = sum dA``, ``dxs = dA Wx.T``
    (batch-major), each over all T*N rows at once (``dWh`` is the layer's own)."""
    T, N, D = xtm.shape
    M = dA.shape[2]
    dA2 = dA.reshape(T * N, M)
    np.dot(xtm.reshape(T * N, D).T, dA2, dWx)
    db[:] = 0
    for r in range(T * N):
        for j in range(M):
            db[j] += dA2[r, j]
    np.dot(dA2, Wx.T, dxtm.reshape(T * N, D))
    to_batch_major(dxtm, dxs)


@jit
def _weight_grads(xtm, Hs, dA, Wx, dWx, dWh, db, dxtm, dxs):
    """After a backward loop: ``dWh = h_prev.T dA`` and :func:`_input_grads`; a zero
    initial state ``Hs[0]`` adds nothing to ``dWh`` and its N rows leave the GEMM."""
    T, N = xtm.shape[:2]
    H = Hs.shape[2]
    M = dA.shape[2]
    if not all_zero(Hs[0]):
        np.dot(Hs[:T].reshape(T * N, H).T, dA.reshape(T * N, M), dWh)
    elif T > 1:
        np.dot(Hs[1:T].reshape((T - 1) * N, H).T, dA[1:].reshape((T - 1) * N, M), dWh)
    else:
        dWh[:] = 0
    _input_grads(xtm, dA, Wx, dWx, db, dxtm, dxs)


# --------------------------------------------------------------------------- RNN


@jit
def rnn_forward(xs, Wx, Wh, b, h0, hs, xtm, Hs):
    """The TimeRNN forward: ``h_t = tanh(h_{t-1} @ Wh + x_t @ Wx + b)`` for t = 0..T-1.

    Parameters
    ----------
    xs : (N, T, D) input
    Wx : (D, H), Wh : (H, H), b : (H,), C-contiguous, one float dtype
    h0 : (N, H) initial state
    hs : (N, T, H) written with every ``h_t``
    xtm : (T, N, D) written with ``xs`` time-major (kept for backward)
    Hs : (T + 1, N, H) written: ``Hs[0] = h0``, ``Hs[t + 1] = h_t`` (kept for backward)
    """
    T, N, D = xtm.shape
    H = Wh.shape[0]
    G = Hs[1:]  # x @ Wx lands straight in the state stack; the step adds the rest in place
    _input_gemm(xs, Wx, xtm, G)
    Hs[0] = h0
    zero = all_zero(h0)
    row = np.empty((1, H), Hs.dtype)
    for t in range(T):
        if t > 0 or not zero:  # 0 @ Wh adds nothing
            step_gemm(Hs[t], Wh, Hs[t + 1], row)
        for n in range(N):
            h = Hs[t + 1, n]
            for j in range(H):
                h[j] = tanh(h[j] + b[j])
            out = hs[n, t]
            for j in range(H):
                out[j] = h[j]
    return hs


@jit
def rnn_backward(dhs, Wx, Wh, xtm, Hs, dWx, dWh, db, dxs, dh, dA, dxtm):
    """The TimeRNN backward: gradients of every parameter summed over the T steps.

    Parameters
    ----------
    dhs : (N, T, H) upstream gradient of ``hs``
    Wx, Wh : the forward weights; xtm, Hs : the forward caches
    dWx, dWh, db : written with the summed gradients
    dxs : (N, T, D) written with the input gradient
    dh : (N, H) in/out: on entry the gradient reaching ``h_{T-1}`` from outside the
        window (zeros for a Time layer, ``dh_next`` for a one-step cell), on exit the
        gradient of ``h0`` (the book's ``TimeRNN.dh``)
    dA : (T, N, H), dxtm : (T, N, D) scratch

    Notes
    -----
    ``dt = (dhs[:, t] + dh) * (1 - h_t**2)``, ``dh = dt @ Wh.T``.
    """
    T, N, D = xtm.shape
    H = Wh.shape[0]
    WhT = np.ascontiguousarray(Wh.T)  # see lstm_backward
    for t in range(T - 1, -1, -1):
        D_t = dA[t]
        for n in range(N):
            h = Hs[t + 1, n]
            up = dhs[n, t]
            dhr = dh[n]
            d = D_t[n]
            for j in range(H):
                d[j] = (up[j] + dhr[j]) * (1 - h[j] * h[j])
        np.dot(D_t, WhT, dh)
    _weight_grads(xtm, Hs, dA, Wx, dWx, dWh, db, dxtm, dxs)
    return dxs


# --------------------------------------------------------------------------- LSTM


@jit
def lstm_forward(xs, Wx, Wh, b, h0, c0, hs, xtm, Hs, Cs, G, TC):
    """The TimeLSTM forward, the book's gate order ``[f, g, i, o]`` along the 4H axis.

    Parameters
    ----------
    xs : (N, T, D); Wx : (D, 4H); Wh : (H, 4H); b : (4H,); h0, c0 : (N, H)
    hs : (N, T, H) written with every ``h_t``
    xtm : (T, N, D) written (``xs`` time-major)
    Hs, Cs : (T + 1, N, H) written with ``h``, ``c`` (index 0: the initial state)
    G : (T, N, 4H) written with the activated gates ``f, g, i, o`` of every step
    TC : (T, N, H) written with ``tanh(c_t)``

    Notes
    -----
    ``A = x Wx + h Wh + b``; ``f, i, o = sigmoid``, ``g = tanh`` of their quarters;
    ``c = f c_prev + g i``; ``h = o tanh(c)``.
    """
    T, N, D = xtm.shape
    H = Wh.shape[0]
    _input_gemm(xs, Wx, xtm, G)
    Hs[0] = h0
    Cs[0] = c0
    # tanh(v) = 2 sigmoid(2 v) - 1: one formula for the 4H gate columns, with per-column
    # coefficients, keeps the gate pass a single loop LLVM vectorises
    scale, mul, add = lstm_gate_coefficients(H, G.dtype)
    one, two = G.dtype.type(1), G.dtype.type(2)
    zero = all_zero(h0)
    row = np.empty((1, 4 * H), G.dtype)
    for t in range(T):
        if t > 0 or not zero:  # 0 @ Wh adds nothing (an encoder's, a non-stateful layer's first step)
            step_gemm(Hs[t], Wh, G[t], row)
        for n in range(N):
            a = G[t, n]
            cp = Cs[t, n]
            c = Cs[t + 1, n]
            tc = TC[t, n]
            # float32 gates in float32 arithmetic (exp32: twice the SIMD width of the
            # float64 exp); itemsize is a compile-time constant, one loop per dtype
            if G.itemsize == 4:
                for j in range(4 * H):
                    a[j] = mul[j] / (one + exp32(-scale[j] * (a[j] + b[j]))) + add[j]
                for j in range(H):
                    c[j] = a[j] * cp[j] + a[H + j] * a[2 * H + j]
                for j in range(H):
                    tc[j] = two / (one + exp32(-two * c[j])) - one
            else:
                for j in range(4 * H):
                    a[j] = mul[j] / (1.0 + vexp(-scale[j] * (a[j] + b[j]))) + add[j]
                for j in range(H):
                    c[j] = a[j] * cp[j] + a[H + j] * a[2 * H + j]
                for j in range(H):
                    tc[j] = tanh(c[j])
            h = Hs[t + 1, n]
            for j in range(H):
                h[j] = a[3 * H + j] * tc[j]
            out = hs[n, t]
            for j in range(H):
                out[j] = h[j]
    return hs


@jit
def lstm_gate_coefficients(H, dtype):
    """``(scale, mul, add)`` with ``gate = mul / (1 + exp(-scale * v)) + add``: sigmoid for
    the f, i, o quarters, ``tanh = 2 sigmoid(2v) - 1`` for g."""
    scale = np.ones(4 * H, dtype)
    mul = np.ones(4 * H, dtype)
    add = np.zeros(4 * H, dtype)
    for j in range(H, 2 * H):
        scale[j] = 2
        mul[j] = 2
        add[j] = -1
    return scale, mul, add


@jit
def lstm_backward(dhs, Wx, Wh, xtm, Hs, Cs, G, TC, dWx, dWh, db, dxs, dh, dc, dA, dxtm):
    """The TimeLSTM backward (the book's LSTM.backward for t = T-1..0, summed).

    Parameters
    ----------
    dhs : (N, T, H) upstream gradient of ``hs``
    Wx, Wh : the forward weights; xtm, Hs, Cs, G, TC : the forward caches
    dWx, dWh, db : written with the summed gradients
    dxs : (N, T, D) written
    dh : (N, H) in/out as in :func:`rnn_backward` (the book's ``TimeLSTM.dh`` on exit)
    dc : (N, H) in/out: the gradient reaching ``c_{T-1}`` on entry, of ``c0`` on exit
    dA : (T, N, 4H), dxtm : (T, N, D) scratch

    Notes
    -----
    With ``dh_t = dhs[:, t] + dh``: ``ds = dc + dh_t o (1 - tanh(c)^2)``; ``dc = ds f``;
    ``dA = [ds c_prev f(1-f), ds i (1-g^2), ds g i(1-i), dh_t tanh(c) o(1-o)]``;
    ``dh = dA Wh.T``.
    """
    T, N, D = xtm.shape
    H = Wh.shape[0]
    dhn = np.empty(H, dh.dtype)
    ds = np.empty(H, dh.dtype)
    # a C-contiguous copy of Wh.T made per call (never kept: the caller's Wh may change):
    # OpenBLAS runs the small per-step (N, 4H) @ (4H, H) GEMM about twice as fast with both
    # operands row-major as with the transposed view
    WhT = np.ascontiguousarray(Wh.T)
    for t in range(T - 1, -1, -1):
        D_t = dA[t]
        for n in range(N):
            # one output per loop: with several the aliasing checks stop the vectoriser
            a = G[t, n]
            tc = TC[t, n]
            cp = Cs[t, n]
            dhr = dh[n]
            dcr = dc[n]
            up = dhs[n, t]
            d = D_t[n]
            for j in range(H):
                dhn[j] = up[j] + dhr[j]
            for j in range(H):
                ds[j] = dcr[j] + (dhn[j] * a[3 * H + j]) * (1 - tc[j] * tc[j])
            for j in range(H):
                dcr[j] = ds[j] * a[j]
            for j in range(H):
                d[j] = ds[j] * cp[j] * (a[j] * (1 - a[j]))
            for j in range(H):
                d[H + j] = ds[j] * a[2 * H + j] * (1 - a[H + j] * a[H + j])
            for j in range(H):
                d[2 * H + j] = ds[j] * a[H + j] * (a[2 * H + j] * (1 - a[2 * H + j]))
            for j in range(H):
                d[3 * H + j] = dhn[j] * tc[j] * (a[3 * H + j] * (1 - a[3 * H + j]))
        np.dot(D_t, WhT, dh)
    _weight_grads(xtm, Hs, dA, Wx, dWx, dWh, db, dxtm, dxs)
    return dxs
