"""vol. 2 ch. 4's negative sampler, with NumPy's own random numbers.

The book's ``UnigramSampler.get_negative_sample`` does, for every row ``i`` of a batch::

    p = word_p.copy(); p[target[i]] = 0; p /= p.sum()
    out[i] = np.random.choice(V, size=S, replace=False, p=p)

and NumPy's legacy ``choice`` without replacement, with ``p``, repeats until it has ``S``
distinct values: draw ``S - n_found`` doubles with ``random_sample``, zero the ``p`` of what
was found, ``cdf = cumsum(p); cdf /= cdf[-1]``, ``cdf.searchsorted(x, side='right')``, keep
the new values in order of first appearance. This kernel runs the same arithmetic on the
same MT19937 state, so the negatives, and the state it leaves behind, are NumPy's bit for bit:

* ``p.sum()`` is NumPy's pairwise sum (blocks of up to 128 with 8 accumulators, halves
  rounded down to a multiple of 8), reproduced by :func:`_pairwise_sum_without`;
* ``p[j] = word_p[j] / s`` is a true division, and the cumulative sum is sequential, so
  each row's ``cdf`` is rebuilt exactly; the rows of a block of ``_G`` run side by side
  (their serial sums are independent, so they overlap in the pipeline);
* ``cdf / cdf[-1]`` is monotone, so the binary search divides only at the points it probes;
* a double is ``((a >> 5) * 2**26 + (b >> 6)) / 2**53`` of two 32-bit draws (``random_sample``).

Rows whose first draw repeats a value (a few per cent with the book's ``power=0.75``) take
a second round exactly as NumPy does, on their own ``cdf`` with the found values zeroed.
The caller (:class:`fastprop.layers.UnigramSampler`) reads and writes the global state.
"""
import numpy as np

from ._jit import jit
from .mt19937 import N_WORDS, next_double, temper

_G = 8  # rows whose cumulative sums run side by side


