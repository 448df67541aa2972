"""A NumPy transcription of the book's seq2seq models (vol. 2 ``ch07/seq2seq.py``,
``ch07/peeky_seq2seq.py``, ``ch08/attention_layer.py``, ``ch08/attention_seq2seq.py``) on the
time layers of :mod:`fastprop.bench.book.vol2_time`: the oracle of ``tests/nets/test_seq2seq_models.py``. The book's
per-step loops and concatenations, written here; ``dtype`` follows the book's ``'f'``."""
import numpy as np

from fastprop.bench.book.vol2 import softmax
from fastprop.bench.book.vol2_time import TimeAffine, TimeEmbedding, TimeLSTM, TimeSoftmaxWithLoss


def _lstm(rn, din, H, dt, stateful):
    return TimeLSTM((rn(din, 4 * H) / np.sqrt(din)).astype(dt), (rn(H, 4 * H) / np.sqrt(H)).astype(dt),
                    np.zeros(4 * H).astype(dt), stateful=stateful)


def _collect(obj, layers):
    obj.params, obj.grads = [], []
    for layer in layers:
        obj.params += layer.params
        obj.grads += layer.grads


class Encoder:
    def __init__(self, V, D, H, dtype="f"):
        rn = np.random.randn
        self.embed = TimeEmbedding((rn(V, D) / 100).astype(dtype))
        self.lstm = _lstm(rn, D, H, dtype, False)
        _collect(self, (self.embed, self.lstm))

    def forward(self, xs):
        self.hs = self.lstm.forward(self.embed.forward(xs))
        return self.hs[:, -1, :]

    def backward(self, dh):
        dhs = np.zeros_like(self.hs)
        dhs[:, -1, :] = dh
        self.embed.backward(self.lstm.backward(dhs))


class AttentionEncoder(Encoder):
    def forward(self, xs):
        self.hs = self.lstm.forward(self.embed.forward(xs))
        return self.hs

    def backward(self, dhs):
        self.embed.backward(self.lstm.backward(dhs))


class Decoder:
    """Decoder, PeekyDecoder (peeky) or AttentionDecoder (attention)."""

    def __init__(self, V, D, H, dtype="f", peeky=False, attention=False):
        rn = np.random.randn
        self.peeky, self.attention, self.H = peeky, attention, H
        F = 2 * H if peeky or attention else H
        self.embed = TimeEmbedding((rn(V, D) / 100).astype(dtype))
        self.lstm = _lstm(rn, H + D if peeky else D, H, dtype, True)
        self.affine = TimeAffine((rn(F, V) / np.sqrt(F)).astype(dtype), np.zeros(V).astype(dtype))
        _collect(self, (self.embed, self.lstm, self.affine))

    def _step_features(self, xs, h, enc_hs):
        N, T = xs.shape
        out = self.embed.forward(xs)
        if self.peeky:
            hs = np.repeat(h, T, axis=0).reshape(N, T, self.H)
            out = np.concatenate((hs, out), axis=2)
        dec_hs = self.lstm.forward(out)
        if self.peeky:
            return np.concatenate((hs, dec_hs), axis=2)
        if self.attention:
            self.att = TimeAttention()
            return np.concatenate((self.att.forward(enc_hs, dec_hs), dec_hs), axis=2)
        return dec_hs

    def forward(self, xs, h):
        enc_hs = h
        if self.attention:
            h = enc_hs[:, -1]
        self.lstm.set_state(h)
        return self.affine.forward(self._step_features(xs, h, enc_hs))

    def backward(self, dscore):
        H = self.H
        dout = self.affine.backward(dscore)
        if self.peeky:
            dout, dhs0 = dout[:, :, H:], dout[:, :, :H]
            dout = self.lstm.backward(dout)
            dembed, dhs1 = dout[:, :, H:], dout[:, :, :H]
            self.embed.backward(dembed)
            return self.lstm.dh + np.sum(dhs0 + dhs1, axis=1)
        if self.attention:
            dc, ddec_hs0 = dout[:, :, :H], dout[:, :, H:]
            denc_hs, ddec_hs1 = self.att.backward(dc)
            self.embed.backward(self.lstm.backward(ddec_hs0 + ddec_hs1))
            denc_hs[:, -1] += self.lstm.dh
            return denc_hs
        self.embed.backward(self.lstm.backward(dout))
        return self.lstm.dh

    def generate(self, h, start_id, sample_size):
        enc_hs = h
        if self.attention:
            h = enc_hs[:, -1]
        self.lstm.set_state(h)
        sampled, sample_id = [], start_id
        for _ in range(sample_size):
            score = self.affine.forward(self._step_features(np.array(sample_id).reshape((1, 1)), h, enc_hs))
            sample_id = np.argmax(score.flatten())
            sampled.append(int(sample_id))
        return sampled


class Seq2seq:
    def __init__(self, V, D, H, dtype="f", peeky=False, attention=False):
        self.encoder = (AttentionEncoder if attention else Encoder)(V, D, H, dtype)
        self.decoder = Decoder(V, D, H, dtype, peeky, attention)
        self.softmax = TimeSoftmaxWithLoss()
        self.params = self.encoder.params + self.decoder.params
        self.grads = self.encoder.grads + self.decoder.grads

    def forward(self, xs, ts):
        h = self.encoder.forward(xs)
        return self.softmax.forward(self.decoder.forward(ts[:, :-1], h), ts[:, 1:])

    def backward(self, dout=1):
        self.encoder.backward(self.decoder.backward(self.softmax.backward(dout)))

    def generate(self, xs, start_id, sample_size):
        return self.decoder.generate(self.encoder.forward(xs), start_id, sample_size)


class TimeAttention:
    """The book's Attention (AttentionWeight + WeightSum) per decoder step."""

    def forward(self, hs_enc, hs_dec):
        self.hs_enc, self.hs_dec, self.a = hs_enc, hs_dec, []
        out = np.empty_like(hs_dec)
        for t in range(hs_dec.shape[1]):
            a = softmax(np.sum(hs_enc * hs_dec[:, t][:, None, :], axis=2))
            out[:, t] = np.sum(hs_enc * a[:, :, None], axis=1)
            self.a.append(a)
        return out

    def backward(self, dout):
        hs, T = self.hs_enc, dout.shape[1]
        dhs_enc, dhs_dec = 0, np.empty_like(dout)
        for t in range(T):
            a, dc = self.a[t], dout[:, t]
            dt = np.repeat(dc[:, None, :], hs.shape[1], axis=1)           # WeightSum.backward
            dhs0, da = dt * a[:, :, None], np.sum(dt * hs, axis=2)
            ds = a * da                                                    # Softmax.backward
            ds -= a * np.sum(ds, axis=1, keepdims=True)
            dt = np.repeat(ds[:, :, None], hs.shape[2], axis=2)           # AttentionWeight.backward
            dhs1 = dt * np.repeat(self.hs_dec[:, t][:, None, :], hs.shape[1], axis=1)
            dhs_dec[:, t] = np.sum(dt * hs, axis=1)
            dhs_enc += dhs0 + dhs1
        return dhs_enc, dhs_dec
