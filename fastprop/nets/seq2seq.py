"""vol. 2 ch. 7-8's sequence-to-sequence models, compiled: ``Seq2seq``, ``PeekySeq2seq``,
``AttentionSeq2seq`` and the encoders/decoders they are made of.

The book's constructors (weights drawn from ``np.random.randn`` in the book's order, so a
seeded model is the book's), ``params``/``grads`` lists in the book's order, and its
``forward``/``backward``/``generate``. Each part runs its whole sequence as a few compiled
calls on workspaces it keeps between steps: the embedding gather, the LSTM time loop (the
input projection of all steps one GEMM, only ``h @ Wh`` inside the loop, the weight
gradients one GEMM each after it: :mod:`fastprop.kernels.recurrent`), the attention of all
decoder steps (:mod:`fastprop.kernels.seq2seq`), the output GEMM and one fused pass for the
bias, the loss and its gradient. ``generate`` is two compiled calls (encode, then the greedy
loop), and :func:`eval_seq2seq_batch` scores many questions in those same two calls.

The default dtype is the book's float32; ``dtype=np.float64`` runs everything in float64.
"""
from __future__ import annotations

import numpy as np

from .. import gemm_blocks, threads, validate
from ..kernels import affine as affine_k
from ..kernels import embedding as emb_k
from ..kernels import recurrent as rec_k
from ..kernels import seq2seq as s2s_k
from ..kernels import sequence as seq_k
from ..layers.time import word_ids
from .base_model import BaseModel

__all__ = ["AttentionDecoder", "AttentionEncoder", "AttentionSeq2seq", "Decoder", "Encoder",
           "PeekyDecoder", "PeekySeq2seq", "Seq2seq", "eval_seq2seq_batch"]

#: decoder kinds of :func:`fastprop.kernels.seq2seq.greedy_decode`
PLAIN, PEEKY, ATTENTION = 0, 1, 2


def _sizes(vocab_size, wordvec_size, hidden_size):
    V, D, H = (validate.positive_int(vocab_size, "vocab_size"), validate.positive_int(wordvec_size, "wordvec_size"),
               validate.positive_int(hidden_size, "hidden_size"))
    validate.allocation((V, D), np.float64, f"vocab_size={V} with wordvec_size={D}", "an embedding")
    validate.allocation((2 * H, V), np.float64, f"vocab_size={V} with hidden_size={H}", "an output weight")
    validate.allocation((H + D, 4 * H), np.float64, f"hidden_size={H}", "an LSTM weight")
    return V, D, H


class _Workspace:
    """Arrays kept between calls, re-made only when a shape or dtype changes."""

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype, zero=False):
        a = self._arrays.get(name)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = self._arrays[name] = np.empty(shape, dtype)
        if zero:
            a[...] = 0
        return a


