"""vol. 2 ch. 4's word2vec models ``CBOW`` and ``SkipGram`` with negative sampling.

The book's constructors, weights (``0.01 * np.random.randn(V, H).astype('f')``, ``W_in``
then ``W_out``), layers, ``params``/``grads`` lists, ``word_vecs``, ``forward`` and
``backward``, on fastprop's Embedding and NegativeSamplingLoss layers, so the models run
under the book's Trainer and fastprop's. Besides: :meth:`train_steps`, the Trainer's compiled
path (:mod:`fastprop.kernels.word2vec`: the whole step, sampler and update included, in one
call, with sparse gradients and no array per step).

Two keyword options choose what the compiled path does, and what it gives up:

* ``sparse_update=False`` (default): the book's update, every row of both weights each
  step (Adam's ``m`` and ``v`` decay and the weights move where no word of the batch is).
  The numbers are those of the layer-by-layer step under the Trainer: the same losses, the
  same weights (float64 to ~1e-12, float32 to rounding: the kernels sum in the layers'
  order). At V 10000 this pass over 2 x 10000 x 100 weights and their state is most of a
  step. ``sparse_update=True``: the rule on the rows the batch touched only (the "lazy"
  Adam of sparse embeddings); untouched rows and their state wait. Training works as well
  in practice (it is what sparse-embedding optimizers do), but it is not the book's run.
* ``draws="book"`` (default): the book's negatives bit for bit (a seeded run draws the
  book's numbers). ``draws="fast"``: the same distribution, other numbers, 30x cheaper
  (:mod:`fastprop.layers.sampling`); the layer path uses it too.
"""
from __future__ import annotations

import numpy as np

from .. import global_rng, optimizers, validate
from ..kernels import word2vec as w2v
from ..layers import Embedding, NegativeSamplingLoss
from ..layers.embedding import word_ids
from ..layers.sampling import check_draws, corpus_ids

__all__ = ["CBOW", "SkipGram", "make_step", "zipf_corpus"]

#: the book's negative sampling: power and negatives per row
POWER, SAMPLE_SIZE = 0.75, 5
#: optimizers the compiled steps run: fastprop's own six, exactly
SUPPORTED = frozenset(optimizers.OPTIMIZERS.values())


def _settings(vocab_size, hidden_size, window_size, corpus, dtype, draws, sparse_update):
    V = validate.positive_int(vocab_size, "vocab_size")
    H = validate.positive_int(hidden_size, "hidden_size")
    w = validate.positive_int(window_size, "window_size")
    validate.allocation((V, H), np.float64, f"vocab_size={V} with hidden_size={H}", "a word-vector weight")
    ids = corpus_ids(corpus)
    if ids.max() >= V:
        raise ValueError(f"corpus holds word id {ids.max()}, expected ids in [0, {V}) for vocab_size {V}")
    dt = validate.float_dtype(dtype)
    return V, H, w, ids, dt, check_draws(draws), validate.flag(sparse_update, "sparse_update")


def _weights(V, H, dt):
    rn = np.random.randn
    # the book's order: cast, then scale (so a seeded float32 model is the book's bit for bit)
    return 0.01 * rn(V, H).astype(dt), 0.01 * rn(V, H).astype(dt)


