"""Twins of :mod:`fastprop.kernels.recurrent`: the book's RNN/LSTM cells step by step in
NumPy, writing the same caches the kernels write."""
import numpy as np


def _sig(x):
    with np.errstate(over="ignore"):  # exp(1000) = inf gives exactly 0
        return 1 / (1 + np.exp(-x))


def sigmoid(v):
    return float(_sig(np.float64(v)))


def tanh(v):
    return float(np.tanh(np.float64(v)))


def to_time_major(xs, out):
    out[...] = xs.transpose(1, 0, 2)
    return out


def to_batch_major(xtm, out):
    return to_time_major(xtm, out)


def step_gemm(h, W, out, row):
    out += np.dot(h, W)


def all_zero(a):
    return not np.any(a)


def _weight_grads(xtm, Hs, dA, Wx, dWx, dWh, db, dxtm, dxs):
    T = xtm.shape[0]
    dWx[...] = 0
    dWh[...] = 0
    db[...] = 0
    for t in range(T):  # the book's per-step gradients, summed
        dWx += np.dot(xtm[t].T, dA[t])
        dWh += np.dot(Hs[t].T, dA[t])
        db += dA[t].sum(axis=0)
        dxtm[t] = np.dot(dA[t], Wx.T)
    to_batch_major(dxtm, dxs)


def rnn_forward(xs, Wx, Wh, b, h0, hs, xtm, Hs):
    to_time_major(xs, xtm)
    Hs[0] = h0
    for t in range(xs.shape[1]):
        Hs[t + 1] = np.tanh(np.dot(Hs[t], Wh) + np.dot(xs[:, t, :], Wx) + b)
        hs[:, t, :] = Hs[t + 1]
    return hs


def rnn_backward(dhs, Wx, Wh, xtm, Hs, dWx, dWh, db, dxs, dh, dA, dxtm):
    for t in reversed(range(xtm.shape[0])):
        h_next = Hs[t + 1]
        dA[t] = (dhs[:, t, :] + dh) * (1 - h_next ** 2)
        dh[...] = np.dot(dA[t], Wh.T)
    _weight_grads(xtm, Hs, dA, Wx, dWx, dWh, db, dxtm, dxs)
    return dxs


def lstm_forward(xs, Wx, Wh, b, h0, c0, hs, xtm, Hs, Cs, G, TC):
    to_time_major(xs, xtm)
    H = Wh.shape[0]
    Hs[0], Cs[0] = h0, c0
    for t in range(xs.shape[1]):
        A = np.dot(xs[:, t, :], Wx) + np.dot(Hs[t], Wh) + b
        f, g, i, o = _sig(A[:, :H]), np.tanh(A[:, H:2 * H]), _sig(A[:, 2 * H:3 * H]), _sig(A[:, 3 * H:])
        Cs[t + 1] = f * Cs[t] + g * i
        TC[t] = np.tanh(Cs[t + 1])
        Hs[t + 1] = o * TC[t]
        G[t] = np.hstack((f, g, i, o))
        hs[:, t, :] = Hs[t + 1]
    return hs


def lstm_backward(dhs, Wx, Wh, xtm, Hs, Cs, G, TC, dWx, dWh, db, dxs, dh, dc, dA, dxtm):
    H = Wh.shape[0]
    for t in reversed(range(xtm.shape[0])):
        f, g, i, o = G[t][:, :H], G[t][:, H:2 * H], G[t][:, 2 * H:3 * H], G[t][:, 3 * H:]
        dh_next = dhs[:, t, :] + dh
        tanh_c = np.tanh(Cs[t + 1])
        ds = dc + (dh_next * o) * (1 - tanh_c ** 2)
        dc[...] = ds * f
        di = ds * g * i * (1 - i)
        df = ds * Cs[t] * f * (1 - f)
        do = dh_next * tanh_c * o * (1 - o)
        dg = ds * i * (1 - g ** 2)
        dA[t] = np.hstack((df, dg, di, do))
        dh[...] = np.dot(dA[t], Wh.T)
    _weight_grads(xtm, Hs, dA, Wx, dWx, dWh, db, dxtm, dxs)
    return dxs


def lstm_gate_coefficients(H, dtype):
    scale, mul, add = np.ones(4 * H, dtype), np.ones(4 * H, dtype), np.zeros(4 * H, dtype)
    scale[H:2 * H], mul[H:2 * H], add[H:2 * H] = 2, 2, -1
    return scale, mul, add