class _Part:
    """An encoder or decoder: ``params = [embed_W, Wx, Wh, b, (W, b)]``, grads alike."""

    def _draw(self, V, D, H, din, affine_in, dtype):
        """The book's draws, in its order: embedding, LSTM (Wx, Wh, b), then the output affine."""
        dt = validate.float_dtype(dtype)
        rn = np.random.randn
        params = [(rn(V, D) / 100).astype(dt), (rn(din, 4 * H) / np.sqrt(din)).astype(dt),
                  (rn(H, 4 * H) / np.sqrt(H)).astype(dt), np.zeros(4 * H).astype(dt)]
        if affine_in:
            params += [(rn(affine_in, V) / np.sqrt(affine_in)).astype(dt), np.zeros(V).astype(dt)]
        self.params = params
        self.grads = [np.zeros_like(p) for p in params]
        self._ws = _Workspace()
        self._saved = None

    def _weights(self):
        """The parameters as they are now: checked, C-contiguous, one dtype."""
        p = self.params
        E = np.ascontiguousarray(validate.weight(p[0], "embed_W"))
        dt = E.dtype
        Wx = np.ascontiguousarray(validate.weight(p[1], "Wx", dt))
        Wh = np.ascontiguousarray(validate.weight(p[2], "Wh", dt))
        H = Wh.shape[0]
        if Wh.shape != (H, 4 * H) or Wx.shape[1] != 4 * H:
            raise ValueError(f"expected Wx (D, 4H), Wh (H, 4H), got Wx {Wx.shape}, Wh {Wh.shape}")
        w = [E, Wx, Wh, validate.bias(p[3], 4 * H, dt)]
        if len(p) == 6:
            W = np.ascontiguousarray(validate.weight(p[4], "affine W", dt))
            w += [W, validate.bias(p[5], W.shape[1], dt, "affine b")]
        return w

    def _record(self, w):
        """Remember the weights' shapes and dtype at forward: backward's kernels index the
        caches and the gradient arrays by them."""
        self._wshapes = [(a.shape, a.dtype) for a in w]

    def _read_ids(self, xs, w):
        """Forward's start: the word ids ``xs`` (N, T) checked against the vocabulary of
        ``E = w[0]``, and the weights recorded; returns ``ids, N, T, H, dtype``."""
        ids = word_ids(xs, w[0].shape[0])
        self._record(w)
        return (ids, *ids.shape, w[2].shape[0], w[0].dtype)

    def _weights_as_recorded(self):
        """The weights for backward, which must still have forward's shapes and dtype."""
        w = self._weights()
        if [(a.shape, a.dtype) for a in w] != getattr(self, "_wshapes", None):
            raise ValueError(f"{type(self).__name__}'s params changed shape or dtype since forward "
                             "(replaced?); run forward again")
        return w

    def _grads(self):
        return [validate.output(g, p.shape, p.dtype, f"grads[{i}]")
                for i, (g, p) in enumerate(zip(self.grads, self.params))]

    def _embed_lstm(self, ids, E, Wx, Wh, b, h0, xin=None):
        """Gather the embeddings of ``ids`` (into the last D columns of ``xin`` when given:
        the peeky input ``[h, x]``), then the LSTM loop from ``(h0, 0)``; returns the
        (N, T, H) states (a workspace)."""
        N, T = ids.shape
        D, H, dt = E.shape[1], Wh.shape[0], E.dtype
        ws = self._ws
        xe = ws.get("xe", (N, T, D), dt)
        emb_k.embedding_forward(E, ids.reshape(-1), xe.reshape(N * T, D))
        if xin is None:
            xin = xe
        else:
            xin[:, :, Wx.shape[0] - D:] = xe
        din = xin.shape[2]
        g = 4 * H
        hs = ws.get("hs", (N, T, H), dt)
        cache = (ws.get("xtm", (T, N, din), dt), ws.get("Hs", (T + 1, N, H), dt),
                 ws.get("Cs", (T + 1, N, H), dt), ws.get("G", (T, N, g), dt), ws.get("TC", (T, N, H), dt))
        c0 = ws.get("c0", (N, H), dt, zero=True)
        with threads.one_thread_for(N * H * g):
            rec_k.lstm_forward(xin, Wx, Wh, b, h0, c0, hs, *cache)
        self._lstm = (ids, cache)
        return hs

    def _lstm_backward(self, dhs, dh, Wx, Wh, grads):
        """The LSTM and embedding backward from ``dhs``; ``dh`` (N, H) in: the gradient
        reaching the last state from outside, out: the gradient of ``h0``; returns the
        input gradient (N, T, Din) (a workspace)."""
        ids, cache = self._lstm
        N, T = ids.shape
        H, dt, din = Wh.shape[0], Wh.dtype, Wx.shape[0]
        ws = self._ws
        dxs = ws.get("dxs", (N, T, din), dt)
        dc = ws.get("dc", (N, H), dt, zero=True)
        dA, dxtm = ws.get("dA", (T, N, 4 * H), dt), ws.get("dxtm", (T, N, din), dt)
        with threads.one_thread_for(N * H * 4 * H):
            rec_k.lstm_backward(dhs, Wx, Wh, *cache, grads[1], grads[2], grads[3], dxs, dh, dc, dA, dxtm)
        D = grads[0].shape[1]
        dxe = dxs if din == D else np.ascontiguousarray(dxs[:, :, din - D:])
        emb_k.embedding_backward(ids.reshape(-1), dxe.reshape(N * T, D), grads[0])
        return dxs

    def _require(self):
        if self._saved is None:
            raise ValueError(f"{type(self).__name__}.backward() called before forward()")
        return self._saved