@jit
def _block_sum_without(a, lo, n, skip):
    """A leaf of NumPy's pairwise sum (``n <= 128``) of ``a[lo:lo + n]``, ``a[skip]`` read as 0."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i] if i != skip else 0.0
        return res
    if n <= 128:
        # NumPy's 8 accumulators, as scalars (an array here would be allocated per block)
        r0 = a[lo] if lo != skip else 0.0
        r1 = a[lo + 1] if lo + 1 != skip else 0.0
        r2 = a[lo + 2] if lo + 2 != skip else 0.0
        r3 = a[lo + 3] if lo + 3 != skip else 0.0
        r4 = a[lo + 4] if lo + 4 != skip else 0.0
        r5 = a[lo + 5] if lo + 5 != skip else 0.0
        r6 = a[lo + 6] if lo + 6 != skip else 0.0
        r7 = a[lo + 7] if lo + 7 != skip else 0.0
        i = lo + 8
        end = lo + n - (n % 8)
        while i < end:
            r0 += a[i] if i != skip else 0.0
            r1 += a[i + 1] if i + 1 != skip else 0.0
            r2 += a[i + 2] if i + 2 != skip else 0.0
            r3 += a[i + 3] if i + 3 != skip else 0.0
            r4 += a[i + 4] if i + 4 != skip else 0.0
            r5 += a[i + 5] if i + 5 != skip else 0.0
            r6 += a[i + 6] if i + 6 != skip else 0.0
            r7 += a[i + 7] if i + 7 != skip else 0.0
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < lo + n:
            res += a[i] if i != skip else 0.0
            i += 1
        return res
    return 0.0  # not reached: callers pass n <= 128


@jit
def pairwise_sum_without(a, skip, frames, vals):
    """``np.sum(b)`` of ``b = a.copy(); b[skip] = 0`` with NumPy's own rounding.

    NumPy halves a run longer than 128 (the first half rounded down to a multiple of 8)
    and sums the halves; this walks the same tree with an explicit stack (``frames``:
    (64, 3) int64 scratch of lo, n, stage; ``vals``: (64,) float64 scratch) instead of
    recursion, which Numba's on-disk cache does not link reliably across modules.
    """
    frames[0, 0] = 0
    frames[0, 1] = a.shape[0]
    frames[0, 2] = 0
    depth = 1
    nv = 0
    while depth > 0:
        top = depth - 1
        lo, n, stage = frames[top, 0], frames[top, 1], frames[top, 2]
        if n <= 128:
            vals[nv] = _block_sum_without(a, lo, n, skip)
            nv += 1
            depth -= 1
            continue
        n2 = n // 2
        n2 -= n2 % 8
        if stage == 2:
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            depth -= 1
            continue
        frames[top, 2] = stage + 1
        frames[depth, 0] = lo if stage == 0 else lo + n2
        frames[depth, 1] = n2 if stage == 0 else n - n2
        frames[depth, 2] = 0
        depth += 1
    return vals[0]



@jit
def _search(cdf, col, last, x):
    """``searchsorted(cdf[:, col] / last, x, side='right')``, dividing only where it probes."""
    lo = 0
    hi = cdf.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf[mid, col] / last <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _draw_round(cdf, col, key, tempered, pos, found, n_found, size):
    """One round of ``choice``: ``size - n_found`` draws searched in ``cdf[:, col]``; the
    new distinct values are appended to ``found`` in order of first appearance."""
    last = cdf[cdf.shape[0] - 1, col]
    start = n_found
    for _ in range(size - start):
        k = _search(cdf, col, last, next_double(key, tempered, pos))
        new = True
        for q in range(start, n_found):
            if found[q] == k:
                new = False
                break
        if new:
            found[n_found] = k
            n_found += 1
    return n_found


@jit
def negative_samples(key, pos, word_p, target, out):
    """The book's ``get_negative_sample(target)`` for every row, from the MT19937 state.

    Parameters
    ----------
    key : (624,) uint32, the MT19937 key of ``np.random.get_state()``; advanced in place
    pos : (1,) int64, its position; advanced in place
    word_p : (V,) float64, the sampler's ``word_p`` (non-negative, sums to 1)
    target : (N,) int64, one target word id in ``[0, V)`` per row
    out : (N, S) int32, written with ``S`` distinct negatives per row (``S <= V - 1``,
        and at least ``S`` nonzero ``word_p`` besides each target)

    Returns
    -------
    out
    """
    v = word_p.shape[0]
    n, size = out.shape
    tempered = np.empty(N_WORDS, np.uint32)
    temper(key, tempered)
    cdf = np.empty((v, _G), np.float64)
    one = np.empty((v, 1), np.float64)  # a row's own cdf for later rounds
    s = np.empty(_G, np.float64)
    frames = np.empty((64, 3), np.int64)
    vals = np.empty(64, np.float64)
    t = np.empty(_G, np.int64)
    found = np.empty(size, np.int64)
    for r0 in range(0, n, _G):
        g_n = min(_G, n - r0)
        for g in range(_G):
            t[g] = target[r0 + g] if g < g_n else 0
            s[g] = pairwise_sum_without(word_p, t[g], frames, vals)
        # p = word_p / s with the target's entry 0, then the sequential cumulative sums,
        # each pass running across the block's rows (contiguous: it vectorises)
        for i in range(v):
            wi = word_p[i]
            for g in range(_G):
                cdf[i, g] = (wi if i != t[g] else 0.0) / s[g]
        for i in range(1, v):
            for g in range(_G):
                cdf[i, g] += cdf[i - 1, g]
        for g in range(g_n):
            n_found = _draw_round(cdf, g, key, tempered, pos, found, 0, size)
            while n_found < size:
                acc = 0.0
                for i in range(v):
                    zero = i == t[g]
                    for q in range(n_found):
                        if found[q] == i:
                            zero = True
                    acc += 0.0 if zero else word_p[i] / s[g]
                    one[i, 0] = acc
                n_found = _draw_round(one, 0, key, tempered, pos, found, n_found, size)
            for q in range(size):
                out[r0 + g, q] = found[q]
    return out


# consecutive rejected draws of one row after which its remaining negatives come from the
# row's own renormalised distribution (targets or found words holding nearly all the mass)
_MAX_TRIES = 64


@jit
def _search_right(cdf, x):
    """``searchsorted(cdf, x, side='right')``: the first ``k`` with ``cdf[k] > x``."""
    lo = 0
    hi = cdf.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _draw_restricted(word_p, t, out, i, got, u):
    """One draw from ``word_p`` with the target ``t`` and ``out[i, :got]`` taken out,
    renormalised (a linear walk: the rare fallback of :func:`unigram_negative_samples`)."""
    s = 0.0
    for k in range(word_p.shape[0]):
        allowed = k != t
        for q in range(got):
            if out[i, q] == k:
                allowed = False
        if allowed:
            s += word_p[k]
    x = u * s
    acc = 0.0
    pick = -1
    for k in range(word_p.shape[0]):
        allowed = k != t and word_p[k] > 0
        for q in range(got):
            if out[i, q] == k:
                allowed = False
        if allowed:
            pick = k
            acc += word_p[k]
            if acc > x:
                break
    return pick


@jit
def unigram_negative_samples(key, pos, word_p, cdf, target, out):
    """Negatives from the book's distribution, not the book's numbers: a faster sampler.

    Row ``i`` gets ``S`` distinct words, none ``target[i]``, each drawn with probability
    ``word_p`` renormalised over the words not yet taken — successive sampling by weight,
    which is the distribution of the book's ``np.random.choice(V, S, replace=False, p=p)``
    with ``p[target] = 0`` (NumPy's rounds keep the distinct values of iid draws in order
    of first appearance, i.e. successive sampling too). Here every draw is one double of
    the MT19937 stream searched in the cumulative ``cdf`` (no per-row cumulative sum of
    ``V`` words), and a draw that hits the target or a word already taken is drawn again;
    after :data:`_MAX_TRIES` rejections in a row the rest of the row is drawn from its
    renormalised distribution directly.

    Parameters
    ----------
    key : (624,) uint32 MT19937 key; advanced in place
    pos : (1,) int64 position; advanced in place
    word_p : (V,) float64, non-negative, positive sum
    cdf : (V,) float64, ``np.cumsum(word_p)``
    target : (N,) int64 ids in ``[0, V)``
    out : (N, S) int32, written (at least ``S`` nonzero ``word_p`` besides each target)

    Returns
    -------
    out
    """
    v = cdf.shape[0]
    n, size = out.shape
    tempered = np.empty(N_WORDS, np.uint32)
    temper(key, tempered)
    last = cdf[v - 1]
    for i in range(n):
        t = target[i]
        got = 0
        tries = 0
        while got < size:
            u = next_double(key, tempered, pos)
            if tries >= _MAX_TRIES:
                out[i, got] = _draw_restricted(word_p, t, out, i, got, u)
                got += 1
                continue
            k = _search_right(cdf, u * last)
            ok = k < v and k != t
            for q in range(got):
                if out[i, q] == k:
                    ok = False
            if ok:
                out[i, got] = k
                got += 1
                tries = 0
            else:
                tries += 1
    return out
