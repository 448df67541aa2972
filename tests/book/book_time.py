"""A NumPy transcription of the book's time layers and Rnnlm (vol. 2 ``common/time_layers.py``,
``ch06/rnnlm.py``), the oracle the time-layer tests compare fastprop with: the book's
per-step loops, written here, with the dtype following the parameters (the book's ``'f'``)."""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    x = np.exp(x)
    return x / x.sum(axis=1, keepdims=True)


class RNN:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(p) for p in self.params]

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        h_next = np.tanh(np.dot(h_prev, Wh) + np.dot(x, Wx) + b)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next ** 2)
        self.grads[0][...] = np.dot(x.T, dt)
        self.grads[1][...] = np.dot(h_prev.T, dt)
        self.grads[2][...] = np.sum(dt, axis=0)
        return np.dot(dt, Wx.T), np.dot(dt, Wh.T)


class LSTM:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(p) for p in self.params]

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b = self.params
        H = h_prev.shape[1]
        A = np.dot(x, Wx) + np.dot(h_prev, Wh) + b
        f, g, i, o = sigmoid(A[:, :H]), np.tanh(A[:, H:2 * H]), sigmoid(A[:, 2 * H:3 * H]), sigmoid(A[:, 3 * H:])
        c_next = f * c_prev + g * i
        h_next = o * np.tanh(c_next)
        self.cache = (x, h_prev, c_prev, i, f, g, o, c_next)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        Wx, Wh, b = self.params
        x, h_prev, c_prev, i, f, g, o, c_next = self.cache
        tc = np.tanh(c_next)
        ds = dc_next + (dh_next * o) * (1 - tc ** 2)
        dc_prev = ds * f
        di, df = ds * g * i * (1 - i), ds * c_prev * f * (1 - f)
        do, dg = dh_next * tc * o * (1 - o), ds * i * (1 - g ** 2)
        dA = np.hstack((df, dg, di, do))
        self.grads[0][...] = np.dot(x.T, dA)
        self.grads[1][...] = np.dot(h_prev.T, dA)
        self.grads[2][...] = dA.sum(axis=0)
        return np.dot(dA, Wx.T), np.dot(dA, Wh.T), dc_prev


class GRU:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(p) for p in self.params]

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        z = sigmoid(np.dot(x, Wx[:, :H]) + np.dot(h_prev, Wh[:, :H]) + b[:H])
        r = sigmoid(np.dot(x, Wx[:, H:2 * H]) + np.dot(h_prev, Wh[:, H:2 * H]) + b[H:2 * H])
        h_hat = np.tanh(np.dot(x, Wx[:, 2 * H:]) + np.dot(r * h_prev, Wh[:, 2 * H:]) + b[2 * H:])
        self.cache = (x, h_prev, z, r, h_hat)
        return (1 - z) * h_prev + z * h_hat

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        x, h_prev, z, r, h_hat = self.cache
        dh_prev = dh_next * (1 - z)
        dt = dh_next * z * (1 - h_hat ** 2)
        dbh, dWhh, dhr = dt.sum(axis=0), np.dot((r * h_prev).T, dt), np.dot(dt, Wh[:, 2 * H:].T)
        dWxh, dx = np.dot(x.T, dt), np.dot(dt, Wx[:, 2 * H:].T)
        dh_prev += r * dhr
        dt = (dh_next * h_hat - dh_next * h_prev) * z * (1 - z)
        dbz, dWhz, dWxz = dt.sum(axis=0), np.dot(h_prev.T, dt), np.dot(x.T, dt)
        dh_prev += np.dot(dt, Wh[:, :H].T)
        dx += np.dot(dt, Wx[:, :H].T)
        dt = dhr * h_prev * r * (1 - r)
        dbr, dWhr, dWxr = dt.sum(axis=0), np.dot(h_prev.T, dt), np.dot(x.T, dt)
        dh_prev += np.dot(dt, Wh[:, H:2 * H].T)
        dx += np.dot(dt, Wx[:, H:2 * H].T)
        self.grads[0][...] = np.hstack((dWxz, dWxr, dWxh))
        self.grads[1][...] = np.hstack((dWhz, dWhr, dWhh))
        self.grads[2][...] = np.hstack((dbz, dbr, dbh))
        return dx, dh_prev


