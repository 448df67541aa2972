"""fastprop.kernels.softmax against its twins, and the book's softmax/cross_entropy_error
edge cases (huge logits, equal rows, one-hot and label targets)."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels import softmax as K

douts = st.sampled_from([1.0, 0.5, -2.0])


def softmax64(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _grad_scale(a):
    # dx = (y - t) * dout / n with y, t in [0, 1]: rounding scales with |dout| / n
    return abs(a["dout"]) / a["y"].shape[0]


def _softmax(draw, dt):
    n, c = draw(parity.batch), draw(parity.classes)
    scale = draw(st.sampled_from([1e-3, 1.0, 1e2, 1e4]))
    return [(scale * parity.rng(draw).standard_normal((n, c))).astype(dt), np.zeros((n, c), dt)]


def _rows_sum_to_one(k, t, dt):
    np.testing.assert_allclose(k.args["out"].sum(axis=1), 1.0, rtol=1e-5 if dt == np.float32 else 1e-12)


def _logits(draw, dt):
    r = parity.rng(draw)
    n, c = draw(parity.batch), draw(parity.classes)
    x = draw(parity.scales) * r.standard_normal((n, c))
    return r, n, c, x.astype(dt)


def _labels_loss(draw, dt):
    r, n, c, x = _logits(draw, dt)
    t = r.integers(0, c, n).astype(np.intp)
    dx = np.zeros((n, c), dt) if draw(st.booleans()) else None
    return [x, t, np.zeros((n, c), dt), dx, draw(douts)]


def _onehot_loss(draw, dt):
    r, n, c, x = _logits(draw, dt)
    if draw(st.booleans()):
        t = np.eye(c)[r.integers(0, c, n)]
    else:  # soft targets: the gradient uses them as given, the loss reads their argmax
        t = r.random((n, c))
        t /= t.sum(axis=1, keepdims=True)
    dx = np.zeros((n, c), dt) if draw(st.booleans()) else None
    return [x, t.astype(dt), np.zeros((n, c), dt), dx, draw(douts)]


def _labels_loss_matches_book_and_onehot(k, t, dt):
    """The loss is the book's cross_entropy_error(softmax(x), t), and one-hot targets give
    the same loss, softmax and gradient (bit for bit in float64; in float32 the label path
    may round y - 1 once more or less)."""
    x, labels, dx, dout = k.args["x"], k.args["t"], k.args["dx"], k.args["dout"]
    n, c = x.shape
    y64 = softmax64(x.astype(np.float64))
    book = -np.sum(np.log(y64[np.arange(n), labels] + 1e-7)) / n
    parity.assert_close(k.result, book, dt, "loss = the book's")
    y1 = np.zeros_like(x)
    dx1 = None if dx is None else np.zeros_like(x)
    loss1 = K.softmax_cross_entropy_onehot(x, np.eye(c, dtype=x.dtype)[labels], y1, dx1, dout)
    assert loss1 == k.result
    np.testing.assert_array_equal(y1, k.args["y"])
    if dx is not None and dt == np.float64:
        np.testing.assert_array_equal(dx1, dx)
    elif dx is not None:
        parity.assert_close(dx1, dx.astype(np.float64), dt, floor=abs(dout) / n)


def _saved_softmax(draw, dt, targets):
    r = parity.rng(draw)
    n, c = draw(parity.batch), draw(parity.classes)
    y = softmax64(r.standard_normal((n, c))).astype(dt)
    labels = r.integers(0, c, n).astype(np.intp)
    if targets == "labels":
        t = labels
    elif draw(st.booleans()):
        t = np.eye(c, dtype=dt)[labels]
    else:
        t = r.random((n, c))
        t = (t / t.sum(axis=1, keepdims=True)).astype(dt)
    return [y, t, draw(douts), np.zeros((n, c), dt)]


def _backward_is_y_minus_t(k, t, dt):
    y, tt, dout = k.args["y"].astype(np.float64), k.args["t"], k.args["dout"]
    n, c = y.shape
    target = np.eye(c)[tt] if tt.ndim == 1 else tt.astype(np.float64)
    parity.assert_close(k.args["dx"], (y - target) * dout / n, dt, "dx = (y - t) * dout / n",
                        floor=abs(dout) / n)


def _loss_floor(a):
    return abs(a["dout"]) / a["x"].shape[0]


CASES = {
    "softmax": parity.Case(_softmax, outputs=("out",), returns="out", check=_rows_sum_to_one),
    "softmax_cross_entropy": parity.Case(_labels_loss, outputs=("y", "dx"), floor=_loss_floor,
                                         check=_labels_loss_matches_book_and_onehot),
    "softmax_cross_entropy_onehot": parity.Case(_onehot_loss, outputs=("y", "dx"), floor=_loss_floor),
    "softmax_cross_entropy_backward": parity.Case(
        lambda draw, dt: _saved_softmax(draw, dt, "labels"), outputs=("dx",), returns="dx",
        floor=_grad_scale, check=_backward_is_y_minus_t),
    "softmax_cross_entropy_onehot_backward": parity.Case(
        lambda draw, dt: _saved_softmax(draw, dt, "targets"), outputs=("dx",), returns="dx",
        floor=_grad_scale, check=_backward_is_y_minus_t),
}

test_parity = parity.make_test("softmax", CASES)


# --------------------------------------------------------------------------- pinned edge cases


@pytest.mark.parametrize("kdtype", parity.DTYPES)
def test_softmax_of_huge_logits_is_finite_and_sums_to_one(kdtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [-1e4, 0.0, 1e4]], dtype=kdtype)
    y = np.empty_like(x)
    K.softmax(x, y)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y, [[1, 0, 0], [1 / 3] * 3, [0.5, 0.5, 0], [0, 0, 1]], atol=1e-7)
    # and the fused loss stays finite: -log(0 + 1e-7) for a confidently wrong row
    t = np.array([1, 0, 2, 2], dtype=np.intp)
    dx = np.empty_like(x)
    loss = K.softmax_cross_entropy(x, t, np.empty_like(x), dx, 1.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    expected = -(np.log(1e-7) + np.log(1 / 3 + 1e-7) + np.log(1e-7) + np.log(1 + 1e-7)) / 4
    assert loss == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("kdtype", parity.DTYPES)
def test_all_equal_rows_give_uniform_softmax(kdtype):
    for c in (2, 3, 10):
        x = np.full((4, c), 7.5, dtype=kdtype)
        y = np.empty_like(x)
        K.softmax(x, y)
        np.testing.assert_array_equal(y, np.full((4, c), kdtype(1) / kdtype(c)))
        t = np.zeros(4, dtype=np.intp)
        dx = np.empty_like(x)
        loss = K.softmax_cross_entropy(x, t, np.empty_like(x), dx, 1.0)
        assert loss == pytest.approx(-np.log(1 / c + 1e-7), rel=1e-6)
        expected = np.full((4, c), 1 / c) / 4
        expected[:, 0] -= 1 / 4
        np.testing.assert_allclose(dx, expected, rtol=1e-6, atol=1e-7)


def test_one_hot_and_label_targets_pinned_example():
    x = np.array([[0.3, 2.9, 4.0], [0.0, 0.0, 0.0]])
    t = np.array([2, 1], dtype=np.intp)
    onehot = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    y_l, y_o, dx_l, dx_o = (np.empty((2, 3)) for _ in range(4))
    loss_l = K.softmax_cross_entropy(x, t, y_l, dx_l, 1.0)
    loss_o = K.softmax_cross_entropy_onehot(x, onehot, y_o, dx_o, 1.0)
    y = softmax64(x)
    book = -(np.log(y[0, 2] + 1e-7) + np.log(y[1, 1] + 1e-7)) / 2
    assert loss_l == pytest.approx(book, rel=1e-14)
    assert loss_o == loss_l
    np.testing.assert_allclose(dx_l, (y - onehot) / 2, rtol=1e-13)
    np.testing.assert_array_equal(dx_o, dx_l)
    # the loss without dx is the same number
    assert K.softmax_cross_entropy(x, t, np.zeros((2, 3)), None, 1.0) == loss_l