# --------------------------------------------------------------------------- encoders


class Encoder(_Part):
    """TimeEmbedding + a non-stateful TimeLSTM; ``forward(xs)`` returns the last state.

    Parameters
    ----------
    vocab_size, wordvec_size, hidden_size : int
        V, D, H.
    dtype : float32 (the book's ``'f'``) or float64
    """

    def __init__(self, vocab_size, wordvec_size, hidden_size, *, dtype=np.float32):
        V, D, H = _sizes(vocab_size, wordvec_size, hidden_size)
        self._draw(V, D, H, D, 0, dtype)
        self.hs = None

    def _encode(self, xs):
        w = self._weights()
        E, Wx, Wh, b = w
        ids, N, _, H, dt = self._read_ids(xs, w)
        h0 = self._ws.get("h0", (N, H), dt, zero=True)
        hs = self._embed_lstm(ids, E, Wx, Wh, b, h0)
        self._saved = hs.shape
        return hs

    def forward(self, xs) -> np.ndarray:
        """The last LSTM state (N, H) of the ids ``xs`` (N, T)."""
        self.hs = self._encode(xs)
        return self.hs[:, -1, :].copy()

    def _backward_states(self, dhs, dh):
        """Backward from the state gradients ``dhs`` (N, T, H) plus ``dh`` at the last state."""
        E, Wx, Wh, b = self._weights_as_recorded()
        self._lstm_backward(dhs, dh, Wx, Wh, self._grads())

    def backward(self, dh):
        """Backward from the gradient of the last state (N, H); fills ``grads``; None (ids)."""
        N, T, H = self._require()
        dt = self._weights_as_recorded()[0].dtype
        dh = np.array(validate.as_real(dh, "dout (dh)", dt), order="C")
        validate.same_shape(dh, (N, H), "dout (dh)", "the shape of the encoder's last state")
        self._backward_states(self._ws.get("dhs", (N, T, H), dt, zero=True), dh)


class AttentionEncoder(Encoder):
    """The Encoder returning every state (N, T, H), for AttentionDecoder."""

    def forward(self, xs) -> np.ndarray:
        self.hs = self._encode(xs)
        return self.hs.copy()

    def backward(self, dhs):
        """Backward from the gradients of every state (N, T, H); fills ``grads``; None."""
        N, T, H = self._require()
        dt = self._weights_as_recorded()[0].dtype
        dhs = validate.as_real(dhs, "dout (dhs)", dt)
        validate.same_shape(dhs, (N, T, H), "dout (dhs)", "the shape of the encoder's states")
        self._backward_states(np.ascontiguousarray(dhs), self._ws.get("dh", (N, H), dt, zero=True))


# --------------------------------------------------------------------------- decoders


