"""vol. 2 ch. 6's language models ``Rnnlm`` and ``BetterRnnlm`` on fastprop's time layers.

Same constructors, the same weights drawn from ``np.random.randn`` in the book's order (so a
seeded model is the book's), the same ``layers``/``params``/``grads``/``predict``/``forward``/
``backward``/``reset_state``. The training path differs in one place: ``forward(xs, ts)`` runs
the output TimeAffine's GEMM into a scores buffer the model keeps, and one TimeSoftmaxWithLoss
pass adds the bias and writes the loss gradient over it (one N*T*V array, written by the GEMM,
read twice by the backward GEMMs, instead of the book's four), so ``backward`` starts from it. Every layer is
one compiled call each way; the default dtype is the book's float32.
"""
from __future__ import annotations

import numpy as np

from .. import gemm_blocks, validate
from ..kernels import affine as affine_k
from ..layers import TimeAffine, TimeDropout, TimeEmbedding, TimeLSTM, TimeSoftmaxWithLoss
from .base_model import BaseModel

__all__ = ["BetterRnnlm", "Rnnlm"]


def _sizes(vocab_size, wordvec_size, hidden_size):
    V, D, H = (validate.positive_int(vocab_size, "vocab_size"), validate.positive_int(wordvec_size, "wordvec_size"),
               validate.positive_int(hidden_size, "hidden_size"))
    # the largest weights, checked before np.random.randn draws them
    validate.allocation((V, D), np.float64, f"vocab_size={V} with wordvec_size={D}", "an embedding")
    validate.allocation((H, V), np.float64, f"vocab_size={V} with hidden_size={H}", "an output weight")
    validate.allocation((max(D, H), 4 * H), np.float64, f"hidden_size={H}", "an LSTM weight")
    return V, D, H


def _lstm_weights(din, H, dt):
    """A TimeLSTM's ``Wx`` (din, 4H) and ``Wh`` (H, 4H), drawn from ``np.random.randn`` in
    the book's order and scaled by 1/sqrt(fan-in), and its zero ``b`` (4H,)."""
    rn = np.random.randn
    return ((rn(din, 4 * H) / np.sqrt(din)).astype(dt), (rn(H, 4 * H) / np.sqrt(H)).astype(dt),
            np.zeros(4 * H).astype(dt))


class _LanguageModel(BaseModel):
    """Shared forward/backward: features from ``layers[:-1]``, the fused scores head."""

    def _collect(self):
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads
        self._scores = None
        self._dscores = None
        self._db = None

    def _head(self, hs, ts, with_grad: bool) -> float:
        """TimeAffine forward (the GEMM alone) into the kept scores buffer, then one pass that
        adds the bias and computes the loss (and its gradient, written over the scores, with
        the bias gradient summed while each row is in cache); the affine layer keeps ``x``
        as its forward would."""
        affine = self.layers[-1]
        W = validate.weight(affine.params[0], "W")
        hs = affine._rows(hs, W)
        b = validate.bias(affine.params[1], W.shape[1], W.dtype)
        N, T, H = hs.shape
        shape = (N, T, W.shape[1])
        buf = self._scores
        if buf is None or buf.shape != shape or buf.dtype != W.dtype:
            buf = self._scores = np.empty(shape, W.dtype)
        affine_k.affine_forward(hs.reshape(N * T, H), W, None, buf.reshape(N * T, -1),
                                gemm_blocks.gemm_rows(N * T, H, W.shape[1]))
        affine.x, affine._shape = hs, hs.shape  # as TimeAffine.forward records them
        self._db = affine._grad(1) if with_grad else None
        self._dscores = self.loss_layer._run_biased(buf, b, ts, self._db)
        return float(self.loss_layer.loss)

    def backward(self, dout=1):
        """Backpropagate from the loss; fills ``grads`` in place and returns None (ids)."""
        if self._dscores is None:
            raise ValueError(f"{type(self).__name__}.backward() called before a training forward()")
        dout = validate.real_scalar(dout, "dout")
        affine = self.layers[-1]
        self._check_output_W(affine)
        if dout == 1 and affine._grad(1) is self._db:
            d = self._affine_backward(affine, self._dscores)
        else:  # another dout, or grads[1] replaced since forward: the plain layer path
            d = affine.backward(self._dscores * self._dscores.dtype.type(dout))
        for layer in reversed(self.layers[:-1]):
            d = layer.backward(d)
        return d

    def _check_output_W(self, affine) -> None:
        """The output layer's ``W`` must still be the (H, V) weight forward computed the
        scores with: a replaced one is named, not reported as the internal scores buffer."""
        W = validate.weight(affine.params[0], "the output layer's W (layers[-1].params[0])")
        N, T, V = self._dscores.shape
        H = affine.x.shape[2] if isinstance(affine.x, np.ndarray) and affine.x.ndim == 3 else W.shape[0]
        if W.shape != (H, V) or W.dtype != self._dscores.dtype:
            raise ValueError(f"the output layer's W (layers[-1].params[0]) is a {W.dtype} array of shape "
                             f"{W.shape}, but forward computed the scores with a {self._dscores.dtype} "
                             f"({H}, {V}) W (replaced since forward? run forward again)")

    @staticmethod
    def _affine_backward(affine, dscores):
        """TimeAffine.backward without the bias sum (done at forward): ``dW`` and ``dx``."""
        affine._require_forward(affine.x)
        W = validate.weight(affine.params[0], "W")
        x = affine._rows(affine.x, W)
        affine._saved_shape(x, "x", getattr(affine, "_shape", None))
        N, T, D = x.shape
        dscores = validate.output(dscores, (N, T, W.shape[1]), W.dtype, "dscores")
        dx = np.empty_like(x)
        affine_k.affine_backward(x.reshape(N * T, D), W, dscores.reshape(N * T, -1), affine._grad(0), None,
                                 dx.reshape(N * T, D))
        return dx


