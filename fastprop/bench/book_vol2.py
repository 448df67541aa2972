"""The book's vol. 2 ch. 2-6 classes in plain NumPy: the baseline of ``fastprop bench
--models rnnlm lstm cbow sampler ppmi``.

As :mod:`fastprop.bench.book` does for vol. 1 ch. 5: the book's code, nothing compiled,
nothing validated. The TimeLSTM runs the twin of fastprop's LSTM kernel
(``fastprop.twins.recurrent``: the book's per-step cell, forward then backward, with the
book's per-step weight gradients summed); the Embedding gradient is the twin's (the book's
``dW[...] = 0; np.add.at(dW, idx, dout)``). ``ppmi`` is the book's double loop (the twin of
fastprop's kernel vectorises it, so it is not the book's algorithm's cost).

The nets (:class:`BookRnnlm`, :class:`BookCBOW`) take their layer classes from a namespace
(:data:`BOOK_LAYERS` by default), so the same book class also runs on fastprop's layers, as
``fastprop run`` runs the book's chapter-local ``ch06/rnnlm.py`` and ``ch04/cbow.py``.
"""
import collections
from types import SimpleNamespace

import numpy as np

from ..twins import embedding as twin_embedding
from ..twins import recurrent as twin_recurrent
from .book import book_cross_entropy_error


def book_softmax2d(x):
    x = x - x.max(axis=1, keepdims=True)
    x = np.exp(x)
    x /= x.sum(axis=1, keepdims=True)
    return x


class BookEmbedding:
    def __init__(self, W):
        self.params, self.grads, self.idx = [W], [np.zeros_like(W)], None

    def forward(self, idx):
        W, = self.params
        self.idx = idx
        return W[idx]

    def backward(self, dout):
        dW, = self.grads
        twin_embedding.embedding_backward(self.idx, dout, dW)


class BookTimeEmbedding:
    def __init__(self, W):
        self.params, self.grads, self.layers, self.W = [W], [np.zeros_like(W)], None, W

    def forward(self, xs):
        N, T = xs.shape
        V, D = self.W.shape
        out = np.empty((N, T, D), dtype=self.W.dtype)  # the book: 'f', the dtype of its W
        self.layers = []
        for t in range(T):
            layer = BookEmbedding(self.W)
            out[:, t, :] = layer.forward(xs[:, t])
            self.layers.append(layer)
        return out

    def backward(self, dout):
        N, T, D = dout.shape
        grad = 0
        for t in range(T):
            layer = self.layers[t]
            layer.backward(dout[:, t, :])
            grad += layer.grads[0]
        self.grads[0][...] = grad


class BookTimeLSTM:
    """The book's TimeLSTM; the loop over its per-step LSTM cells is the twin's."""

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.h, self.c, self.dh, self.stateful = None, None, None, stateful

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H, dt = Wh.shape[0], Wx.dtype
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=dt)
        if not self.stateful or self.c is None:
            self.c = np.zeros((N, H), dtype=dt)
        hs = np.empty((N, T, H), dtype=dt)
        self.cache = (np.empty((T, N, D), dt), np.empty((T + 1, N, H), dt),
                      np.empty((T + 1, N, H), dt), np.empty((T, N, 4 * H), dt),
                      np.empty((T, N, H), dt))
        twin_recurrent.lstm_forward(xs, Wx, Wh, b, self.h, self.c, hs, *self.cache)
        self.h, self.c = self.cache[1][T].copy(), self.cache[2][T].copy()
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D, dt = Wx.shape[0], Wx.dtype
        dxs = np.empty((N, T, D), dt)
        dh, dc = np.zeros((N, H), dt), np.zeros((N, H), dt)
        twin_recurrent.lstm_backward(dhs, Wx, Wh, *self.cache, *self.grads, dxs, dh, dc,
                                     np.empty((T, N, 4 * H), dt), np.empty((T, N, D), dt))
        self.dh = dh
        return dxs

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h, self.c = None, None