class Decoder(_Part):
    """TimeEmbedding, a stateful TimeLSTM started from the encoder's state, TimeAffine:
    ``forward(xs, h)`` returns the scores (N, T, V); ``backward(dscore)`` returns ``dh``."""

    KIND = PLAIN

    def __init__(self, vocab_size, wordvec_size, hidden_size, *, dtype=np.float32):
        V, D, H = _sizes(vocab_size, wordvec_size, hidden_size)
        din, feat = {PLAIN: (D, H), PEEKY: (H + D, 2 * H), ATTENTION: (D, 2 * H)}[self.KIND]
        self._draw(V, D, H, din, feat, dtype)

    def _state(self, h, N, H, dt, name="h"):
        h = validate.as_real(h, name, dt)
        if h.ndim != 2 or h.shape[1] != H or (N is not None and h.shape[0] != N):
            want = f"({N if N is not None else 'N'}, {H})"
            raise ValueError(f"{name} must have shape {want} (batch, hidden), got {h.shape}")
        return h

    def _features(self, xs, h, w):
        """The output layer's input rows (N*T, F), a workspace; records what backward needs."""
        E, Wx, Wh, b = w[:4]
        ids, N, T, H, dt = self._read_ids(xs, w)
        h = self._state(h, N, H, dt)
        hs = self._embed_lstm(ids, E, Wx, Wh, b, h)
        self._saved = (N, T, H)
        return hs.reshape(N * T, -1)

    def _backward_features(self, dfeat, w, grads):
        """From the gradient of the feature rows to ``dh`` (N, H), a new array."""
        N, T, H = self._saved
        dh = np.zeros((N, H), w[0].dtype)
        self._lstm_backward(dfeat.reshape(N, T, H), dh, w[1], w[2], grads)
        return dh

    def _scores(self, feat, W, b, N, T):
        out = np.empty((N * T, W.shape[1]), W.dtype)
        affine_k.affine_forward(feat, W, b, out, gemm_blocks.gemm_rows(*feat.shape, W.shape[1]))
        self._feat = feat
        return out.reshape(N, T, -1)

    def forward(self, xs, h) -> np.ndarray:
        """Scores (N, T, V) of the ids ``xs`` (N, T) from the encoder state ``h`` (N, H)."""
        w = self._weights()
        feat = self._features(xs, h, w)
        N, T, _ = self._saved
        return self._scores(feat, w[4], w[5], N, T)

    def _backward_scores(self, dscore, w, grads, with_db=True):
        N, T, _ = self._saved
        W = w[4]
        F = W.shape[0]
        dfeat = self._ws.get("dfeat", (N * T, F), W.dtype)
        affine_k.affine_backward(self._feat, W, dscore.reshape(N * T, -1), grads[4],
                                 grads[5] if with_db else None, dfeat)
        return self._backward_features(dfeat, w, grads)

    def backward(self, dscore):
        """Backward from the score gradient (N, T, V): fills ``grads``, returns ``dh``."""
        N, T, _ = self._require()
        w = self._weights_as_recorded()
        dscore = np.ascontiguousarray(validate.as_real(dscore, "dout (dscore)", w[0].dtype))
        validate.same_shape(dscore, (N, T, w[4].shape[1]), "dout (dscore)", "the shape of the scores")
        return self._backward_scores(dscore, w, self._grads())

    def _generate(self, h, enc_hs, start_id, sample_size, w):
        V = w[0].shape[0]
        sample_size = validate.check_scalar(sample_size, "sample_size", int, low=0)
        start = word_ids(np.reshape(np.asarray(start_id), (1, 1)) if np.ndim(start_id) == 0 else start_id,
                         V, "start_id")
        if start.size != 1:
            raise ValueError(f"start_id must be one id, got shape {start.shape}")
        out = np.empty((1, sample_size), np.intp)
        s2s_k.greedy_decode(h, enc_hs, start.reshape(1), tuple(w), self.KIND, out)
        return [int(i) for i in out[0]]

    def generate(self, h, start_id, sample_size) -> list:
        """``sample_size`` ids, each the argmax of the scores after the previous one, from the
        state ``h`` (1, H) and the first input ``start_id``."""
        w = self._weights()
        H = w[2].shape[0]
        h = np.ascontiguousarray(self._state(h, 1, H, w[0].dtype))
        return self._generate(h, h.reshape(1, 1, H), start_id, sample_size, w)


class PeekyDecoder(Decoder):
    """The Decoder with the encoder state ``h`` joined to every LSTM input and every
    output-layer input (``Wx`` (H + D, 4H), ``W`` (2H, V)); ``dh`` sums every use of ``h``."""

    KIND = PEEKY

    def _features(self, xs, h, w):
        E, Wx, Wh, b = w[:4]
        ids, N, T, H, dt = self._read_ids(xs, w)
        h = self._state(h, N, H, dt)
        ws = self._ws
        xin = ws.get("xin", (N, T, H + E.shape[1]), dt)
        xin[:, :, :H] = h[:, None, :]
        hs = self._embed_lstm(ids, E, Wx, Wh, b, h, xin)
        feat = ws.get("feat", (N, T, 2 * H), dt)
        feat[:, :, :H] = h[:, None, :]
        feat[:, :, H:] = hs
        self._saved = (N, T, H)
        return feat.reshape(N * T, 2 * H)

    def _backward_features(self, dfeat, w, grads):
        N, T, H = self._saved
        dfeat = dfeat.reshape(N, T, 2 * H)
        dh = np.zeros((N, H), w[0].dtype)
        dhs = self._ws.get("dhs_lstm", (N, T, H), dh.dtype)
        dhs[...] = dfeat[:, :, H:]
        dxs = self._lstm_backward(dhs, dh, w[1], w[2], grads)
        dh += np.sum(dfeat[:, :, :H] + dxs[:, :, :H], axis=1)  # every step's use of h, as the book
        return dh


