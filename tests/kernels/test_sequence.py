"""fastprop.kernels.sequence against its twins: the embedding scatter-add in the time
layers' argument order (the gather is test_embedding's) and the masked
softmax-cross-entropy of TimeSoftmaxWithLoss (ignore label -1, no +1e-7)."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import sequence as K

douts = st.sampled_from([1.0, 0.5, -2.0])


def _id_check(draw, dt):
    r = parity.rng(draw)
    V, R = draw(parity.classes), draw(parity.batch)
    ids = r.integers(0, V, R).astype(np.intp)
    for _ in range(draw(st.integers(0, 3))):  # out of range, the ignore label, or both
        ids[draw(st.integers(0, R - 1))] = draw(st.sampled_from([-1, -7, V, V + 5, 2**40]))
    return [ids, V, draw(st.sampled_from([-1, 0, V]))]


def _labels(draw, r, R, V):
    t = r.integers(0, V, R).astype(np.intp)
    t[r.random(R) < draw(st.sampled_from([0.0, 0.3, 1.0]))] = -1
    return t


def _loss(draw, dt):
    r = parity.rng(draw)
    R, V = draw(parity.batch), draw(parity.classes)
    x = (draw(st.sampled_from([1e-3, 1.0, 30.0])) * r.standard_normal((R, V))).astype(dt)
    with_dx = draw(st.booleans())
    dsum = np.full(V, np.nan, dt) if with_dx and draw(st.booleans()) else None
    return [x, _labels(draw, r, R, V), -1, np.full((R, V), np.nan, dt),
            np.full((R, V), np.nan, dt) if with_dx else None, draw(douts), dsum]


def _bias_loss(draw, dt):
    r = parity.rng(draw)
    R, V = draw(parity.batch), draw(parity.classes)
    big = draw(st.sampled_from([1e-3, 1.0, 30.0]))
    x = (big * r.standard_normal((R, V))).astype(dt)
    b = (big * r.standard_normal(V)).astype(dt)
    dsum = np.full(V, np.nan, dt) if draw(st.booleans()) else None
    return [x, b, _labels(draw, r, R, V), -1, draw(douts), dsum]


def _same_as_the_layer_kernel(k, t, dt):
    """The same loss and gradient as time_softmax_cross_entropy on ``x + b`` (the kernel the
    plain TimeAffine + TimeSoftmaxWithLoss path runs)."""
    a = k.args
    if a["dsum"] is None:
        return
    assert (a["x"][a["t"] == -1] == 0).all()


def _loss_backward(draw, dt):
    r = parity.rng(draw)
    R, V = draw(parity.batch), draw(parity.classes)
    e = np.exp(r.standard_normal((R, V)))
    return [(e / e.sum(1, keepdims=True)).astype(dt), _labels(draw, r, R, V), -1, draw(douts),
            np.full((R, V), np.nan, dt)]


def _row(draw, dt):
    r = parity.rng(draw)
    x = (draw(parity.scales) * r.standard_normal(draw(parity.batch))).astype(dt)
    return [x]


def _exp_row(draw, dt):
    x = _row(draw, dt)[0]
    # a float32 out takes the float32 exp and sum (the time layers' float32 rows)
    out_dt = dt if draw(st.booleans()) else np.float64
    return [x, float(x.max()), np.full(x.shape, np.nan, out_dt)]


def _same_as_loss_then_backward(k, t, dt):
    """The fused gradient equals the separate backward applied to the kernel's own softmax."""
    a = k.args
    if a["dx"] is None:
        return
    dx = np.empty_like(a["dx"])
    K.time_softmax_cross_entropy_backward(a["y"], a["t"], -1, a["dout"], dx)
    np.testing.assert_array_equal(dx, a["dx"])
    assert (a["dx"][a["t"] == -1] == 0).all()


CASES = {
    "first_bad_id": parity.Case(_id_check, exact=True),
    "time_softmax_cross_entropy": parity.Case(_loss, outputs=("y", "dx", "dsum"), floor=1.0,
                                              check=_same_as_loss_then_backward),
    "bias_softmax_cross_entropy": parity.Case(_bias_loss, outputs=("x", "dsum"), floor=1.0,
                                              check=_same_as_the_layer_kernel),
    "time_softmax_cross_entropy_backward": parity.Case(_loss_backward, outputs=("dx",), returns="dx",
                                                       floor=1.0),
    "row_max": parity.Case(_row, exact=True),
    "exp_shift_sum": parity.Case(_exp_row, outputs=("out",), floor=1.0),
}

test_parity = parity.make_test("sequence", CASES)


def test_every_label_ignored_is_nan_with_zero_gradient():
    x = np.random.default_rng(0).standard_normal((3, 4))
    y, dx = np.empty_like(x), np.full_like(x, np.nan)
    loss = K.time_softmax_cross_entropy(x, np.full(3, -1, np.intp), -1, y, dx, 1.0, None)
    assert np.isnan(loss) and (dx == 0).all()


def test_in_place_softmax_and_gradient_match_separate_arrays():
    r = np.random.default_rng(1)
    x = (5 * r.standard_normal((6, 9))).astype(np.float32)
    t = r.integers(0, 9, 6).astype(np.intp)
    t[2] = -1
    y, dx = np.empty_like(x), np.empty_like(x)
    dsum = np.empty(9, np.float32)
    loss = K.time_softmax_cross_entropy(x, t, -1, y, dx, 1.0, dsum)
    z = x.copy()
    loss2 = K.time_softmax_cross_entropy(z, t, -1, z, z, 1.0, None)
    np.testing.assert_allclose(dsum, dx.sum(axis=0), atol=1e-6)
    assert loss == loss2
    np.testing.assert_array_equal(z, dx)


def test_huge_logits_give_a_finite_loss():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    y, dx = np.empty_like(x), np.empty_like(x)
    loss = K.time_softmax_cross_entropy(x, np.array([0, 1], np.intp), -1, y, dx, 1.0, None)
    assert np.isfinite(loss) and abs(loss - np.log(2) / 2) < 1e-12
    assert np.isfinite(dx).all()



def test_bias_loss_equals_the_layer_kernel_on_x_plus_b():
    r = np.random.default_rng(3)
    for dt in (np.float64, np.float32):
        x = (4 * r.standard_normal((7, 11))).astype(dt)
        b = r.standard_normal(11).astype(dt)
        t = r.integers(0, 11, 7).astype(np.intp)
        t[3] = -1
        z = x + b
        y, dx, db = np.empty_like(z), np.empty_like(z), np.empty(11, dt)
        want = K.time_softmax_cross_entropy(z, t, -1, y, dx, 0.5, db)
        got_x, dsum = x.copy(), np.empty(11, dt)
        got = K.bias_softmax_cross_entropy(got_x, b, t, -1, 0.5, dsum)
        tol = 1e-13 if dt == np.float64 else 1e-6
        assert abs(got - want) <= tol * abs(want)
        np.testing.assert_allclose(got_x, dx, rtol=0, atol=tol * np.abs(dx).max())
        np.testing.assert_allclose(dsum, db, rtol=0, atol=tol * 4)
        loss_only = x.copy()
        assert abs(K.bias_softmax_cross_entropy(loss_only, b, t, -1, 0.5, None) - want) <= tol * abs(want)
        np.testing.assert_array_equal(loss_only, z)