class BookTimeAffine:
    def __init__(self, W, b):
        self.params, self.grads, self.x = [W, b], [np.zeros_like(W), np.zeros_like(b)], None

    def forward(self, x):
        N, T, D = x.shape
        W, b = self.params
        out = np.dot(x.reshape(N * T, -1), W) + b
        self.x = x
        return out.reshape(N, T, -1)

    def backward(self, dout):
        x = self.x
        N, T, D = x.shape
        W, b = self.params
        dout = dout.reshape(N * T, -1)
        rx = x.reshape(N * T, -1)
        db = np.sum(dout, axis=0)
        dW = np.dot(rx.T, dout)
        dx = np.dot(dout, W.T).reshape(*x.shape)
        self.grads[0][...] = dW
        self.grads[1][...] = db
        return dx


class BookTimeSoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads, self.cache, self.ignore_label = [], [], None, -1

    def forward(self, xs, ts):
        N, T, V = xs.shape
        if ts.ndim == 3:
            ts = ts.argmax(axis=2)
        mask = (ts != self.ignore_label)
        xs, ts, mask = xs.reshape(N * T, V), ts.reshape(N * T), mask.reshape(N * T)
        ys = book_softmax2d(xs)
        ls = np.log(ys[np.arange(N * T), ts])
        ls *= mask
        loss = -np.sum(ls)
        loss /= mask.sum()
        self.cache = (ts, ys, mask, (N, T, V))
        return loss

    def backward(self, dout=1):
        ts, ys, mask, (N, T, V) = self.cache
        dx = ys
        dx[np.arange(N * T), ts] -= 1
        dx *= dout
        dx /= mask.sum()
        dx *= mask[:, np.newaxis]
        return dx.reshape((N, T, V))


class BookSigmoidWithLoss:
    def __init__(self):
        self.params, self.grads, self.loss, self.y, self.t = [], [], None, None, None

    def forward(self, x, t):
        self.t = t
        self.y = 1 / (1 + np.exp(-x))
        self.loss = book_cross_entropy_error(np.c_[1 - self.y, self.y], self.t)
        return self.loss

    def backward(self, dout=1):
        return (self.y - self.t) * dout / self.t.shape[0]


class BookEmbeddingDot:
    def __init__(self, W):
        self.embed = BookEmbedding(W)
        self.params, self.grads, self.cache = self.embed.params, self.embed.grads, None

    def forward(self, h, idx):
        target_W = self.embed.forward(idx)
        out = np.sum(target_W * h, axis=1)
        self.cache = (h, target_W)
        return out

    def backward(self, dout):
        h, target_W = self.cache
        dout = dout.reshape(dout.shape[0], 1)
        self.embed.backward(dout * h)
        return dout * target_W


class BookUnigramSampler:
    def __init__(self, corpus, power, sample_size):
        self.sample_size = sample_size
        counts = collections.Counter()
        for word_id in corpus:
            counts[word_id] += 1
        self.vocab_size = len(counts)
        self.word_p = np.zeros(self.vocab_size)
        for i in range(self.vocab_size):
            self.word_p[i] = counts[i]
        self.word_p = np.power(self.word_p, power)
        self.word_p /= np.sum(self.word_p)

    def get_negative_sample(self, target):
        batch_size = target.shape[0]
        negative_sample = np.zeros((batch_size, self.sample_size), dtype=np.int32)
        for i in range(batch_size):
            p = self.word_p.copy()
            p[target[i]] = 0
            p /= p.sum()
            negative_sample[i, :] = np.random.choice(self.vocab_size, size=self.sample_size,
                                                     replace=False, p=p)
        return negative_sample