class AttentionDecoder(Decoder):
    """The Decoder whose output layer reads ``[context, h]`` (``W`` (2H, V)), the context
    being the attention over every encoder state: ``forward(xs, enc_hs)``,
    ``backward(dscore)`` returns the gradient of ``enc_hs``."""

    KIND = ATTENTION

    def _features(self, xs, enc_hs, w):
        E, Wx, Wh, b = w[:4]
        ids, N, T, H, dt = self._read_ids(xs, w)
        enc_hs = validate.as_real(enc_hs, "enc_hs", dt)
        if enc_hs.ndim != 3 or enc_hs.shape[0] != N or enc_hs.shape[2] != H or enc_hs.shape[1] == 0:
            raise ValueError(f"enc_hs must have shape ({N}, T, {H}) (batch, time, hidden), got {enc_hs.shape}")
        enc_hs = np.ascontiguousarray(enc_hs)
        h0 = np.ascontiguousarray(enc_hs[:, -1])
        hs = self._embed_lstm(ids, E, Wx, Wh, b, h0)
        ws = self._ws
        a = ws.get("a", (N, T, enc_hs.shape[1]), dt)
        ctx = ws.get("ctx", (N, T, H), dt)
        s2s_k.attention_forward(enc_hs, hs, a, ctx)
        feat = ws.get("feat", (N, T, 2 * H), dt)
        feat[:, :, :H] = ctx
        feat[:, :, H:] = hs
        self._enc = (enc_hs, hs, a)
        self._saved = (N, T, H)
        return feat.reshape(N * T, 2 * H)

    def _backward_features(self, dfeat, w, grads):
        N, T, H = self._saved
        enc_hs, hs, a = self._enc
        dfeat = dfeat.reshape(N, T, 2 * H)
        ws = self._ws
        dt = enc_hs.dtype
        dc = ws.get("dctx", (N, T, H), dt)
        dc[...] = dfeat[:, :, :H]
        denc = ws.get("denc", enc_hs.shape, dt)
        ddec = ws.get("ddec", (N, T, H), dt)
        s2s_k.attention_backward(enc_hs, hs, a, dc, denc, ddec)
        ddec += dfeat[:, :, H:]
        dh = np.zeros((N, H), dt)
        self._lstm_backward(ddec, dh, w[1], w[2], grads)
        denc[:, -1] += dh
        return denc

    def backward(self, dscore):
        """Backward from the score gradient (N, T, V): fills ``grads``, returns the
        gradient of ``enc_hs`` (N, Te, H)."""
        return super().backward(dscore).copy()

    def generate(self, enc_hs, start_id, sample_size) -> list:
        """``sample_size`` ids greedily decoded from the encoder states ``enc_hs`` (1, T, H)."""
        w = self._weights()
        H = w[2].shape[0]
        enc_hs = validate.as_real(enc_hs, "enc_hs", w[0].dtype)
        if enc_hs.ndim != 3 or enc_hs.shape[0] != 1 or enc_hs.shape[2] != H or enc_hs.shape[1] == 0:
            raise ValueError(f"enc_hs must have shape (1, T, {H}), got {enc_hs.shape}")
        enc_hs = np.ascontiguousarray(enc_hs)
        return self._generate(np.ascontiguousarray(enc_hs[:, -1]), enc_hs, start_id, sample_size, w)


# --------------------------------------------------------------------------- models


