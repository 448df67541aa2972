"""fastprop.kernels.rows against its twins: the row helpers that the layer kernels and the
fused steps share (softmax rows, cross-entropy rows, bias + activation, the batch gather)."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import rows as K

douts = st.sampled_from([1.0, 0.5, -2.0])


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _block(draw, dt):
    r = parity.rng(draw)
    return r, draw(parity.batch), draw(parity.classes)


def _softmax_rows(draw, dt):
    r, n, c = _block(draw, dt)
    scale = draw(st.sampled_from([1e-3, 1.0, 1e2, 1e4]))
    return [(scale * r.standard_normal((n, c))).astype(dt), np.zeros((n, c), dt)]


def _dot_row(draw, dt):
    r, n, c = _block(draw, dt)
    A, B = r.standard_normal((n + 2, c)).astype(dt), r.standard_normal((n, c)).astype(dt)
    return [A, draw(st.integers(0, n + 1)), B, draw(st.integers(0, n - 1))]


def _sigmoid_loss_at(draw, dt):
    r, n, _ = _block(draw, dt)
    # float32's 1 - y loses digits as y nears 1 (the book's too): large scores in float64 only
    scale = draw(st.sampled_from([1.0, 10.0, 100.0])) if dt == np.float64 else 1.0
    x = (scale * r.standard_normal(n)).astype(dt)
    return [x, draw(st.integers(0, 1)), r.standard_normal(n).astype(dt), draw(st.integers(0, n - 1))]


def _sigmoid_grad_at(draw, dt):
    r, n, _ = _block(draw, dt)
    return [r.random(n).astype(dt), draw(st.integers(0, 1)), draw(douts), n, draw(st.integers(0, n - 1))]


def _argmax_row(draw, dt):
    r, n, c = _block(draw, dt)
    t = r.integers(0, 3, (n, c)).astype(dt)  # few distinct values: ties, first one wins
    return [t, draw(st.integers(0, n - 1))]


def _grad_row(draw, dt, labels):
    r, n, c = _block(draw, dt)
    y = _softmax(r.standard_normal((n, c))).astype(dt)
    dx = r.standard_normal((n, c)).astype(dt)  # rows other than i must stay as they are
    i = draw(st.integers(0, n - 1))
    if labels:
        return [y, i, draw(st.integers(0, c - 1)), draw(douts), n, dx]
    m = draw(st.integers(1, 64))
    t = r.random((m, c)).astype(dt)
    return [y, i, t, draw(st.integers(0, m - 1)), draw(douts), n, dx]


def _loss_rows(draw, dt, labels):
    r, n, c = _block(draw, dt)
    y = _softmax(draw(parity.scales) * r.standard_normal((n, c))).astype(dt)
    # with rows, row i's target is t[rows[i]] of a longer set; without, t has one per row
    # (the twins index all of t then, the kernels only read the first n)
    m = draw(st.integers(n, n + 64)) if draw(st.booleans()) else n
    rows = r.permutation(m)[:n].astype(np.intp) if m > n or draw(st.booleans()) else None
    if labels:
        t = r.integers(0, c, m).astype(np.intp)
    else:
        t = r.random((m, c))
        t = (t / t.sum(axis=1, keepdims=True)).astype(dt)
    dx = np.zeros((n, c), dt) if draw(st.booleans()) else None
    return [y, t, rows, draw(douts), dx]


def _bias_activation(draw, dt):
    r, n, m = _block(draw, dt)
    a = draw(parity.scales) * r.standard_normal((n, m))
    a[r.random((n, m)) < 0.1] = 0.0
    b = r.standard_normal(m)
    b[r.random(m) < 0.2] = 0.0  # a + b exactly 0: the book's mask says 0 there
    return [a.astype(dt), b.astype(dt), draw(st.booleans())]


def _activation_backward_bias(draw, dt):
    r, n, m = _block(draw, dt)
    sigmoid = draw(st.booleans())
    z = r.standard_normal((n, m))
    a = 1 / (1 + np.exp(-z)) if sigmoid else np.maximum(z, 0)  # a saved forward output
    dh = draw(parity.scales) * r.standard_normal((n, m))
    return [dh.astype(dt), a.astype(dt), np.full(m, np.nan, dt), sigmoid]


def _gather_rows(draw, dt):
    r = parity.rng(draw)
    n, d, b = draw(st.integers(1, 300)), draw(parity.width), draw(parity.batch)
    source = draw(st.sampled_from(["uint8", "float32", "same"]))  # MNIST bytes, float32 images
    X = r.random((n, d)) * 255
    X = X.astype(dt) if source == "same" else X.astype(source)
    return [X, r.integers(0, n, b).astype(np.intp), np.full((b, d), np.nan, dt)]


def _loss_floor(a):
    # dx = (y - t) * dout / n with y, t in [0, 1]
    return abs(a["dout"]) / a["y"].shape[0]


CASES = {
    "softmax_rows": parity.Case(_softmax_rows, outputs=("y",), returns="y"),
    "argmax_row": parity.Case(_argmax_row, exact=True),
    "label_grad_row": parity.Case(lambda d, dt: _grad_row(d, dt, True), outputs=("dx",),
                                  floor=lambda a: abs(a["dout"]) / a["n"]),
    "target_grad_row": parity.Case(lambda d, dt: _grad_row(d, dt, False), outputs=("dx",),
                                   floor=lambda a: abs(a["dout"]) / a["n"]),
    "label_loss_rows": parity.Case(lambda d, dt: _loss_rows(d, dt, True), outputs=("dx",),
                                   floor=_loss_floor),
    "target_loss_rows": parity.Case(lambda d, dt: _loss_rows(d, dt, False), outputs=("dx",),
                                    floor=_loss_floor),
    "bias_activation": parity.Case(_bias_activation, outputs=("a",), returns="a"),
    "activation_backward_bias": parity.Case(_activation_backward_bias, outputs=("dh", "db"),
                                            returns="dh", linear=True),
    "dot_row": parity.Case(_dot_row, linear=True),
    "sigmoid_loss_at": parity.Case(_sigmoid_loss_at, outputs=("y",), floor=1.0),
    "sigmoid_grad_at": parity.Case(_sigmoid_grad_at),
    "gather_rows": parity.Case(_gather_rows, outputs=("xb",), returns="xb", exact=True),
}

test_parity = parity.make_test("rows", CASES)


# --------------------------------------------------------------------------- pinned cases


def test_softmax_rows_in_place_gives_the_same_bits():
    """``y`` may be ``x`` itself (the fused steps do that)."""
    x = np.random.default_rng(3).standard_normal((7, 5)) * 10
    want = K.softmax_rows(x, np.empty_like(x)).copy()
    inplace = x.copy()
    assert K.softmax_rows(inplace, inplace) is inplace
    np.testing.assert_array_equal(inplace, want)


def test_argmax_row_reads_the_first_maximum():
    t = np.array([[0.0, 1.0, 1.0], [2.0, 2.0, 2.0], [0.0, 0.0, 1.0]])
    assert [K.argmax_row(t, r) for r in range(3)] == [1, 0, 2]


def test_bias_activation_relu_is_zero_at_exactly_zero():
    a = np.array([[1.0, -1.0, 0.5]])
    K.bias_activation(a, np.array([-1.0, 1.0, -1.0]), False)
    assert a.tolist() == [[0.0, 0.0, 0.0]] and not np.signbit(a).any()