class BookNegativeSamplingLoss:
    def __init__(self, W, corpus, power=0.75, sample_size=5):
        self.sample_size = sample_size
        self.sampler = BookUnigramSampler(corpus, power, sample_size)
        self.loss_layers = [BookSigmoidWithLoss() for _ in range(sample_size + 1)]
        self.embed_dot_layers = [BookEmbeddingDot(W) for _ in range(sample_size + 1)]
        self.params, self.grads = [], []
        for layer in self.embed_dot_layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, h, target):
        batch_size = target.shape[0]
        negative_sample = self.sampler.get_negative_sample(target)
        score = self.embed_dot_layers[0].forward(h, target)
        loss = self.loss_layers[0].forward(score, np.ones(batch_size, dtype=np.int32))
        negative_label = np.zeros(batch_size, dtype=np.int32)
        for i in range(self.sample_size):
            score = self.embed_dot_layers[1 + i].forward(h, negative_sample[:, i])
            loss += self.loss_layers[1 + i].forward(score, negative_label)
        return loss

    def backward(self, dout=1):
        dh = 0
        for l0, l1 in zip(self.loss_layers, self.embed_dot_layers):
            dh += l1.backward(l0.backward(dout))
        return dh


BOOK_LAYERS = SimpleNamespace(
    Embedding=BookEmbedding, TimeEmbedding=BookTimeEmbedding, TimeLSTM=BookTimeLSTM,
    TimeAffine=BookTimeAffine, TimeSoftmaxWithLoss=BookTimeSoftmaxWithLoss,
    NegativeSamplingLoss=BookNegativeSamplingLoss)


class BookRnnlm:
    """ch06/rnnlm.py; ``layers``: where TimeEmbedding, TimeLSTM, ... come from."""

    def __init__(self, vocab_size=10000, wordvec_size=100, hidden_size=100, dtype="f",
                 layers=BOOK_LAYERS):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        embed_W = (rn(V, D) / 100).astype(dtype)
        lstm_Wx = (rn(D, 4 * H) / np.sqrt(D)).astype(dtype)
        lstm_Wh = (rn(H, 4 * H) / np.sqrt(H)).astype(dtype)
        lstm_b = np.zeros(4 * H).astype(dtype)
        affine_W = (rn(H, V) / np.sqrt(H)).astype(dtype)
        affine_b = np.zeros(V).astype(dtype)
        self.layers = [layers.TimeEmbedding(embed_W),
                       layers.TimeLSTM(lstm_Wx, lstm_Wh, lstm_b, stateful=True),
                       layers.TimeAffine(affine_W, affine_b)]
        self.loss_layer = layers.TimeSoftmaxWithLoss()
        self.lstm_layer = self.layers[1]
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def predict(self, xs):
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def forward(self, xs, ts):
        return self.loss_layer.forward(self.predict(xs), ts)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def reset_state(self):
        self.lstm_layer.reset_state()


class BookSeq2seq:
    """ch07/seq2seq.py (Encoder, Decoder, Seq2seq in one class, the book's arithmetic and
    order of draws); ``layers``: where TimeEmbedding, TimeLSTM, ... come from."""

    def __init__(self, vocab_size, wordvec_size, hidden_size, dtype="f", layers=BOOK_LAYERS):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn

        def lstm(stateful):
            return layers.TimeLSTM((rn(D, 4 * H) / np.sqrt(D)).astype(dtype),
                                   (rn(H, 4 * H) / np.sqrt(H)).astype(dtype),
                                   np.zeros(4 * H).astype(dtype), stateful=stateful)
        self.enc_embed = layers.TimeEmbedding((rn(V, D) / 100).astype(dtype))
        self.enc_lstm = lstm(False)
        self.dec_embed = layers.TimeEmbedding((rn(V, D) / 100).astype(dtype))
        self.dec_lstm = lstm(True)
        self.dec_affine = layers.TimeAffine((rn(H, V) / np.sqrt(H)).astype(dtype),
                                            np.zeros(V).astype(dtype))
        self.softmax = layers.TimeSoftmaxWithLoss()
        self.params, self.grads = [], []
        for layer in (self.enc_embed, self.enc_lstm, self.dec_embed, self.dec_lstm, self.dec_affine):
            self.params += layer.params
            self.grads += layer.grads

    def _encode(self, xs):
        self.hs = self.enc_lstm.forward(self.enc_embed.forward(xs))
        return self.hs[:, -1, :]

    def forward(self, xs, ts):
        decoder_xs, decoder_ts = ts[:, :-1], ts[:, 1:]
        self.dec_lstm.set_state(self._encode(xs))
        out = self.dec_lstm.forward(self.dec_embed.forward(decoder_xs))
        return self.softmax.forward(self.dec_affine.forward(out), decoder_ts)

    def backward(self, dout=1):
        dout = self.dec_affine.backward(self.softmax.backward(dout))
        self.dec_embed.backward(self.dec_lstm.backward(dout))
        dhs = np.zeros_like(self.hs)
        dhs[:, -1, :] = self.dec_lstm.dh
        self.enc_embed.backward(self.enc_lstm.backward(dhs))

    def generate(self, xs, start_id, sample_size):
        sampled, sample_id = [], start_id
        self.dec_lstm.set_state(self._encode(xs))
        for _ in range(sample_size):
            x = np.array(sample_id).reshape((1, 1))
            score = self.dec_affine.forward(self.dec_lstm.forward(self.dec_embed.forward(x)))
            sample_id = np.argmax(score.flatten())
            sampled.append(int(sample_id))
        return sampled