class _Word2Vec:
    """The compiled path shared by CBOW and SkipGram (``_skip_gram`` tells them apart)."""

    _skip_gram = False
    #: train_steps draws the negatives from the global RNG: the Trainer must not draw the
    #: later epochs' permutations ahead of them (see :meth:`fastprop.Trainer.fit`)
    steps_draw_random = True

    def _collect(self, layers):
        self.params, self.grads = [], []
        for layer in layers:
            self.params += layer.params
            self.grads += layer.grads
        self._bufs = None

    # ---------------------------------------------------------------- checks

    def _shared(self):
        """``(W_in, W_out)`` when every in-slot holds the one W_in and every loss slot the
        one W_out, C-contiguous, writeable, float32/float64, (V, H) both; else None (the
        layer-by-layer path handles what the kernel does not)."""
        n_in = self._n_in
        P = self.params
        if len(P) < n_in + 1 or not all(isinstance(p, np.ndarray) for p in P):
            return None
        W_in, W_out = P[0], P[n_in]
        if any(p is not W_in for p in P[:n_in]) or any(p is not W_out for p in P[n_in:]):
            return None
        if any(layer.params[0] is not W_in for layer in self._in_layers()):
            return None
        if any(p is not W_out for ns in self._ns_layers() for p in ns.params):
            return None
        for W in (W_in, W_out):
            if W.dtype not in (np.float32, np.float64) or not (W.flags.c_contiguous and W.flags.writeable):
                return None
        if W_in.dtype != W_out.dtype or W_in.ndim != 2 or W_in.shape != W_out.shape or W_in is W_out:
            return None
        return W_in, W_out

    def _sampler(self, V):
        """``(word_p, draws, S)`` of the loss layers' samplers (one and the same for all)."""
        layers = self._ns_layers()
        first = layers[0].sampler
        p = first._checked_p()
        draws = check_draws(first.draws)
        S = validate.positive_int(first.sample_size, "sample_size")
        for ns in layers:
            if (ns.sample_size != S or len(ns.embed_dot_layers) != S + 1 or ns.sampler.draws != draws
                    or ns.sampler.sample_size != S or not np.array_equal(ns.sampler._checked_p(), p)):
                return None
        if p.shape[0] > V:
            raise ValueError(f"the sampler's vocabulary ({p.shape[0]} words) is larger than W's {V} rows")
        if np.count_nonzero(p > 0) - 1 < S:
            raise ValueError(f"fewer than sample_size={S} words with a nonzero probability besides "
                             "a target (np.random.choice: 'Fewer non-zero entries in p than size')")
        return p, draws, S

    def _buffers(self, B, C, S, V, H, dt, dense):
        R = B * (C if self._skip_gram else 1)          # the sampler's rows
        R_in = B if self._skip_gram else B * C
        R_out = R * (S + 1)
        key = (B, C, S, V, H, dt, dense)
        b = self._bufs
        if b is None or b[0] != key:
            def acc(cap):
                cap = min(cap, V)
                return (np.full(V, -1, np.int64), np.zeros(cap, np.int64), np.zeros(1, np.int64),
                        np.zeros((cap, H), dt), np.full(V, -1, np.int64), np.zeros(B, np.int64),
                        np.zeros((B, H), dt))
            work = tuple(np.zeros((B, H), dt) for _ in range(3)) + tuple(np.zeros(B, dt) for _ in range(3))
            gbuf = (np.zeros((V, H), dt), np.zeros((V, H), dt)) if dense else (np.zeros((1, H), dt),) * 2
            b = self._bufs = (key, (np.zeros(R, np.int64), np.zeros((R, S), np.int32)), work,
                              (acc(R_in), acc(R_out)) + gbuf)
        return b[1], b[2], b[3]

    @staticmethod
    def _state(optimizer, key, W):
        state = optimizer.kernel_state(key, W)
        for s in state:
            if not (s.flags.c_contiguous and s.flags.writeable):
                raise ValueError(f"{type(optimizer).__name__}: state of params[{key}] must be a "
                                 "C-contiguous writeable array (it is updated in place)")
        pad = np.zeros((1, W.shape[1]), W.dtype)
        return tuple(state) + (pad,) * (2 - len(state))

    # ---------------------------------------------------------------- the compiled path

    def train_steps(self, x, t, idx, batch_size, optimizer):
        """``len(idx) // batch_size`` training steps on batches ``x[idx[k*B:(k+1)*B]]``: the
        negatives, forward, backward and the optimizer update of each, in one compiled call.

        Parameters
        ----------
        x : (N, 2 * window_size) integer context ids; t : (N,) integer target ids
        idx : 1-D integer row indices into ``x`` and ``t``
        batch_size : int
        optimizer : one of fastprop's six optimizers (its state is shared with
            ``optimizer.update(params, grads)`` after :func:`remove_duplicate`: keys 0, 1)

        Returns
        -------
        (n,) float64 losses, or None when the compiled path does not apply (another
        optimizer; weights that are no longer shared, or not C-contiguous float32/float64)
        """
        if type(optimizer) not in SUPPORTED:
            return None
        P = self._shared()
        if P is None:
            return None
        W_in, W_out = P
        V, H = W_in.shape
        sampler = self._sampler(V)
        if sampler is None:
            return None
        word_p, draws, S = sampler
        C = self._n_context
        B = validate.positive_int(batch_size, "batch_size")
        x, t = np.asarray(x), np.asarray(t)
        if x.ndim != 2 or x.shape[1] != C:
            raise ValueError(f"x must be (N, {C}) context ids for window_size {C // 2}, got shape {x.shape}")
        if t.shape != (x.shape[0],):
            raise ValueError(f"t must be ({x.shape[0]},) target ids, one per row of x, got shape {t.shape}")
        idx = validate.indices(idx, "idx", ndim=1, low=None, what="row indices of x", allow_empty=True)
        n = idx.shape[0] // B
        if n == 0:
            raise ValueError(f"idx holds {idx.shape[0]} rows, fewer than one batch of {B}")
        idx = idx[:n * B]
        if idx.min() < 0 or idx.max() >= x.shape[0]:
            raise ValueError(f"idx must index rows of x in [0, {x.shape[0]}), got [{idx.min()}, {idx.max()}]")
        # the batches gathered here, checked as the layers check their ids
        vs = word_p.shape[0]
        contexts = word_ids(x[idx], vs, "x (context ids)")
        target = word_ids(t[idx], vs, "t (target ids)")
        (ntarget, negatives), work, accs = self._buffers(B, C, S, V, H, W_in.dtype,
                                                         not self.sparse_update)
        S_in, S_out = self._state(optimizer, 0, W_in), self._state(optimizer, 1, W_out)
        opt = (optimizer.rule, np.array(optimizer.hyper(), np.float64), S_in, S_out,
               optimizer.step_count(), bool(self.sparse_update))
        losses = np.empty(n)
        state, key, pos = global_rng.take()
        w2v.word2vec_train_steps(self._skip_gram, (contexts, target, ntarget, negatives), (W_in, W_out),
                                 opt, (key, pos, word_p, np.cumsum(word_p), draws == "fast"), work,
                                 accs, losses)
        global_rng.give_back(state, key, pos)
        for _ in range(n):
            optimizer.begin_step()
        return losses


