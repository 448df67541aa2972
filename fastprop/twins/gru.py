"""Twin of :mod:`fastprop.kernels.gru`: the book's GRU cell step by step in NumPy."""
import numpy as np

from .recurrent import _sig, to_batch_major, to_time_major


def gru_forward(xs, Wx, Wh, b, h0, hs, xtm, Hs, G, RH):
    to_time_major(xs, xtm)
    H = Wh.shape[0]
    Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
    Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
    bz, br, bh = b[:H], b[H:2 * H], b[2 * H:]
    Hs[0] = h0
    for t in range(xs.shape[1]):
        x, h_prev = xs[:, t, :], Hs[t]
        z = _sig(np.dot(x, Wxz) + np.dot(h_prev, Whz) + bz)
        r = _sig(np.dot(x, Wxr) + np.dot(h_prev, Whr) + br)
        h_hat = np.tanh(np.dot(x, Wxh) + np.dot(r * h_prev, Whh) + bh)
        Hs[t + 1] = (1 - z) * h_prev + z * h_hat
        G[t] = np.hstack((z, r, h_hat))
        RH[t] = r * h_prev
        hs[:, t, :] = Hs[t + 1]
    return hs


def gru_backward(dhs, Wx, Wh, xtm, Hs, G, RH, dWx, dWh, db, dxs, dh, dA, dxtm):
    H = Wh.shape[0]
    Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
    Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
    dWx[...] = 0
    dWh[...] = 0
    db[...] = 0
    for t in reversed(range(xtm.shape[0])):
        x, h_prev = xtm[t], Hs[t]
        z, r, h_hat = G[t][:, :H], G[t][:, H:2 * H], G[t][:, 2 * H:]
        dh_next = dhs[:, t, :] + dh
        dh_hat = dh_next * z
        dh_prev = dh_next * (1 - z)
        dt = dh_hat * (1 - h_hat ** 2)
        dbh, dWhh, dhr = np.sum(dt, axis=0), np.dot((r * h_prev).T, dt), np.dot(dt, Whh.T)
        dWxh, dx = np.dot(x.T, dt), np.dot(dt, Wxh.T)
        dh_prev += r * dhr
        dth = dt
        dz = dh_next * h_hat - dh_next * h_prev
        dt = dz * z * (1 - z)
        dbz, dWhz, dWxz = np.sum(dt, axis=0), np.dot(h_prev.T, dt), np.dot(x.T, dt)
        dh_prev += np.dot(dt, Whz.T)
        dx += np.dot(dt, Wxz.T)
        dtz = dt
        dr = dhr * h_prev
        dt = dr * r * (1 - r)
        dbr, dWhr, dWxr = np.sum(dt, axis=0), np.dot(h_prev.T, dt), np.dot(x.T, dt)
        dh_prev += np.dot(dt, Whr.T)
        dx += np.dot(dt, Wxr.T)
        dWx += np.hstack((dWxz, dWxr, dWxh))
        dWh += np.hstack((dWhz, dWhr, dWhh))
        db += np.hstack((dbz, dbr, dbh))
        dxtm[t] = dx
        dA[t] = np.hstack((dtz, dt, dth))
        dh[...] = dh_prev
    to_batch_major(dxtm, dxs)
    return dxs
