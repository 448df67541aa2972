"""vol. 2 ch. 7's text generation (``RnnlmGen.generate``, ``BetterRnnlmGen.generate``): the
whole sampling loop in one call.

The book feeds one word at a time through ``predict`` (embedding row, the LSTM step of each
layer, the affine row), takes ``softmax`` of the scores and draws the next word with
``np.random.choice(V, size=1, p=p)``; a drawn id in ``skip_ids`` is dropped and the same input
is fed again (the LSTM state has moved on). NumPy's legacy ``choice`` with ``p`` converts ``p``
to float64, checks it (``kahan_sum``: NaN, or further than ``atol`` from 1, is an error), then
``cdf = p.cumsum(); cdf /= cdf[-1]; cdf.searchsorted(random_sample(), side='right')``: one
uniform double per draw, from the MT19937 state. This kernel runs the same steps on the same
state, so a seeded run draws what the book draws and leaves ``np.random`` where the book does.

The layer arithmetic is fastprop's own: the step is :func:`.recurrent.lstm_forward` with
T = N = 1, the affine row :func:`.affine.affine_forward`, the softmax :func:`.rows.softmax_rows`
(one op, one place: generation scores exactly what the model's ``predict`` scores).
The caller (:class:`fastprop.nets.RnnlmGen`) validates, reads and writes the global state.
"""
import numpy as np

from ._jit import jit
from .affine import affine_forward
from .embedding import embedding_forward
from .mt19937 import N_WORDS, next_double, temper
from .recurrent import lstm_forward
from .rows import softmax_rows

#: :func:`generate_words` status codes (NumPy's ``choice`` raises a ValueError for each)
OK, P_NAN, P_SUM = 0, 1, 2


@jit
def _kahan_sum(p):
    """NumPy's ``kahan_sum`` of ``float64(p)`` (the sum ``choice`` checks)."""
    s = np.float64(p[0])
    comp = 0.0
    for j in range(1, p.shape[0]):
        y = np.float64(p[j]) - comp
        t = s + y
        comp = (t - s) - y
        s = t
    return s


@jit
def _cdf(p, cdf, atol):
    """``cdf = cumsum(float64(p))`` (sequential, as ``np.cumsum``); the status of NumPy's checks
    on ``p`` (its ``kahan_sum``: NaN, or off 1 by more than ``atol``).

    The compensated sum is a chain of four dependent additions an element (about as long as
    the rest of the step at V 10000), so it runs only when the plain sum ``cdf[-1]`` is too
    close to the tolerance to decide: the two sums of V non-negative terms differ by at most
    ``(V + 1) eps sum(p)``, and the margin below is four times that."""
    run = 0.0
    for j in range(p.shape[0]):
        run += np.float64(p[j])
        cdf[j] = run
    margin = 4.0 * (p.shape[0] + 2) * 2.220446049250313e-16 * max(1.0, abs(run))
    if abs(run - 1.0) <= atol - margin:  # False for NaN
        return OK
    s = _kahan_sum(p)
    if np.isnan(s):
        return P_NAN
    if abs(s - 1.0) > atol:
        return P_SUM
    return OK


@jit
def _search(cdf, x):
    """``searchsorted(cdf / cdf[-1], x, side='right')``; ``cdf / last`` is monotone, so dividing
    only at the probed points finds what NumPy finds in the divided array."""
    last = cdf[cdf.shape[0] - 1]
    lo = 0
    hi = cdf.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf[mid] / last <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def generate_words(key, pos, skip, embed_W, lstms, W, b, h, c, atol, out):
    """The book's ``generate(start_id, skip_ids, sample_size)`` from ``out[0]``.

    Parameters
    ----------
    key : (624,) uint32, pos : (1,) int64
        The MT19937 state (``np.random.get_state()``), advanced in place, one double a draw.
    skip : (K,) int64 ids never kept (the book's ``skip_ids``; K may be 0)
    embed_W : (V, D) the embedding
    lstms : tuple of ``(Wx (D, 4H), Wh (H, 4H), b (4H,))``, one per stacked LSTM (D = H
        after the first)
    W : (H, V) output weight (C- or F-contiguous: BetterRnnlm's ``embed_W.T``), b : (V,)
    h, c : (L, H) in/out: the state of each LSTM, advanced by every step
    atol : float, ``choice``'s tolerance for ``sum(p) - 1``
    out : (S,) int64, ``out[0]`` the start id on entry; written with the ids (S >= 1)

    Returns
    -------
    int
        :data:`OK`, or the status of the first ``p`` NumPy would refuse (the loop stops
        there, after that step's LSTM update and before its draw, as the book's exception)

    Notes
    -----
    One ``predict`` and one draw per iteration, ``S - 1`` iterations plus one per skipped id.
    """
    S = out.shape[0]
    V, D = embed_W.shape
    H = h.shape[1]
    dt = embed_W.dtype
    tempered = np.empty(N_WORDS, np.uint32)
    temper(key, tempered)
    idx = np.empty(1, np.int64)
    x = np.empty((1, D), dt)
    xtm = np.empty((1, 1, D), dt)
    hs = np.empty((1, 1, H), dt)
    htm = np.empty((1, 1, H), dt)  # a lower layer's h, the next layer's input
    htm_t = np.empty((1, 1, H), dt)  # its time-major copy (lstm_forward's xtm)
    Hs = np.empty((2, 1, H), dt)
    Cs = np.empty((2, 1, H), dt)
    G = np.empty((1, 1, 4 * H), dt)
    TC = np.empty((1, 1, H), dt)
    score = np.empty((1, V), dt)
    cdf = np.empty(V, np.float64)
    n = 1
    word = out[0]
    while n < S:
        idx[0] = word
        embedding_forward(embed_W, idx, x)
        layer = 0
        for Wx, Wh, bl in lstms:
            if layer == 0:
                lstm_forward(x.reshape(1, 1, D), Wx, Wh, bl, h[0:1], c[0:1], hs, xtm, Hs, Cs, G, TC)
            else:
                htm[0, 0] = hs[0, 0]
                lstm_forward(htm, Wx, Wh, bl, h[layer:layer + 1], c[layer:layer + 1], hs, htm_t, Hs, Cs, G,
                             TC)
            h[layer] = Hs[1, 0]
            c[layer] = Cs[1, 0]
            layer += 1
        affine_forward(hs[0], W, b, score, 0)
        softmax_rows(score, score)
        status = _cdf(score[0], cdf, atol)
        if status != OK:
            return status
        k = _search(cdf, next_double(key, tempered, pos))
        kept = True
        for s in range(skip.shape[0]):
            if skip[s] == k:
                kept = False
                break
        if kept:
            word = k
            out[n] = k
            n += 1
    return OK