class CBOW(_Word2Vec):
    """The book's CBOW: the average of ``2 * window_size`` context embeddings predicts the
    target through the negative-sampling loss.

    Parameters
    ----------
    vocab_size, hidden_size, window_size : int
    corpus : (T,) integer word ids (the sampler's counts; every id of ``0 .. V-1`` occurs)
    dtype : float32 (the book's ``'f'``, default) or float64
    draws : ``"book"`` (default) or ``"fast"``: the negative sampler (module docstring)
    sparse_update : bool, default False: the compiled path's update (module docstring)

    Attributes
    ----------
    in_layers, ns_loss, params, grads, word_vecs : as the book's
    """

    def __init__(self, vocab_size, hidden_size, window_size, corpus, *, dtype=np.float32,
                 draws: str = "book", sparse_update: bool = False):
        V, H, w, ids, dt, draws, sparse = _settings(vocab_size, hidden_size, window_size, corpus,
                                                    dtype, draws, sparse_update)
        W_in, W_out = _weights(V, H, dt)
        self.in_layers = [Embedding(W_in) for _ in range(2 * w)]
        self.ns_loss = NegativeSamplingLoss(W_out, ids, power=POWER, sample_size=SAMPLE_SIZE, draws=draws)
        self._collect(self.in_layers + [self.ns_loss])
        self.word_vecs = W_in
        self.sparse_update = sparse
        self._n_in = self._n_context = 2 * w

    def _in_layers(self):
        return self.in_layers

    def _ns_layers(self):
        return [self.ns_loss]

    def forward(self, contexts, target) -> float:
        contexts = np.asarray(contexts)
        if contexts.ndim != 2 or contexts.shape[1] != len(self.in_layers):
            raise ValueError(f"contexts must be (N, {len(self.in_layers)}) word ids, got shape {contexts.shape}")
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
        return None


