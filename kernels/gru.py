"""The TimeGRU time loop, one compiled call each way (vol. 2's ``GRU`` with its bias).

Gate order ``[z, r, h~]`` along the 3H axis, as the book's ``GRU``: ``z`` and ``r`` take
``h_prev @ Wh[:, :2H]``, the candidate takes ``(r * h_prev) @ Wh[:, 2H:]``, so the recurrent
GEMM is split in two per step; the two column blocks of ``Wh`` are copied once per call into
contiguous matrices (H x 3H elements, against T GEMMs that read them). The layout rules are
those of :mod:`.recurrent` (time-major caches, weight gradients as one GEMM over all steps).
"""
import numpy as np

from ._jit import jit
from .blas import gemm_acc
from .recurrent import _input_gemm, _input_grads, sigmoid, tanh


@jit
def gru_forward(xs, Wx, Wh, b, h0, hs, xtm, Hs, G, RH):
    """The TimeGRU forward.

    Parameters
    ----------
    xs : (N, T, D); Wx : (D, 3H); Wh : (H, 3H); b : (3H,); h0 : (N, H)
    hs : (N, T, H) written with every ``h_t``
    xtm : (T, N, D) written (``xs`` time-major)
    Hs : (T + 1, N, H) written (``Hs[0] = h0``)
    G : (T, N, 3H) written with ``z, r, h~`` of every step
    RH : (T, N, H) written with ``r * h_prev`` (the candidate GEMM's input)

    Notes
    -----
    ``z = sigmoid(x Wxz + h Whz + bz)``, ``r = sigmoid(x Wxr + h Whr + br)``,
    ``h~ = tanh(x Wxh + (r h) Whh + bh)``, ``h_next = (1 - z) h + z h~``.
    """
    T, N = xtm.shape[:2]
    H = Wh.shape[0]
    _input_gemm(xs, Wx, xtm, G)
    Whzr = np.ascontiguousarray(Wh[:, :2 * H])
    Whh = np.ascontiguousarray(Wh[:, 2 * H:])
    azr = np.empty((N, 2 * H), Wh.dtype)
    ah = np.empty((N, H), Wh.dtype)
    Hs[0] = h0
    for t in range(T):
        A = G[t]
        hp = Hs[t]
        np.dot(hp, Whzr, azr)
        for n in range(N):
            for j in range(H):
                z = sigmoid(A[n, j] + azr[n, j] + b[j])
                r = sigmoid(A[n, H + j] + azr[n, H + j] + b[H + j])
                A[n, j] = z
                A[n, H + j] = r
                RH[t, n, j] = r * hp[n, j]
        np.dot(RH[t], Whh, ah)
        for n in range(N):
            for j in range(H):
                hh = tanh(A[n, 2 * H + j] + ah[n, j] + b[2 * H + j])
                A[n, 2 * H + j] = hh
                z = A[n, j]
                h = (1 - z) * hp[n, j] + z * hh
                Hs[t + 1, n, j] = h
                hs[n, t, j] = h
    return hs


@jit
def gru_backward(dhs, Wx, Wh, xtm, Hs, G, RH, dWx, dWh, db, dxs, dh, dA, dxtm):
    """The TimeGRU backward (the book's ``GRU.backward`` for t = T-1..0, summed).

    Parameters
    ----------
    dhs : (N, T, H); Wx, Wh : the forward weights; xtm, Hs, G, RH : the forward caches
    dWx, dWh, db : written with the summed gradients
    dxs : (N, T, D) written; dh : (N, H) in/out as in :func:`.recurrent.rnn_backward`
    dA : (T, N, 3H), dxtm : (T, N, D) scratch

    Notes
    -----
    ``dt_h = dh z (1 - h~^2)``, ``dhr = dt_h Whh.T``, ``dt_z = dh (h~ - h) z (1 - z)``,
    ``dt_r = dhr h r (1 - r)``, ``dh_prev = dh (1 - z) + r dhr + [dt_z, dt_r] Whzr.T``.
    """
    T, N = xtm.shape[:2]
    H = Wh.shape[0]
    M = 3 * H
    WhzrT = np.ascontiguousarray(Wh[:, :2 * H]).T
    WhhT = np.ascontiguousarray(Wh[:, 2 * H:]).T
    dhr = np.empty((N, H), Wh.dtype)
    dzr = np.empty((N, 2 * H), Wh.dtype)
    dth = np.empty((N, H), Wh.dtype)
    dnext = np.empty((N, H), Wh.dtype)
    for t in range(T - 1, -1, -1):
        A = G[t]
        hp = Hs[t]
        D_t = dA[t]
        for n in range(N):
            for j in range(H):
                dhn = dhs[n, t, j] + dh[n, j]
                dnext[n, j] = dhn
                hh = A[n, 2 * H + j]
                v = dhn * A[n, j] * (1 - hh * hh)
                dth[n, j] = v
                D_t[n, 2 * H + j] = v
        np.dot(dth, WhhT, dhr)
        for n in range(N):
            for j in range(H):
                dhn = dnext[n, j]
                z = A[n, j]
                r = A[n, H + j]
                dz = dhn * A[n, 2 * H + j] - dhn * hp[n, j]
                vz = dz * z * (1 - z)
                vr = dhr[n, j] * hp[n, j] * r * (1 - r)
                dzr[n, j] = vz
                dzr[n, H + j] = vr
                D_t[n, j] = vz
                D_t[n, H + j] = vr
                dh[n, j] = dhn * (1 - z) + r * dhr[n, j]
        gemm_acc(dzr, WhzrT, dh, 1.0)
    dA2 = dA.reshape(T * N, M)
    gzr = np.empty((H, 2 * H), Wh.dtype)
    gh = np.empty((H, H), Wh.dtype)
    zr = np.ascontiguousarray(dA2[:, :2 * H])
    np.dot(Hs[:T].reshape(T * N, H).T, zr, gzr)
    hcol = np.ascontiguousarray(dA2[:, 2 * H:])
    np.dot(RH.reshape(T * N, H).T, hcol, gh)
    dWh[:, :2 * H] = gzr
    dWh[:, 2 * H:] = gh
    _input_grads(xtm, dA, Wx, dWx, db, dxtm, dxs)
    return dxs