class Rnnlm(_LanguageModel):
    """TimeEmbedding, a stateful TimeLSTM, TimeAffine and TimeSoftmaxWithLoss (ch. 6).

    Parameters
    ----------
    vocab_size, wordvec_size, hidden_size : int
        V, D, H (the book's defaults 10000, 100, 100).
    dtype : float32 (the book's ``'f'``) or float64
    """

    def __init__(self, vocab_size=10000, wordvec_size=100, hidden_size=100, *, dtype=np.float32):
        super().__init__()
        V, D, H = _sizes(vocab_size, wordvec_size, hidden_size)
        dt = validate.float_dtype(dtype)
        rn = np.random.randn
        embed_W = (rn(V, D) / 100).astype(dt)
        lstm = _lstm_weights(D, H, dt)
        affine_W = (rn(H, V) / np.sqrt(H)).astype(dt)
        affine_b = np.zeros(V).astype(dt)
        self.layers = [TimeEmbedding(embed_W), TimeLSTM(*lstm, stateful=True), TimeAffine(affine_W, affine_b)]
        self.loss_layer = TimeSoftmaxWithLoss()
        self.lstm_layer = self.layers[1]
        self._collect()

    def predict(self, xs) -> np.ndarray:
        """Scores (N, T, V) of word ids ``xs`` (N, T)."""
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def forward(self, xs, ts, train_flg=True) -> float:
        """The mean loss of predicting ``ts`` (N, T) from ``xs`` (N, T); keeps its gradient
        for ``backward``. ``train_flg=False`` (not in the book's Rnnlm, which has no dropout)
        skips the gradient pass: what ``eval_perplexity`` asks for first."""
        train_flg = validate.flag(train_flg, "train_flg")
        hs = self.layers[1].forward(self.layers[0].forward(xs))
        return self._head(hs, ts, train_flg)

    def reset_state(self) -> None:
        self.lstm_layer.reset_state()


class BetterRnnlm(_LanguageModel):
    """Two stateful TimeLSTMs with TimeDropout around them and the output weight tied to the
    embedding (``TimeAffine(embed_W.T, b)``), as the book's ch. 6 ``BetterRnnlm``."""

    def __init__(self, vocab_size=10000, wordvec_size=650, hidden_size=650, dropout_ratio=0.5, *,
                 dtype=np.float32):
        super().__init__()
        V, D, H = _sizes(vocab_size, wordvec_size, hidden_size)
        if D != H:
            raise ValueError(f"weight tying needs wordvec_size == hidden_size, got {D} and {H}")
        dt = validate.float_dtype(dtype)
        embed_W = (np.random.randn(V, D) / 100).astype(dt)
        lstm1 = _lstm_weights(D, H, dt)
        lstm2 = _lstm_weights(H, H, dt)
        affine_b = np.zeros(V).astype(dt)
        self.layers = [
            TimeEmbedding(embed_W), TimeDropout(dropout_ratio),
            TimeLSTM(*lstm1, stateful=True), TimeDropout(dropout_ratio),
            TimeLSTM(*lstm2, stateful=True), TimeDropout(dropout_ratio),
            TimeAffine(embed_W.T, affine_b),  # weight tying: the same memory, F-ordered
        ]
        self.loss_layer = TimeSoftmaxWithLoss()
        self.lstm_layers = [self.layers[2], self.layers[4]]
        self.drop_layers = [self.layers[1], self.layers[3], self.layers[5]]
        self._collect()

    def _features(self, xs, train_flg):
        train_flg = validate.flag(train_flg, "train_flg")
        for layer in self.drop_layers:
            layer.train_flg = train_flg
        for layer in self.layers[:-1]:
            xs = layer.forward(xs)
        return xs, train_flg

    def predict(self, xs, train_flg=False) -> np.ndarray:
        xs, _ = self._features(xs, train_flg)
        return self.layers[-1].forward(xs)

    def forward(self, xs, ts, train_flg=True) -> float:
        """The mean loss; with ``train_flg`` (dropout on) its gradient is kept for backward."""
        hs, train_flg = self._features(xs, train_flg)
        return self._head(hs, ts, train_flg)

    def reset_state(self) -> None:
        for layer in self.lstm_layers:
            layer.reset_state()
