"""vol. 2 ch. 7's ``RnnlmGen`` and ``BetterRnnlmGen`` (the book's ``ch07/rnnlm_gen.py``): the
language models of ch. 6 with ``generate``, ``get_state`` and ``set_state``.

As in the book these are subclasses with the book's names (``Rnnlm`` and ``BetterRnnlm`` stay
the ch. 6 models), so ``from fastprop.nets import RnnlmGen`` replaces ``from rnnlm_gen import
RnnlmGen``. ``generate(start_id, skip_ids=None, sample_size=100)`` is one compiled call
(:func:`fastprop.kernels.generate.generate_words`): the book's loop of ``predict``, ``softmax``
and ``np.random.choice(V, size=1, p=p)``, drawing the same doubles from the global NumPy RNG, so
a seeded run gives the book's words and leaves ``np.random`` where the book's run leaves it.
"""
from __future__ import annotations

import numpy as np

from .. import global_rng, threads, validate
from ..kernels import generate as gen_k
from .rnnlm import BetterRnnlm, Rnnlm

__all__ = ["BetterRnnlmGen", "RnnlmGen"]

#: what NumPy's ``choice`` says when ``p`` fails its checks (the book's run stops with it)
_CHOICE_ERRORS = {gen_k.P_NAN: "probabilities contain NaN", gen_k.P_SUM: "probabilities do not sum to 1"}


def _choice_atol(dt) -> float:
    """NumPy's legacy ``choice`` tolerance for ``sum(p) - 1`` with a float ``p`` of ``dt``."""
    return float(max(np.sqrt(np.finfo(np.float64).eps), np.sqrt(np.finfo(dt).eps)))


def _skip_ids(skip_ids, V: int) -> np.ndarray:
    if skip_ids is None:
        return np.empty(0, np.int64)
    validate.check_type(skip_ids, (list, tuple), "skip_ids", "None or a list of word ids")
    ids = np.array([validate.check_scalar(i, f"skip_ids[{k}]", int, low=0, high=V - 1)
                    for k, i in enumerate(skip_ids)], dtype=np.int64)
    if np.unique(ids).size == V:  # the book's loop would never end (and a compiled one cannot be interrupted)
        raise ValueError(f"skip_ids holds all {V} word ids: no word could ever be kept")
    return ids


class _Generator:
    """``generate``/``get_state``/``set_state`` on a model with ``layers`` (embedding first,
    affine last) and ``_lstms()`` (its stateful TimeLSTMs, bottom first)."""

    def generate(self, start_id, skip_ids=None, sample_size=100) -> list:
        """Word ids: ``start_id``, then words drawn one at a time from the softmax of the
        scores of the previous one, until there are ``sample_size`` (a drawn id in
        ``skip_ids`` is dropped, the same input fed again). The LSTM state carries over.

        Parameters
        ----------
        start_id : int in [0, V)
        skip_ids : None or list of int in [0, V)
        sample_size : int >= 0 (the book returns ``[start_id]`` for 0 and 1)

        Returns
        -------
        list of int, ``max(sample_size, 1)`` long
        """
        embed_W = validate.weight(self.layers[0].params[0], "the embedding W (layers[0].params[0])")
        V, D = embed_W.shape
        dt = embed_W.dtype
        start_id = validate.check_scalar(start_id, "start_id", int, low=0, high=V - 1)
        skip = _skip_ids(skip_ids, V)
        sample_size = validate.check_scalar(sample_size, "sample_size", int, low=0)
        lstms = self._lstms()
        weights = tuple(layer._weights(dt) for layer in lstms)
        H = weights[0][1].shape[0]
        for k, (Wx, Wh, _) in enumerate(weights):
            want = D if k == 0 else H
            if Wx.shape != (want, 4 * H) or Wh.shape != (H, 4 * H):  # one H for the (L, H) state
                raise ValueError(f"LSTM {k}'s Wx has shape {Wx.shape} and Wh {Wh.shape}, expected "
                                 f"({want}, {4 * H}) and ({H}, {4 * H})")
        affine = self.layers[-1]
        W = validate.weight(affine.params[0], "the output W (layers[-1].params[0])", dt)
        if W.shape != (H, V):
            raise ValueError(f"the output W (layers[-1].params[0]) must have shape ({H}, {V}), got {W.shape}")
        b = validate.bias(affine.params[1], V, dt)
        h = np.zeros((len(lstms), H), dt)
        c = np.zeros((len(lstms), H), dt)
        for k, layer in enumerate(lstms):
            if layer.h is not None:
                h[k] = layer._state(layer.h, 1, H, dt, "h")[0]
            if layer.c is not None:
                c[k] = layer._state(layer.c, 1, H, dt, "c")[0]
        out = np.empty(max(sample_size, 1), np.int64)
        out[0] = start_id
        for layer in getattr(self, "drop_layers", ()):
            layer.train_flg = False  # the book's predict(x) runs with train_flg=False
        threads.poll()
        state, key, pos = global_rng.take()
        try:
            with threads.one_thread_for(4 * H * H + H * V):  # the GEMVs of one step
                status = gen_k.generate_words(key, pos, skip, embed_W, weights, W, b, h, c,
                                              _choice_atol(dt), out)
        finally:
            global_rng.give_back(state, key, pos)
        if sample_size > 1 or status != gen_k.OK:  # the book's loop ran predict at least once
            for k, layer in enumerate(lstms):
                layer.h, layer.c = h[k:k + 1].copy(), c[k:k + 1].copy()
        if status != gen_k.OK:
            raise ValueError(_CHOICE_ERRORS[status])
        return [int(i) for i in out]


class RnnlmGen(_Generator, Rnnlm):
    """``Rnnlm`` with the book's ``generate`` (see the module docstring); ``get_state()``
    returns ``(h, c)`` of the LSTM, ``set_state((h, c))`` sets them."""

    def _lstms(self):
        return [self.lstm_layer]

    def get_state(self):
        return self.lstm_layer.h, self.lstm_layer.c

    def set_state(self, state) -> None:
        validate.check_type(state, (tuple, list), "state", "the (h, c) pair get_state() returns")
        if len(state) != 2:
            raise ValueError(f"state must be the (h, c) pair get_state() returns, got {len(state)} items")
        self.lstm_layer.set_state(*state)


class BetterRnnlmGen(_Generator, BetterRnnlm):
    """``BetterRnnlm`` with the book's ``generate``; ``get_state()`` returns ``[(h, c), (h, c)]``
    of the two LSTMs, ``set_state(states)`` sets them."""

    def _lstms(self):
        return list(self.lstm_layers)

    def get_state(self):
        return [(layer.h, layer.c) for layer in self.lstm_layers]

    def set_state(self, states) -> None:
        validate.check_type(states, (tuple, list), "states", "the list of (h, c) pairs get_state() returns")
        if len(states) != len(self.lstm_layers):
            raise ValueError(f"states must hold {len(self.lstm_layers)} (h, c) pairs, got {len(states)}")
        for k, state in enumerate(states):
            validate.check_type(state, (tuple, list), f"states[{k}]", "an (h, c) pair")
            if len(state) != 2:
                raise ValueError(f"states[{k}] must be an (h, c) pair, got {len(state)} items")
        for layer, state in zip(self.lstm_layers, states):
            layer.set_state(*state)