class _Time:
    """The book's TimeRNN / TimeLSTM / TimeGRU loop over per-step cells."""

    def __init__(self, cell, Wx, Wh, b, stateful=False):
        self.cell, self.params = cell, [Wx, Wh, b]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.h, self.c, self.dh, self.stateful = None, None, None, stateful

    def forward(self, xs):
        Wx = self.params[0]
        N, T, _ = xs.shape
        H = self.params[1].shape[0]
        self.layers = []
        hs = np.empty((N, T, H), dtype=Wx.dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=Wx.dtype)
        if not self.stateful or self.c is None:
            self.c = np.zeros((N, H), dtype=Wx.dtype)
        for t in range(T):
            layer = self.cell(*self.params)
            if self.cell is LSTM:
                self.h, self.c = layer.forward(xs[:, t, :], self.h, self.c)
            else:
                self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        N, T, _ = dhs.shape
        dxs = np.empty((N, T, self.params[0].shape[0]), dtype=dhs.dtype)
        dh, dc, grads = 0, 0, [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            if self.cell is LSTM:
                dx, dh, dc = layer.backward(dhs[:, t, :] + dh, dc)
            else:
                dx, dh = layer.backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for i, g in enumerate(layer.grads):
                grads[i] += g
        for i, g in enumerate(grads):
            self.grads[i][...] = g
        self.dh = dh
        return dxs

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h, self.c = None, None


def TimeRNN(*a, **k):
    return _Time(RNN, *a, **k)


def TimeLSTM(*a, **k):
    return _Time(LSTM, *a, **k)


def TimeGRU(*a, **k):
    return _Time(GRU, *a, **k)


class TimeEmbedding:
    def __init__(self, W):
        self.params, self.grads = [W], [np.zeros_like(W)]

    def forward(self, xs):
        self.idx = xs
        return self.params[0][xs]

    def backward(self, dout):
        grad = 0
        for t in range(dout.shape[1]):  # the book's per-step Embedding layers, summed
            g = np.zeros_like(self.grads[0])
            np.add.at(g, self.idx[:, t], dout[:, t, :])
            grad += g
        self.grads[0][...] = grad


class TimeAffine:
    def __init__(self, W, b):
        self.params, self.grads = [W, b], [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        N, T, _ = x.shape
        W, b = self.params
        self.x = x
        return (np.dot(x.reshape(N * T, -1), W) + b).reshape(N, T, -1)

    def backward(self, dout):
        N, T, D = self.x.shape
        W, _ = self.params
        dout = dout.reshape(N * T, -1)
        self.grads[0][...] = np.dot(self.x.reshape(N * T, -1).T, dout)
        self.grads[1][...] = np.sum(dout, axis=0)
        return np.dot(dout, W.T).reshape(N, T, D)


class TimeSoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads, self.ignore_label = [], [], -1

    def forward(self, xs, ts):
        N, T, V = xs.shape
        if ts.ndim == 3:
            ts = ts.argmax(axis=2)
        mask = (ts != self.ignore_label).reshape(N * T)
        ts = ts.reshape(N * T)
        ys = softmax(xs.reshape(N * T, V))
        ls = np.log(ys[np.arange(N * T), ts]) * mask
        self.cache = (ts, ys, mask, (N, T, V))
        return -np.sum(ls) / mask.sum()

    def backward(self, dout=1):
        ts, ys, mask, (N, T, V) = self.cache
        dx = ys
        dx[np.arange(N * T), ts] -= 1
        dx *= dout
        dx /= mask.sum()
        dx *= mask[:, np.newaxis]
        return dx.reshape((N, T, V))


class Rnnlm:
    def __init__(self, vocab_size=10000, wordvec_size=100, hidden_size=100, dtype="f"):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        embed_W = (rn(V, D) / 100).astype(dtype)
        lstm_Wx = (rn(D, 4 * H) / np.sqrt(D)).astype(dtype)
        lstm_Wh = (rn(H, 4 * H) / np.sqrt(H)).astype(dtype)
        lstm_b = np.zeros(4 * H).astype(dtype)
        affine_W = (rn(H, V) / np.sqrt(H)).astype(dtype)
        affine_b = np.zeros(V).astype(dtype)
        self.layers = [TimeEmbedding(embed_W), TimeLSTM(lstm_Wx, lstm_Wh, lstm_b, stateful=True),
                       TimeAffine(affine_W, affine_b)]
        self.loss_layer = TimeSoftmaxWithLoss()
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, xs, ts):
        for layer in self.layers:
            xs = layer.forward(xs)
        return self.loss_layer.forward(xs, ts)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def reset_state(self):
        self.layers[1].reset_state()
