"""fastprop.kernels.generate against its twin: the layer twins step by step and NumPy's own
``RandomState.choice`` on the same MT19937 state, so the ids and the state left behind agree
exactly (float64; float32 against the book's own float32 run is tests/nets/test_rnnlm_gen.py)."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels import generate as K


def _state(r):
    rs = np.random.RandomState(int(r.integers(0, 2**31)))
    rs.random_sample(int(r.integers(0, 700)))  # any position, a refill included
    _, key, pos = rs.get_state()[:3]
    return key.copy(), np.array([pos], np.int64)


def _model(r, V, D, H, layers, tied, scale, dt):
    def w(*shape):
        return (r.standard_normal(shape) / np.sqrt(shape[0])).astype(dt)
    embed_W = (scale * r.standard_normal((V, D))).astype(dt)
    lstms = tuple((w(D if k == 0 else H, 4 * H), w(H, 4 * H), w(4 * H)) for k in range(layers))
    W = embed_W.T if tied else (scale * w(H, V)).astype(dt)
    return embed_W, lstms, W, w(V)


def _args(draw, dt):
    r = parity.rng(draw)
    V, H = draw(st.integers(2, 60)), draw(st.integers(1, 12))
    layers = draw(st.sampled_from([1, 2]))
    tied = draw(st.booleans())  # BetterRnnlm: the output weight is embed_W.T (F-ordered), D = H
    D = H if tied else draw(st.integers(1, 12))
    scale = draw(st.sampled_from([1e-2, 1.0, 5.0]))
    embed_W, lstms, W, b = _model(r, V, D, H, layers, tied, scale, dt)
    key, pos = _state(r)
    # skip ids only with the near-uniform p of the small scale: with sharp p every word left
    # can be all but impossible, and then the book's loop (and this one) never ends (a run of
    # the suite hung here on such a draw)
    n_skip = draw(st.integers(0, V // 2)) if scale == 1e-2 else 0
    skip = r.choice(V, n_skip, replace=False).astype(np.int64)
    h = (0.5 * r.standard_normal((layers, H))).astype(dt) if draw(st.booleans()) else np.zeros((layers, H), dt)
    c = (0.5 * r.standard_normal((layers, H))).astype(dt) if draw(st.booleans()) else np.zeros((layers, H), dt)
    out = np.full(draw(st.integers(1, 25)), -1, np.int64)
    out[0] = r.integers(0, V)
    return [key, pos, skip, embed_W, lstms, W, b, h, c, 1.5e-8, out]


def _same_draws(k, t, dt):
    """The ids and the generator state are integers: equal, not close."""
    for name in ("out", "key", "pos"):
        np.testing.assert_array_equal(k.args[name], t.args[name], err_msg=name)
    assert k.result == t.result == K.OK


CASES = {
    "generate_words": parity.Case(_args, outputs=("key", "pos", "h", "c", "out"), check=_same_draws,
                                  dtypes=(np.float64,), examples=40),
}

test_parity = parity.make_test("generate", CASES)
run = parity.runner("generate", CASES)


@pytest.mark.parametrize("bad, status", [(np.nan, K.P_NAN), (2.0, K.P_SUM)])
def test_a_p_numpy_refuses_stops_before_its_draw(bad, status):
    """A NaN score (NumPy: 'probabilities contain NaN'), or a p whose sum is off 1 (here: an
    atol of -1 refuses every p): the status, and no double drawn for that step."""
    r = np.random.default_rng(0)
    embed_W, lstms, W, b = _model(r, 7, 3, 4, 1, False, 1.0, np.float64)
    if np.isnan(bad):
        b[2] = np.nan
    key, pos = _state(r)
    key0, pos0 = key.copy(), pos.copy()
    out = np.zeros(5, np.int64)
    h, c = np.zeros((1, 4)), np.zeros((1, 4))
    assert K.generate_words(key, pos, np.empty(0, np.int64), embed_W, lstms, W, b, h, c,
                            1.5e-8 if np.isnan(bad) else -1.0, out) == status
    assert np.array_equal(key, key0) and pos[0] == pos0[0]
    assert np.any(h != 0)  # the step's LSTM update happened, as the book's predict before choice


def test_one_word_draws_nothing():
    r = np.random.default_rng(1)
    embed_W, lstms, W, b = _model(r, 7, 3, 4, 2, False, 1.0, np.float64)
    key, pos = _state(r)
    key0, pos0 = key.copy(), pos.copy()
    h, c = np.zeros((2, 4)), np.zeros((2, 4))
    out = np.array([6], np.int64)
    assert K.generate_words(key, pos, np.empty(0, np.int64), embed_W, lstms, W, b, h, c, 1.5e-8, out) == K.OK
    assert out.tolist() == [6] and np.array_equal(key, key0) and pos[0] == pos0[0]
    assert not h.any() and not c.any()


@pytest.mark.parametrize("v", [3, 1000, 10000])
def test_the_sum_check_decides_as_numpys_choice_at_its_tolerance(v):
    """p summing to 1 +- atol (1 - 1e-6 .. 1 + 1e-6 of it): the plain sum cannot decide there,
    so the compensated one does; the status is whether NumPy's ``choice`` refuses p, and the
    cdf is ``np.cumsum(p)`` bit for bit."""
    atol = float(np.sqrt(np.finfo(np.float64).eps))
    r = np.random.default_rng(v)
    q = r.random(v)
    q /= q.sum()
    for rel in (-1.0, 1.0):
        for f in (1 - 1e-6, 1 + 1e-6, 0.5, 2.0):
            p = q * (1 + rel * atol * f)
            cdf = np.empty(v)
            try:
                np.random.RandomState(0).choice(v, p=p)
                refused = False
            except ValueError as e:
                assert "do not sum to 1" in str(e)
                refused = True
            assert K._cdf(p, cdf, atol) == (K.P_SUM if refused else K.OK), (rel, f)
            np.testing.assert_array_equal(cdf, np.cumsum(p))