class SkipGram(_Word2Vec):
    """The book's skip-gram: one embedding predicts each of the ``2 * window_size`` context
    words through its own negative-sampling loss.

    Parameters and attributes as :class:`CBOW` (``in_layer``, ``loss_layers`` for the book's
    ``in_layer`` and ``loss_layers``).
    """

    _skip_gram = True

    def __init__(self, vocab_size, hidden_size, window_size, corpus, *, dtype=np.float32,
                 draws: str = "book", sparse_update: bool = False):
        V, H, w, ids, dt, draws, sparse = _settings(vocab_size, hidden_size, window_size, corpus,
                                                    dtype, draws, sparse_update)
        W_in, W_out = _weights(V, H, dt)
        self.in_layer = Embedding(W_in)
        self.loss_layers = [NegativeSamplingLoss(W_out, ids, power=POWER, sample_size=SAMPLE_SIZE, draws=draws)
                            for _ in range(2 * w)]
        self._collect([self.in_layer] + self.loss_layers)
        self.word_vecs = W_in
        self.sparse_update = sparse
        self._n_in, self._n_context = 1, 2 * w

    def _in_layers(self):
        return [self.in_layer]

    def _ns_layers(self):
        return self.loss_layers

    def forward(self, contexts, target) -> float:
        contexts = np.asarray(contexts)
        if contexts.ndim != 2 or contexts.shape[1] != len(self.loss_layers):
            raise ValueError(f"contexts must be (N, {len(self.loss_layers)}) word ids, got shape {contexts.shape}")
        h = self.in_layer.forward(target)
        loss = 0
        for i, layer in enumerate(self.loss_layers):
            loss += layer.forward(h, contexts[:, i])
        return loss

    def backward(self, dout=1):
        dh = 0
        for layer in self.loss_layers:
            dh += layer.backward(dout)
        self.in_layer.backward(dh)
        return None


#: what :func:`make_step` times: the layer path, and the compiled path's option pairs
STEP_MODES = {"dropin": None, "exact": dict(), "fast-sampler": dict(draws="fast"),
              "sparse": dict(sparse_update=True), "fast": dict(draws="fast", sparse_update=True)}


def zipf_corpus(vocab_size: int = 10000, n_words: int = 929589, seed: int = 0) -> np.ndarray:
    """A PTB-sized stand-in corpus: every id of ``0 .. V-1`` once, the rest Zipf-distributed
    (exponent 1.1), shuffled (for timing; PTB's own train file is 929589 words of 10000)."""
    V = validate.positive_int(vocab_size, "vocab_size")
    n = validate.check_scalar(n_words, "n_words", int, low=V)
    r = np.random.default_rng(validate.seed(seed, high=None))
    corpus = np.concatenate([np.arange(V), (r.zipf(1.1, n - V) - 1) % V])
    r.shuffle(corpus)
    return corpus


def make_step(kind: str = "cbow", mode: str = "fast", vocab_size: int = 10000, hidden_size: int = 100,
              window_size: int = 5, batch_size: int = 100, seed: int = 0):
    """One Adam training step of ch04/train.py's model, ready to call (for ``fastprop bench``).

    Parameters
    ----------
    kind : ``"cbow"`` or ``"skipgram"``
    mode : one of :data:`STEP_MODES`: ``"dropin"`` (the layers, ``remove_duplicate`` and
        ``Adam.update``, the book's loop), ``"exact"`` (the compiled step, the same numbers),
        ``"fast-sampler"`` (compiled, the fast sampler, the book's dense Adam),
        ``"sparse"`` (compiled, the book's draws, sparse Adam), ``"fast"`` (both)
    vocab_size, hidden_size, window_size, batch_size : ch04/train.py's 10000, 100, 5, 100
    seed : int, for the stand-in corpus (:func:`zipf_corpus`) and the batches' order

    Returns
    -------
    step : callable, runs the step on the next batch of a fixed permutation; returns the loss
    label : str
    """
    from ..trainer.grads import remove_duplicate
    from ..util_vol2 import create_contexts_target

    validate.choice(kind, ("cbow", "skipgram"), "kind", "'cbow' or 'skipgram'")
    validate.choice(mode, STEP_MODES, "mode")
    B = validate.positive_int(batch_size, "batch_size")
    corpus = zipf_corpus(vocab_size, max(929589, vocab_size), seed)
    contexts, target = create_contexts_target(corpus, window_size)
    order = np.random.default_rng(seed).permutation(len(target))
    cls = CBOW if kind == "cbow" else SkipGram
    model = cls(vocab_size, hidden_size, window_size, corpus, **(STEP_MODES[mode] or {}))
    optimizer = optimizers.Adam()
    at = [0]

    def rows():
        i = at[0]
        at[0] = (i + B) % (len(order) - B)
        return order[i:i + B]

    if mode == "dropin":
        def step():
            r = rows()
            loss = model.forward(contexts[r], target[r])
            model.backward()
            optimizer.update(*remove_duplicate(model.params, model.grads))
            return loss
    else:
        def step():
            return float(model.train_steps(contexts, target, rows(), B, optimizer)[0])
    return step, f"{kind} {mode} V {vocab_size} H {hidden_size} window {window_size} batch {B}"