class Seq2seq(BaseModel):
    """Encoder + Decoder + TimeSoftmaxWithLoss (ch. 7): ``forward(xs, ts)`` is the mean loss
    of predicting ``ts[:, 1:]`` from ``ts[:, :-1]`` and the question ``xs``.

    Parameters
    ----------
    vocab_size, wordvec_size, hidden_size : int
        V, D, H.
    dtype : float32 (the book's ``'f'``) or float64
    """

    ENCODER, DECODER = Encoder, Decoder
    #: the book's TimeSoftmaxWithLoss ignore label
    ignore_label = -1

    def __init__(self, vocab_size, wordvec_size, hidden_size, *, dtype=np.float32):
        super().__init__()
        V, D, H = _sizes(vocab_size, wordvec_size, hidden_size)
        self.encoder = self.ENCODER(V, D, H, dtype=dtype)
        self.decoder = self.DECODER(V, D, H, dtype=dtype)
        self.params = self.encoder.params + self.decoder.params
        self.grads = self.encoder.grads + self.decoder.grads
        self._dscores = None
        self.loss = None

    def _encode(self, xs):
        """What the decoder starts from: the last state (N, H), or every state (attention)."""
        hs = self.encoder._encode(xs)
        return hs if self.decoder.KIND == ATTENTION else np.ascontiguousarray(hs[:, -1])

    def forward(self, xs, ts) -> float:
        """The mean loss; keeps its gradient for ``backward``."""
        threads.poll()
        dec = self.decoder
        w = dec._weights()
        V = w[0].shape[0]
        ts = word_ids(ts, V, "ts", ignore=self.ignore_label)
        if ts.shape[1] < 2:
            raise ValueError(f"ts must hold at least 2 ids per row (decoder input and target), got {ts.shape}")
        xs_ids = np.asarray(xs)
        if xs_ids.ndim == 2 and xs_ids.shape[0] != ts.shape[0]:
            raise ValueError(f"xs and ts must have one batch size, got {xs_ids.shape} and {ts.shape}")
        dec_x, dec_t = ts[:, :-1], np.ascontiguousarray(ts[:, 1:])
        if (dec_x < 0).any():
            raise ValueError(f"ts[:, :-1] (the decoder's input) holds id {int(dec_x.min())}, expected ids in [0, {V})")
        self._dscores = None
        feat = dec._features(dec_x, self._encode(xs), w)
        N, T, _ = dec._saved
        W, b = w[4], w[5]
        scores = dec._ws.get("scores", (N * T, W.shape[1]), W.dtype)
        affine_k.affine_forward(feat, W, None, scores, gemm_blocks.gemm_rows(*feat.shape, W.shape[1]))
        dec._feat = feat
        grads = dec._grads()
        loss = seq_k.bias_softmax_cross_entropy(scores, b, dec_t.reshape(-1), self.ignore_label, 1.0,
                                                grads[5])
        self._dscores = scores
        self.loss = float(loss)
        return self.loss

    def backward(self, dout=1):
        """Backpropagate from the loss: fills ``grads`` in place; returns None (ids)."""
        if self._dscores is None:
            raise ValueError(f"{type(self).__name__}.backward() called before forward()")
        dout = validate.real_scalar(dout, "dout")
        dec, enc = self.decoder, self.encoder
        w = dec._weights_as_recorded()
        grads = dec._grads()
        d = self._dscores
        N, T, _ = dec._saved
        if d.shape != (N * T, w[4].shape[1]) or d.dtype != w[4].dtype:
            raise ValueError("the output weight changed since forward; run forward again")
        if dout != 1:
            d = d * d.dtype.type(dout)
            grads[5] *= grads[5].dtype.type(dout)
        self._dscores = None  # consumed: the next backward needs a new forward
        dh = dec._backward_scores(d, w, grads, with_db=False)
        if dec.KIND == ATTENTION:
            enc._backward_states(dh, enc._ws.get("dh", (N, dh.shape[2]), dh.dtype, zero=True))
        else:
            Ne, Te, H = enc._saved
            enc._backward_states(enc._ws.get("dhs", (Ne, Te, H), dh.dtype, zero=True), dh)
        return None

    def generate_batch(self, xs, start_ids, sample_size) -> np.ndarray:
        """The greedy answers of many questions in two compiled calls (encode, decode): row
        ``n`` is what ``generate(xs[[n]], start_ids[n], sample_size)`` returns, bit for bit
        (each row's arithmetic does not depend on the others).

        Parameters
        ----------
        xs : (N, T) int question ids
        start_ids : (N,) int first decoder input of each question
        sample_size : int, ids to generate per question

        Returns
        -------
        (N, sample_size) intp array
        """
        sample_size = validate.check_scalar(sample_size, "sample_size", int, low=0)
        we = self.encoder._weights()
        wd = self.decoder._weights()
        ids = word_ids(xs, we[0].shape[0])
        N, T = ids.shape
        start = np.asarray(start_ids)
        if start.ndim != 1 or start.shape[0] != N:
            raise ValueError(f"start_ids must have shape ({N},) (one per question), got {start.shape}")
        start = word_ids(start.reshape(N, 1), wd[0].shape[0], "start_ids").reshape(N)
        H, dt = we[2].shape[0], we[0].dtype
        if wd[0].dtype != dt or wd[2].shape[0] != H:
            raise ValueError(f"the encoder ({dt}, H {H}) and the decoder ({wd[0].dtype}, H {wd[2].shape[0]}) "
                             "must have one dtype and one hidden size")
        hs = np.empty((N, T if self.decoder.KIND == ATTENTION else 1, H), dt)
        out = np.empty((N, sample_size), np.intp)
        s2s_k.encode_rows(ids, tuple(we), hs)
        s2s_k.greedy_decode(np.ascontiguousarray(hs[:, -1]), hs, start, tuple(wd), self.decoder.KIND, out)
        return out

    def generate(self, xs, start_id, sample_size) -> list:
        """The book's greedy answer to one question ``xs`` (1, T): ``sample_size`` ids."""
        arr = np.asarray(xs)
        if arr.ndim != 2 or arr.shape[0] != 1:
            raise ValueError(f"xs must be one question of shape (1, T), got shape {arr.shape}")
        start = np.asarray(start_id)
        if start.size != 1:
            raise ValueError(f"start_id must be one id, got shape {start.shape}")
        return [int(i) for i in self.generate_batch(arr, start.reshape(1), sample_size)[0]]


