"""UnigramSampler and NegativeSamplingLoss (vol. 2 ch. 4), with the book's exact draws.

The sampler's negatives are the book's ``np.random.choice(V, S, replace=False, p=p)`` per
row, bit for bit, for the same global RNG state (and the state is left where NumPy leaves
it): :mod:`fastprop.kernels.sampling` runs NumPy's own arithmetic on the MT19937 state.

``draws="fast"`` is the other choice: the same distribution (``S`` distinct words per row,
never the row's target, drawn by weight one after the other, which is what NumPy's
``choice`` without replacement amounts to), other numbers, from the same global generator.
Each draw is one search of a cumulative table built once, instead of a cumulative sum over
the whole vocabulary per row (:func:`fastprop.kernels.sampling.unigram_negative_samples`):
about 0.07 ms instead of 2 ms for 100 rows of 5 from 10000 words.
"""
from __future__ import annotations

import numpy as np

from .. import global_rng, validate
from ..kernels import sampling
from .base import Layer
from .embedding import EmbeddingDot, word_ids
from .sigmoid_loss import SigmoidWithLoss

#: the samplers: the book's exact numbers, or the same distribution drawn faster
DRAWS = ("book", "fast")


def check_draws(draws) -> str:
    """``draws`` if it is one of :data:`DRAWS` (TypeError for a non-string, ValueError else)."""
    return validate.choice(draws, DRAWS, "draws", f"one of {DRAWS}")


def corpus_ids(corpus, name: str = "corpus") -> np.ndarray:
    """A 1-D corpus of word ids as int64; every id in ``0 .. V-1`` must occur (the book's
    sampler takes ``V`` = the number of distinct ids and ``word_p[i]`` = the count of ``i``)."""
    arr = np.asarray(corpus) if not isinstance(corpus, np.ndarray) else corpus
    ids = word_ids(arr, None, name)
    if ids.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of word ids, got shape {ids.shape}")
    return ids


class UnigramSampler:
    """Negative samples drawn with probability ``count ** power`` (normalised), never the
    row's target, ``sample_size`` distinct ones per row.

    Parameters
    ----------
    corpus : (T,) integer word ids, using every id of ``0 .. V-1``
    power : float, the exponent of the counts (the book uses 0.75)
    sample_size : int, negatives per row (at most ``V - 1``)
    draws : ``"book"`` (default: the book's numbers) or ``"fast"`` (the same distribution,
        other numbers; see the module docstring)

    Attributes
    ----------
    sample_size, vocab_size, word_p : as the book's (``word_p`` float64, sums to 1)
    draws : the sampler in use
    """

    def __init__(self, corpus, power: float, sample_size: int, draws: str = "book"):
        self.draws = check_draws(draws)
        ids = corpus_ids(corpus)
        self.sample_size = validate.positive_int(sample_size, "sample_size")
        power = validate.real_scalar(power, "power")
        top = int(ids.max())
        if top >= ids.shape[0]:  # before np.bincount allocates top + 1 counts
            raise ValueError(f"corpus must use every word id from 0 to its largest, {top}, but it has "
                             f"only {ids.shape[0]} words: some id never occurs (the book's sampler would "
                             "give it no weight and drop the last ids from the vocabulary)")
        counts = np.bincount(ids)
        if (counts == 0).any():
            missing = int(np.flatnonzero(counts == 0)[0])
            raise ValueError(f"corpus must use every word id from 0 to {counts.size - 1}, but id "
                             f"{missing} never occurs (the book's sampler would give it no weight "
                             "and drop the last ids from the vocabulary)")
        self.vocab_size = int(counts.size)
        if self.vocab_size - 1 < self.sample_size:
            raise ValueError(f"sample_size {self.sample_size} needs at least {self.sample_size + 1} "
                             f"distinct words in the corpus, got {self.vocab_size}")
        word_p = np.power(counts.astype(np.float64), power)
        word_p /= np.sum(word_p)
        self.word_p = word_p

    def _checked_p(self) -> np.ndarray:
        p = self.word_p
        if not (isinstance(p, np.ndarray) and p.dtype == np.float64 and p.shape == (self.vocab_size,)):
            raise TypeError(f"word_p must be a float64 array of shape ({self.vocab_size},), got "
                            f"{validate.describe(p)}")
        if not (np.isfinite(p).all() and (p >= 0).all() and p.sum() > 0):
            raise ValueError("word_p must hold finite non-negative probabilities with a positive sum")
        return np.ascontiguousarray(p)

    def get_negative_sample(self, target) -> np.ndarray:
        """(N, sample_size) int32 negatives for the (N,) ``target`` ids (the global RNG advances
        exactly as the book's per-row ``np.random.choice`` calls advance it)."""
        size = validate.positive_int(self.sample_size, "sample_size")
        p = self._checked_p()
        target = word_ids(target, p.shape[0], "target")
        if target.ndim != 1:
            raise ValueError(f"target must be 1-D (N,), got shape {target.shape}")
        nonzero = np.count_nonzero(p > 0) - (p[target] > 0)
        if (nonzero < size).any():
            raise ValueError(f"fewer than sample_size={size} words with a nonzero probability besides "
                             "a target (np.random.choice: 'Fewer non-zero entries in p than size')")
        fast = check_draws(self.draws) == "fast"
        cdf = np.cumsum(p) if fast else None
        out = np.empty((target.shape[0], size), dtype=np.int32)
        state, key, pos = global_rng.take()
        if fast:
            sampling.unigram_negative_samples(key, pos, p, cdf, target, out)
        else:
            sampling.negative_samples(key, pos, p, target, out)
        global_rng.give_back(state, key, pos)
        return out