class BookCBOW:
    """ch04/cbow.py; ``layers``: where Embedding and NegativeSamplingLoss come from."""

    def __init__(self, vocab_size, hidden_size, window_size, corpus, dtype="f",
                 layers=BOOK_LAYERS):
        V, H = vocab_size, hidden_size
        W_in = 0.01 * np.random.randn(V, H).astype(dtype)
        W_out = 0.01 * np.random.randn(V, H).astype(dtype)
        self.in_layers = [layers.Embedding(W_in) for _ in range(2 * window_size)]
        self.ns_loss = layers.NegativeSamplingLoss(W_out, corpus, power=0.75, sample_size=5)
        self.params, self.grads = [], []
        for layer in self.in_layers + [self.ns_loss]:
            self.params += layer.params
            self.grads += layer.grads
        self.word_vecs = W_in

    def forward(self, contexts, target):
        h = 0
        for i, layer in enumerate(self.in_layers):
            h += layer.forward(contexts[:, i])
        h *= 1 / len(self.in_layers)
        return self.ns_loss.forward(h, target)

    def backward(self, dout=1):
        dout = self.ns_loss.backward(dout)
        dout *= 1 / len(self.in_layers)
        for layer in self.in_layers:
            layer.backward(dout)


class BookListSGD:
    """vol. 2 common/optimizer.py ``SGD`` (lists)."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for i in range(len(params)):
            params[i] -= self.lr * grads[i]


def book_remove_duplicate(params, grads):
    params, grads = params[:], grads[:]
    while True:
        find_flg = False
        L = len(params)
        for i in range(0, L - 1):
            for j in range(i + 1, L):
                if params[i] is params[j]:
                    grads[i] += grads[j]
                    find_flg = True
                    params.pop(j)
                    grads.pop(j)
                elif params[i].ndim == 2 and params[j].ndim == 2 and \
                        params[i].T.shape == params[j].shape and np.all(params[i].T == params[j]):
                    grads[i] += grads[j].T
                    find_flg = True
                    params.pop(j)
                    grads.pop(j)
                if find_flg:
                    break
            if find_flg:
                break
        if not find_flg:
            break
    return params, grads


def book_clip_grads(grads, max_norm):
    total_norm = 0
    for grad in grads:
        total_norm += np.sum(grad ** 2)
    total_norm = np.sqrt(total_norm)
    rate = max_norm / (total_norm + 1e-6)
    if rate < 1:
        for grad in grads:
            grad *= rate


def book_ppmi(C, verbose=False, eps=1e-8):
    M = np.zeros_like(C, dtype=np.float32)
    N = np.sum(C)
    S = np.sum(C, axis=0)
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            pmi = np.log2(C[i, j] * N / (S[j] * S[i]) + eps)
            M[i, j] = max(0, pmi)
    return M
