"""RnnlmGen / BetterRnnlmGen (vol. 2 ch. 7) against the book's classes as the book writes them
(fastprop.bench.book.vol2_nets): same seed, same weights, the same words, and the global RNG
left in the same state, in float64 and in the book's float32."""
import numpy as np
import pytest

from fastprop.bench.book import vol2_nets as book
from fastprop.nets import BetterRnnlmGen, RnnlmGen

V, H = 200, 16
PAIRS = {"Rnnlm": (RnnlmGen, book.RnnlmGen, ()), "BetterRnnlm": (BetterRnnlmGen, book.BetterRnnlmGen, (0.5,))}


def _pair(name, dtype, seed=0):
    ours, theirs, extra = PAIRS[name]
    np.random.seed(seed)
    a = ours(V, H, H, *extra, dtype=dtype)
    np.random.seed(seed)
    b = theirs(V, H, H, *extra, dtype=np.dtype(dtype).char)
    for p, q in zip(a.params, b.params, strict=True):
        assert p.dtype == q.dtype == dtype and np.array_equal(p, q)
    return a, b


def _states(model):
    s = model.get_state()
    return [s] if isinstance(s, tuple) else s


def _same_rng(s1, s2):
    assert s1[0] == s2[0] and np.array_equal(s1[1], s2[1]) and s1[2:] == s2[2:]


def _run(model, seed, calls):
    """``generate`` for each ``(start_id, skip_ids, sample_size)`` from one seed, a Gaussian
    draw first (so the RNG carries a cached Gaussian the draws must leave alone)."""
    np.random.seed(seed)
    np.random.randn()
    ids = [model.generate(*call) for call in calls]
    return ids, np.random.get_state()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(PAIRS))