class NegativeSamplingLoss(Layer):
    """The book's negative-sampling loss: one positive and ``sample_size`` negative
    EmbeddingDot + SigmoidWithLoss pairs sharing ``W``.

    Parameters
    ----------
    W : (V, D) float32/float64 output weight, kept by reference
    corpus : (T,) integer word ids (for the sampler)
    power : float, default 0.75
    sample_size : int, default 5
    draws : ``"book"`` (default) or ``"fast"``, the :class:`UnigramSampler`'s

    Attributes
    ----------
    sampler, sample_size, loss_layers, embed_dot_layers : as the book's
    params : ``[W] * (sample_size + 1)``, one entry per EmbeddingDot (the book's list: an
        optimizer that sums duplicates, as the book's Trainer does, sees one W)
    grads : the EmbeddingDot layers' gradient arrays (each written in place)

    Slot ``k`` computes with ``params[k]`` as it is at the call.
    """

    def __init__(self, W: np.ndarray, corpus, power: float = 0.75, sample_size: int = 5,
                 draws: str = "book"):
        self.sample_size = validate.positive_int(sample_size, "sample_size")
        self.sampler = UnigramSampler(corpus, power, sample_size, draws)
        self.loss_layers = [SigmoidWithLoss() for _ in range(sample_size + 1)]
        self.embed_dot_layers = [EmbeddingDot(W) for _ in range(sample_size + 1)]
        self.params = [layer.params[0] for layer in self.embed_dot_layers]
        self.grads = [layer.grads[0] for layer in self.embed_dot_layers]
        self._h = None

    def _slots(self):
        if len(self.params) != len(self.embed_dot_layers) or len(self.grads) != len(self.params):
            raise ValueError(f"params and grads must keep one entry per EmbeddingDot "
                             f"({len(self.embed_dot_layers)}), got {len(self.params)} and {len(self.grads)}")
        for k, layer in enumerate(self.embed_dot_layers):
            layer.params[0] = self.params[k]
            layer.grads[0] = self.grads[k]

    def forward(self, h, target) -> float:
        self._slots()
        W = validate.weight(self.params[0], "W")
        target = word_ids(target, W.shape[0], "target")
        if target.ndim != 1:
            raise ValueError(f"target must be 1-D (N,), got shape {target.shape}")
        h = validate.as_real(h, "h", W.dtype)  # checked before the sampler advances the RNG
        if h.shape != (target.shape[0], W.shape[1]):
            raise ValueError(f"h must have shape ({target.shape[0]}, {W.shape[1]}) for {target.shape[0]} "
                             f"targets and W of shape {W.shape}, got {h.shape}")
        negative = self.sampler.get_negative_sample(target)
        n = target.shape[0]
        loss = self.loss_layers[0].forward(self.embed_dot_layers[0].forward(h, target),
                                           np.ones(n, dtype=np.int32))
        zeros = np.zeros(n, dtype=np.int32)
        for i in range(self.sample_size):
            score = self.embed_dot_layers[1 + i].forward(h, negative[:, i])
            loss += self.loss_layers[1 + i].forward(score, zeros)
        self._h = h
        return loss

    def backward(self, dout=1) -> np.ndarray:
        self._require_forward(self._h)
        self._slots()
        dh = None
        for l0, l1 in zip(self.loss_layers, self.embed_dot_layers):
            d = l1.backward(l0.backward(dout))
            if dh is not None and d.shape != dh.shape:
                raise ValueError(f"the slots' dh disagree in shape ({d.shape} vs {dh.shape}): "
                                 "params changed since forward?")
            dh = d if dh is None else dh + d
        for k, layer in enumerate(self.embed_dot_layers):
            self.grads[k] = layer.grads[0]
        return dh