class PeekySeq2seq(Seq2seq):
    """Seq2seq with the PeekyDecoder (ch. 7)."""

    DECODER = PeekyDecoder


class AttentionSeq2seq(Seq2seq):
    """Seq2seq with the AttentionEncoder and AttentionDecoder (ch. 8)."""

    ENCODER, DECODER = AttentionEncoder, AttentionDecoder


def eval_seq2seq_batch(model, questions, corrects) -> np.ndarray:
    """The book's ``eval_seq2seq`` result (1 when the greedy answer equals ``correct[1:]``)
    for every question at once.

    Parameters
    ----------
    model : Seq2seq, PeekySeq2seq or AttentionSeq2seq (fastprop's); any other model with
        the book's ``generate`` is asked one question at a time
    questions : (N, T) int ids
    corrects : (N, A) int ids, each row the start id then the answer

    Returns
    -------
    (N,) int array of 0 and 1 (``sum`` is what the book's loop adds up)
    """
    q = np.asarray(questions)
    c = np.asarray(corrects)
    if c.dtype.kind not in "iu" or q.dtype.kind not in "iu":
        raise TypeError(f"questions and corrects must hold integer ids, got {validate.describe(q)} "
                        f"and {validate.describe(c)}")
    if q.ndim != 2 or c.ndim != 2 or q.shape[0] != c.shape[0] or c.shape[1] < 2 or q.shape[1] == 0:
        raise ValueError(f"questions (N, T) and corrects (N, A >= 2) must have one N, got {q.shape} and {c.shape}")
    if isinstance(model, Seq2seq):
        guess = model.generate_batch(q, c[:, 0], c.shape[1] - 1)
    else:
        generate = getattr(model, "generate", None)
        if not callable(generate):
            raise TypeError(f"model must have a generate method, got {validate.describe(model)}")
        guess = np.array([generate(q[[i]], c[i, 0], c.shape[1] - 1) for i in range(q.shape[0])])
    return (guess == c[:, 1:]).all(axis=1).astype(np.intp)
