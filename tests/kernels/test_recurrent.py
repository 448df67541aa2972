"""fastprop.kernels.recurrent (TimeRNN, TimeLSTM loops) and .gru against their twins: the
book's cells step by step in NumPy, writing the same time-major caches."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels import recurrent as K
from fastprop.kernels._jit import jit
from fastprop.twins import gru as TG
from fastprop.twins import recurrent as TR

small = st.integers(1, 6)
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _sizes(draw):
    return draw(small), draw(small), draw(small), draw(small)


def _weights(r, kind, D, H, dt):
    g = GATES[kind]
    return [(r.standard_normal((D, g * H)) / np.sqrt(D)).astype(dt),
            (r.standard_normal((H, g * H)) / np.sqrt(H)).astype(dt),
            (0.3 * r.standard_normal(g * H)).astype(dt)]


def _caches(kind, N, T, D, H, dt):
    g = GATES[kind]
    c = [np.full((N, T, H), np.nan, dt), np.full((T, N, D), np.nan, dt), np.full((T + 1, N, H), np.nan, dt)]
    if kind == "lstm":
        c += [np.full((T + 1, N, H), np.nan, dt), np.full((T, N, g * H), np.nan, dt), np.full((T, N, H), np.nan, dt)]
    if kind == "gru":
        c += [np.full((T, N, g * H), np.nan, dt), np.full((T, N, H), np.nan, dt)]
    return c


def _forward_args(kind):
    def build(draw, dt):
        r = parity.rng(draw)
        N, T, D, H = _sizes(draw)
        xs = (draw(st.sampled_from([0.1, 1.0, 5.0])) * r.standard_normal((N, T, D))).astype(dt)
        # zero states too: the kernels skip the GEMMs of a zero initial state
        scale = draw(st.sampled_from([0.0, 1.0, 1.0]))
        states = [scale * r.standard_normal((N, H)).astype(dt) for _ in range(2 if kind == "lstm" else 1)]
        return [xs, *_weights(r, kind, D, H, dt), *states, *_caches(kind, N, T, D, H, dt)]
    return build


def _backward_args(kind):
    """Caches from the float64 twin forward, rounded to ``dt`` (consistent inputs)."""
    fwd = {"rnn": TR.rnn_forward, "lstm": TR.lstm_forward, "gru": TG.gru_forward}[kind]

    def build(draw, dt):
        args = _forward_args(kind)(draw, np.float64)
        fwd(*args)
        n_states = 2 if kind == "lstm" else 1
        xs, Wx, Wh, b = args[:4]
        caches = args[4 + n_states + 1:]  # without hs
        N, T, D = xs.shape
        H = Wh.shape[0]
        r = parity.rng(draw)
        dhs = r.standard_normal((N, T, H))
        grads = [np.full(Wx.shape, np.nan), np.full(Wh.shape, np.nan), np.full(b.shape, np.nan),
                 np.full((N, T, D), np.nan), r.standard_normal((N, H))]
        if kind == "lstm":
            grads.append(r.standard_normal((N, H)))
        scratch = [np.full((T, N, GATES[kind] * H), np.nan), np.full((T, N, D), np.nan)]
        return [a.astype(dt) for a in [dhs, Wx, Wh, *caches, *grads, *scratch]]
    return build


FWD_OUT = {"rnn": ("hs", "xtm", "Hs"), "lstm": ("hs", "xtm", "Hs", "Cs", "G", "TC"),
           "gru": ("hs", "xtm", "Hs", "G", "RH")}
BWD_OUT = {"rnn": ("dWx", "dWh", "db", "dxs", "dh", "dA", "dxtm"),
           "lstm": ("dWx", "dWh", "db", "dxs", "dh", "dc", "dA", "dxtm"),
           "gru": ("dWx", "dWh", "db", "dxs", "dh", "dA", "dxtm")}


def _case(kind, backward):
    if backward:
        # sums over N*T terms: rounding scales with the terms, not with the result
        return parity.Case(_backward_args(kind), outputs=BWD_OUT[kind], returns="dxs", floor=1.0, examples=25)
    return parity.Case(_forward_args(kind), outputs=FWD_OUT[kind], returns="hs", floor=1.0, examples=25)


@jit(cache=False)
def _map_sigmoid(x, out):
    for i in range(x.shape[0]):
        out[i] = K.sigmoid(x[i])
    return out


@jit(cache=False)
def _map_tanh(x, out):
    for i in range(x.shape[0]):
        out[i] = K.tanh(x[i])
    return out


def _twin_map(fn):
    def twin(x, out):
        out[...] = [fn(v) for v in x]
        return out
    return twin


def _points(draw, dt):
    x = np.concatenate([parity.rng(draw).standard_normal(draw(parity.batch)) * draw(parity.scales),
                        [0.0, -0.0, 1e-9, 30.0, -30.0, 400.0, -400.0, 1e4, -1e4]])
    return [x.astype(dt), np.full(x.shape, np.nan, dt)]


def _cube(draw, dt):
    a, b, c = draw(small), draw(small), draw(small)
    return [parity.rng(draw).standard_normal((a, b, c)).astype(dt), np.full((b, a, c), np.nan, dt)]


def _plane(draw, dt):
    a = np.zeros((draw(small), draw(small)), dt)
    if draw(st.booleans()):
        a[draw(st.integers(0, a.shape[0] - 1)), draw(st.integers(0, a.shape[1] - 1))] = draw(
            st.sampled_from([1e-300, -0.5, np.nan, np.inf]))
    return [a]


def _step(draw, dt):
    r = parity.rng(draw)
    n = draw(st.sampled_from([1, 1, 2, 5]))  # one row takes the GEMV branch
    k, m = draw(small), draw(small)
    return [r.standard_normal((n, k)).astype(dt), r.standard_normal((k, m)).astype(dt),
            r.standard_normal((n, m)).astype(dt), np.full((1, m), np.nan, dt)]


def _coefficients(draw, dt):
    return [draw(small), np.dtype(dt)]


CASES = {
    "rnn_forward": _case("rnn", False), "rnn_backward": _case("rnn", True),
    "lstm_forward": _case("lstm", False), "lstm_backward": _case("lstm", True),
    "to_time_major": parity.Case(_cube, outputs=("out",), returns="out", exact=True),
    "to_batch_major": parity.Case(_cube, outputs=("out",), returns="out", exact=True),
    "sigmoid": parity.Case(_points, outputs=("out",), returns="out", kernel=_map_sigmoid,
                           twin=_twin_map(TR.sigmoid)),
    # tanh = 2 sigmoid(2v) - 1 is exact to a few ulp of 1, not relative near 0: floor 1
    "tanh": parity.Case(_points, outputs=("out",), returns="out", kernel=_map_tanh,
                        twin=_twin_map(TR.tanh), floor=1.0, rtol=0),
    "lstm_gate_coefficients": parity.Case(_coefficients, exact=True),
    "all_zero": parity.Case(_plane, exact=True),
    "step_gemm": parity.Case(_step, outputs=("out",), scratch=("row",), linear=True, inplace=True),
}

test_parity = parity.make_test("recurrent", CASES)


def test_lstm_cell_is_the_books_formula_on_one_step():
    """T = 1 by hand: c = f c0 + g i, h = o tanh(c), gate order f, g, i, o."""
    r = np.random.default_rng(3)
    N, D, H = 2, 3, 2
    xs, Wx = r.standard_normal((N, 1, D)), r.standard_normal((D, 4 * H))
    Wh, b = r.standard_normal((H, 4 * H)), r.standard_normal(4 * H)
    h0, c0 = r.standard_normal((N, H)), r.standard_normal((N, H))
    bufs = _caches("lstm", N, 1, D, H, np.float64)
    K.lstm_forward(xs, Wx, Wh, b, h0, c0, *bufs)
    A = xs[:, 0] @ Wx + h0 @ Wh + b
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    f, g, i, o = sig(A[:, :H]), np.tanh(A[:, H:2 * H]), sig(A[:, 2 * H:3 * H]), sig(A[:, 3 * H:])
    c = f * c0 + g * i
    np.testing.assert_allclose(bufs[3][1], c, rtol=1e-13)
    np.testing.assert_allclose(bufs[0][:, 0], o * np.tanh(c), rtol=1e-13)


def test_saturated_gates_stay_finite():
    r = np.random.default_rng(4)
    N, T, D, H = 2, 3, 2, 2
    xs = 1e4 * r.standard_normal((N, T, D))
    Wx, Wh, b = 1e3 * r.standard_normal((D, 4 * H)), r.standard_normal((H, 4 * H)), np.zeros(4 * H)
    bufs = _caches("lstm", N, T, D, H, np.float64)
    K.lstm_forward(xs, Wx, Wh, b, np.zeros((N, H)), np.zeros((N, H)), *bufs)
    assert np.isfinite(bufs[0]).all() and np.abs(bufs[0]).max() <= 1


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_a_zero_initial_state_gives_what_the_full_gemms_give(kind):
    """The skipped ``0 @ Wh`` (forward, first step) and the rows of ``Hs[0]`` left out of
    ``dWh`` change nothing: float64 against the twin, T = 1 and T > 1, -0.0 counts as 0."""
    r = np.random.default_rng(5)
    for T in (1, 4):
        N, D, H = 3, 2, 4
        g = GATES[kind]
        Wx, Wh, b = _weights(r, kind, D, H, np.float64)
        xs = r.standard_normal((N, T, D))
        states = [np.full((N, H), -0.0) for _ in range(2 if kind == "lstm" else 1)]
        fk, ft = getattr(K, f"{kind}_forward"), getattr(TR, f"{kind}_forward")
        bk, bt = getattr(K, f"{kind}_backward"), getattr(TR, f"{kind}_backward")
        ours, theirs = _caches(kind, N, T, D, H, np.float64), _caches(kind, N, T, D, H, np.float64)
        fk(xs, Wx, Wh, b, *states, *ours)
        ft(xs, Wx, Wh, b, *states, *theirs)
        for u, v in zip(ours, theirs):
            np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)
        dhs = r.standard_normal((N, T, H))
        outs = []
        for fn, caches in ((bk, ours), (bt, theirs)):
            grads = [np.full(Wx.shape, np.nan), np.full(Wh.shape, np.nan), np.full(b.shape, np.nan),
                     np.full((N, T, D), np.nan), np.zeros((N, H))] + ([np.zeros((N, H))] if kind == "lstm" else [])
            scratch = [np.full((T, N, g * H), np.nan), np.full((T, N, D), np.nan)]
            fn(dhs, Wx, Wh, *caches[1:], *grads, *scratch)
            outs.append(grads)
        for u, v in zip(*outs):
            np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)
