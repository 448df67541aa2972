"""fastprop.kernels.sampling against NumPy itself: the twin runs ``RandomState.choice`` on
the same MT19937 state, so the negatives and the state left behind must agree bit for bit."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import sampling as K


def _word_p(r, v, power):
    counts = np.bincount(np.concatenate([np.arange(v), r.zipf(1.5, 20 * v) % v])).astype(np.float64)
    p = np.power(counts, power)
    return p / np.sum(p)


def _state(r):
    rs = np.random.RandomState(int(r.integers(0, 2**31)))
    rs.random_sample(int(r.integers(0, 700)))  # any position, a refill included
    _, key, pos = rs.get_state()[:3]
    return key.copy(), np.array([pos], np.int64)


def _samples(draw, dt):
    r = parity.rng(draw)
    v = draw(st.sampled_from([2, 3, 7, 40, 300, 2000]))
    size = draw(st.integers(1, min(v - 1, 8)))
    n = draw(st.integers(1, 20))
    key, pos = _state(r)
    return [key, pos, _word_p(r, v, draw(st.sampled_from([0.0, 0.75, 1.0, 2.0]))),
            r.integers(0, v, n).astype(np.int64), np.zeros((n, size), np.int32)]


def _fast_samples(draw, dt):
    key, pos, p, target, out = _samples(draw, dt)
    if draw(st.booleans()):  # one word holding nearly all the mass: the fallback's case
        p = np.full(p.shape[0], 1e-4)
        p[0] = 1.0
        p /= p.sum()
        target[:] = 1 if p.shape[0] > 2 else target
    return [key, pos, p, np.cumsum(p), target, out]


def _sum(draw, dt):
    r = parity.rng(draw)
    n = draw(st.sampled_from([1, 5, 8, 9, 127, 128, 129, 300, 1000, 10000, 12345]))
    a = r.random(n) ** 3
    return [a, int(r.integers(0, n)), np.zeros((64, 3), np.int64), np.zeros(64)]


CASES = {
    "negative_samples": parity.Case(_samples, outputs=("key", "pos", "out"), returns="out",
                                    exact=True, dtypes=(np.float64,), examples=60),
    "unigram_negative_samples": parity.Case(_fast_samples, outputs=("key", "pos", "out"),
                                            returns="out", exact=True, dtypes=(np.float64,),
                                            examples=60),
    "pairwise_sum_without": parity.Case(_sum, scratch=("frames", "vals"), exact=True,
                                        dtypes=(np.float64,)),
}

test_parity = parity.make_test("sampling", CASES)


def test_the_books_batch_at_word2vec_size():
    """V 10000, 100 rows, 5 negatives: the book's loop on the global RNG, twice in a row."""
    r = np.random.default_rng(0)
    p = _word_p(r, 10000, 0.75)
    target = r.integers(0, 10000, 100)
    np.random.seed(7)
    expected = []
    for _ in range(2):
        out = np.zeros((100, 5), np.int32)
        for i in range(100):
            q = p.copy()
            q[target[i]] = 0
            q /= q.sum()
            out[i] = np.random.choice(10000, size=5, replace=False, p=q)
        expected.append(out)
    after = np.random.get_state()
    np.random.seed(7)
    _, key, pos = np.random.get_state()[:3]
    key, pos = key.copy(), np.array([pos], np.int64)
    for e in expected:
        got = K.negative_samples(key, pos, p, target.astype(np.int64), np.zeros((100, 5), np.int32))
        np.testing.assert_array_equal(got, e)
        assert (got != target[:, None]).all()
    assert key.tobytes() == after[1].tobytes() and pos[0] == after[2]


def _successive(p, target, size):
    """Exact probabilities of every ordered tuple of ``size`` distinct negatives."""
    import itertools
    q = p.copy()
    q[target] = 0
    out = {}
    for tup in itertools.permutations(np.flatnonzero(q).tolist(), size):
        pr, left = 1.0, q.sum()
        for k in tup:
            pr *= q[k] / left
            left -= q[k]
        out[tup] = pr
    return out


def test_the_fast_sampler_draws_the_books_distribution():
    """Ordered pairs of negatives: the book's sampler, the fast one and the exact
    successive-sampling probabilities agree (chi-square, 40000 rows each)."""
    p = np.array([0.4, 0.25, 0.15, 0.1, 0.06, 0.04])
    n, size, target = 40000, 2, 2
    expected = _successive(p, target, size)
    cells = sorted(expected)
    key, pos = _state(np.random.default_rng(3))
    fast = K.unigram_negative_samples(key, pos, p, np.cumsum(p), np.full(n, target, np.int64),
                                      np.zeros((n, size), np.int32))
    book = K.negative_samples(key, pos, p, np.full(n, target, np.int64), np.zeros((n, size), np.int32))
    for got in (fast, book):
        counts = {c: 0 for c in cells}
        for row in map(tuple, got.tolist()):
            counts[row] += 1
        chi2 = sum((counts[c] - n * expected[c]) ** 2 / (n * expected[c]) for c in cells)
        # 19 degrees of freedom: P(chi2 > 43.8) = 0.001
        assert chi2 < 43.8, (chi2, counts)
