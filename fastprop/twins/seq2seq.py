"""Twins of :mod:`fastprop.kernels.seq2seq`: the book's Attention layers step by step and its
``generate`` one question at a time, in NumPy."""
import numpy as np

from .recurrent import _sig


def _softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    x = np.exp(x)
    return x / x.sum(axis=-1, keepdims=True)


def attention_forward(enc_hs, dec_hs, a, c):
    for t in range(dec_hs.shape[1]):
        s = np.sum(enc_hs * dec_hs[:, t][:, None, :], axis=2)
        a[:, t] = _softmax(s)
        c[:, t] = np.sum(enc_hs * a[:, t][:, :, None], axis=1)
    return c


def attention_backward(enc_hs, dec_hs, a, dc, denc_hs, ddec_hs):
    denc_hs[...] = 0
    for t in range(dec_hs.shape[1]):
        w, g = a[:, t], dc[:, t]
        dt = np.repeat(g[:, None, :], enc_hs.shape[1], axis=1)
        dhs0 = dt * w[:, :, None]
        da = np.sum(dt * enc_hs, axis=2)
        ds = w * da
        ds -= w * ds.sum(axis=1, keepdims=True)
        dhs1 = ds[:, :, None] * dec_hs[:, t][:, None, :]
        ddec_hs[:, t] = np.sum(ds[:, :, None] * enc_hs, axis=1)
        denc_hs += dhs0 + dhs1
    return denc_hs


def _lstm_step(x, h, c, Wx, Wh, b):
    H = Wh.shape[0]
    A = np.dot(x, Wx) + np.dot(h, Wh) + b
    f, g, i, o = _sig(A[:, :H]), np.tanh(A[:, H:2 * H]), _sig(A[:, 2 * H:3 * H]), _sig(A[:, 3 * H:])
    c = f * c + g * i
    return o * np.tanh(c), c


def encode_rows(xs, encoder, hs):
    eW, eWx, eWh, eb = encoder
    H = eWh.shape[0]
    K, Te = hs.shape[1], xs.shape[1]
    for n in range(xs.shape[0]):
        h = np.zeros((1, H), eWx.dtype)
        c = np.zeros_like(h)
        for t in range(Te):
            h, c = _lstm_step(eW[xs[n, t]][None], h, c, eWx, eWh, eb)
            if t >= Te - K:
                hs[n, t - (Te - K)] = h[0]
    return hs


def greedy_decode(h0, enc_hs, start_ids, decoder, kind, out):
    dW, dWx, dWh, db, aW, ab = decoder
    for n in range(h0.shape[0]):
        hx = h0[n][None]
        h, c = hx, np.zeros_like(hx)
        sample_id = start_ids[n]
        for s in range(out.shape[1]):
            x = dW[sample_id][None]
            if kind == 1:
                x = np.concatenate((hx, x), axis=1)
            h, c = _lstm_step(x, h, c, dWx, dWh, db)
            if kind == 0:
                feat = h
            elif kind == 1:
                feat = np.concatenate((hx, h), axis=1)
            else:
                enc = enc_hs[n]
                w = _softmax(np.sum(enc * h, axis=1))
                feat = np.concatenate((np.sum(enc * w[:, None], axis=0)[None], h), axis=1)
            sample_id = np.argmax((np.dot(feat, aW) + ab).flatten())
            out[n, s] = sample_id
    return out