def test_generate_draws_the_books_words_and_leaves_its_rng_state(name, dtype):
    skips = list(range(0, V, 3))  # a third of the words: many draws are dropped and fed again
    calls = [(5, None, 60), (17, skips, 40), (V - 1, [0, 1], 25)]  # the state carries over
    a, b = _pair(name, dtype)
    ids_a, rng_a = _run(a, 7, calls)
    ids_b, rng_b = _run(b, 7, calls)
    assert [len(i) for i in ids_a] == [60, 40, 25] and all(isinstance(i, int) for i in ids_a[0])
    assert ids_a == ids_b
    assert not set(ids_a[1][1:]) & set(skips)
    _same_rng(rng_a, rng_b)
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    for (ha, ca), (hb, cb) in zip(_states(a), _states(b), strict=True):
        assert ha.shape == hb.shape == (1, H) and ha.dtype == dtype
        np.testing.assert_allclose(ha, hb, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(ca, cb, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", list(PAIRS))
def test_several_seeds_at_the_books_size(name):
    """V 10000 (the book's PTB vocabulary), 100 words, float32 as the book runs it."""
    ours, theirs, extra = PAIRS[name]
    for seed in (1, 2):
        np.random.seed(seed)
        a = ours(10000, 32, 32, *extra)
        np.random.seed(seed)
        b = theirs(10000, 32, 32, *extra)
        assert _run(a, seed, [(seed, [seed], 100)])[0] == _run(b, seed, [(seed, [seed], 100)])[0]


@pytest.mark.parametrize("size", [0, 1])
def test_no_word_to_draw(size):
    """The book returns ``[start_id]`` for 0 and 1 without a draw or a predict."""
    a, _ = _pair("Rnnlm", np.float32)
    before = np.random.get_state()
    assert a.generate(9, None, size) == [9]
    _same_rng(np.random.get_state(), before)
    assert a.get_state() == (None, None)


@pytest.mark.parametrize("name", list(PAIRS))
def test_get_state_and_set_state_replay_a_continuation(name):
    a, b = _pair(name, np.float64)
    for m in (a, b):
        np.random.seed(3)
        m.generate(4, None, 10)
    saved_a, saved_b = a.get_state(), b.get_state()
    first = _run(a, 11, [(2, None, 15)])[0]
    a.set_state(saved_a)
    b.set_state(saved_b)
    assert _run(a, 11, [(2, None, 15)])[0] == first == _run(b, 11, [(2, None, 15)])[0]


def test_a_nan_score_is_numpys_error_at_the_books_point():
    """A NaN score makes every p NaN: NumPy's ValueError at the first step, after its
    predict and before any draw, with the RNG and the LSTM state where the book leaves them."""
    a, b = _pair("Rnnlm", np.float64)
    after = []
    for m in (a, b):
        m.params[-1][3] = np.nan  # the output bias
        np.random.seed(0)
        np.random.random_sample(5)
        with pytest.raises(ValueError, match="probabilities contain NaN"):
            m.generate(1, None, 5)
        after.append(np.random.get_state())
    _same_rng(*after)
    np.random.seed(0)
    np.random.random_sample(5)
    _same_rng(after[0], np.random.get_state())  # nothing drawn
    (ha, ca), (hb, cb) = a.get_state(), b.get_state()
    np.testing.assert_allclose(ha, hb, rtol=1e-10, atol=1e-12)  # the step's predict ran, as the book's
    np.testing.assert_allclose(ca, cb, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(start_id=V), ValueError, "start_id"), (dict(start_id=-1), ValueError, "start_id"),
    (dict(start_id=1.0), TypeError, "start_id"), (dict(start_id="a"), TypeError, "start_id"),
    (dict(start_id=True), TypeError, "start_id"),
    (dict(skip_ids=3), TypeError, "skip_ids"), (dict(skip_ids=np.arange(3)), TypeError, "skip_ids"),
    (dict(skip_ids=[V]), ValueError, r"skip_ids\[0\]"), (dict(skip_ids=[1, 2.0]), TypeError, r"skip_ids\[1\]"),
    (dict(skip_ids=list(range(V))), ValueError, "all 200 word ids"),
    (dict(sample_size=-1), ValueError, "sample_size"), (dict(sample_size=2.0), TypeError, "sample_size"),
])
def test_arguments_are_checked_before_any_draw(kwargs, error, match):
    a, _ = _pair("Rnnlm", np.float32)
    args = dict(start_id=0, skip_ids=None, sample_size=5) | kwargs
    before = np.random.get_state()
    with pytest.raises(error, match=match):
        a.generate(**args)
    _same_rng(np.random.get_state(), before)


def test_states_are_checked():
    a, _ = _pair("Rnnlm", np.float32)
    a.lstm_layer.set_state(np.zeros((2, H), np.float32), np.zeros((2, H), np.float32))
    with pytest.raises(ValueError, match=r"shape \(1, 16\)"):
        a.generate(0, None, 3)  # a training batch's state: the book would sample from 2 V scores
    with pytest.raises(ValueError, match="pair"):
        a.set_state((np.zeros((1, H)),))
    with pytest.raises(TypeError, match="state"):
        a.set_state(np.zeros((1, H)))
    b, _ = _pair("BetterRnnlm", np.float32)
    with pytest.raises(ValueError, match="2 "):
        b.set_state([(None, None)])


def test_weights_replaced_with_another_hidden_size_are_refused():
    """The kernel keeps one (layers, H) state: a second LSTM whose weights were replaced by
    ones of another H is refused before any draw (it would read past the state's rows)."""
    b, _ = _pair("BetterRnnlm", np.float32)
    lstm = b._lstms()[1]
    H2 = H + 4
    lstm.params[0] = np.zeros((H, 4 * H2), np.float32)  # Wx keeps H rows, Wh is (H2, 4 H2)
    lstm.params[1] = np.zeros((H2, 4 * H2), np.float32)
    lstm.params[2] = np.zeros(4 * H2, np.float32)
    before = np.random.get_state()
    with pytest.raises(ValueError, match="LSTM 1's Wx"):
        b.generate(0, None, 5)
    _same_rng(np.random.get_state(), before)
