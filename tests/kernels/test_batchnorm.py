"""fastprop.kernels.batchnorm against its twins (the book's expressions), and pinned cases."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels import batchnorm as K
from fastprop.twins import batchnorm as T

momenta = st.sampled_from([0.0, 0.5, 0.9, 1.0])
shifts = st.sampled_from([0.0, 1.0, -3.0])


def _data(draw):
    r = parity.rng(draw)
    n, d = draw(parity.batch), draw(parity.width)
    scale = draw(parity.scales)
    x = scale * (draw(shifts) + r.standard_normal((n, d)))
    return r, n, d, x


def _forward_train(draw, dt):
    r, n, d, x = _data(draw)
    nan2, nan1 = np.full((n, d), np.nan, dt), np.full(d, np.nan, dt)
    return [x.astype(dt), r.standard_normal(d).astype(dt), r.standard_normal(d).astype(dt),
            draw(momenta), r.standard_normal(d).astype(dt), r.random(d).astype(dt),
            nan2, nan2.copy(), nan1, nan2.copy(), nan1.copy(), nan1.copy()]


def _forward_test(draw, dt):
    r, n, d, x = _data(draw)
    return [x.astype(dt), r.standard_normal(d).astype(dt), r.standard_normal(d).astype(dt),
            x.mean(axis=0).astype(dt), (x.var(axis=0) * r.uniform(0.5, 2.0, d)).astype(dt),
            np.full((n, d), np.nan, dt)]


def _backward(draw, dt):
    r, n, d, x = _data(draw)
    gamma = r.standard_normal(d)
    xc, xn, std = np.empty((n, d)), np.empty((n, d)), np.empty(d)
    T.batchnorm_forward_train(x, gamma, np.zeros(d), 0.9, np.zeros(d), np.zeros(d), xc, xn, std,
                              np.empty((n, d)), np.empty(d), np.empty(d))
    return [r.standard_normal((n, d)).astype(dt), gamma.astype(dt), xc.astype(dt), xn.astype(dt),
            std.astype(dt), np.full(d, np.nan, dt), np.full(d, np.nan, dt),
            np.full((n, d), np.nan, dt)]


def _forward_floor(a):
    """Rounding of the centring scales with |x| and of the running averages with their terms."""
    return max(float(np.abs(a["x"]).max()), float(np.abs(a["running_mean"]).max()),
               float(np.abs(a["running_var"]).max()))


def _backward_floor(a):
    """The input gradient is a difference of terms of size |gamma * dout| / std * max(1, xn^2);
    dgamma and dbeta sum N terms of size |dout| * max(1, |xn|)."""
    g = float(np.abs(a["gamma"]).max()) * float(np.abs(a["dout"]).max())
    xn = float(np.abs(a["xn"]).max())
    n = a["dout"].shape[0]
    terms = g / float(a["std"].min()) * max(1.0, xn * xn)
    return max(terms, n * float(np.abs(a["dout"]).max()) * max(1.0, xn))


CASES = {
    "batchnorm_forward_train": parity.Case(
        _forward_train, outputs=("xc", "xn", "std", "out", "mean_out", "var_out"), returns="out",
        floor=_forward_floor),
    "batchnorm_forward_test": parity.Case(_forward_test, outputs=("out",), returns="out",
                                          floor=_forward_floor),
    "batchnorm_backward": parity.Case(_backward, outputs=("dgamma", "dbeta", "dx"), returns="dx",
                                      floor=_backward_floor),
}

test_parity = parity.make_test("batchnorm", CASES)
run = parity.runner("batchnorm", CASES)


# --------------------------------------------------------------------------- pinned edge cases


def _train(x, gamma, beta, momentum=0.9, rm=None, rv=None):
    n, d = x.shape
    dt = x.dtype
    rm = np.zeros(d, dt) if rm is None else rm
    rv = np.zeros(d, dt) if rv is None else rv
    xc, xn, out = (np.empty((n, d), dt) for _ in range(3))
    std, mo, vo = (np.empty(d, dt) for _ in range(3))
    K.batchnorm_forward_train(x, gamma, beta, momentum, rm, rv, xc, xn, std, out, mo, vo)
    return dict(xc=xc, xn=xn, std=std, out=out, mean=mo, var=vo)


@pytest.mark.parametrize("kdtype", parity.DTYPES)
def test_one_row_normalises_to_beta_with_the_books_eps(kdtype):
    x = np.array([[3.0, -1.0, 7.5]], dtype=kdtype)
    gamma = np.array([2.0, 3.0, 4.0], dtype=kdtype)
    beta = np.array([0.5, -0.5, 1.0], dtype=kdtype)
    r = _train(x, gamma, beta)
    assert r["out"].dtype == kdtype and r["std"].dtype == kdtype
    assert r["xc"].tolist() == [[0.0, 0.0, 0.0]] and r["xn"].tolist() == [[0.0, 0.0, 0.0]]
    assert r["out"].tolist() == [beta.tolist()]
    np.testing.assert_allclose(r["std"], np.sqrt(kdtype(1e-6)), rtol=1e-7)  # 10e-7 is 1e-6
    # running averages after one step from zeros: 0.1 * the batch mean, 0.1 * a zero variance
    np.testing.assert_allclose(r["mean"], kdtype(0.1) * x[0], rtol=1e-6)
    assert r["var"].tolist() == [0.0, 0.0, 0.0]


def test_float64_forward_and_backward_are_the_books_bit_for_bit():
    """Column sums in row order and the book's operation order: no rounding difference."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((100, 50)) * 2 + 1
    gamma, beta, rm, rv = (rng.standard_normal(50) for _ in range(4))
    k, t = run("batchnorm_forward_train",
               [x, gamma, beta, 0.9, rm, np.abs(rv), *(np.empty((100, 50)) for _ in range(2)),
                np.empty(50), np.empty((100, 50)), np.empty(50), np.empty(50)])
    for name in ("xc", "xn", "std", "out", "mean_out", "var_out"):
        np.testing.assert_array_equal(k.args[name], t.args[name], err_msg=name)
    dout = rng.standard_normal((100, 50))
    k, t = run("batchnorm_backward", [dout, gamma, k.args["xc"], k.args["xn"], k.args["std"],
                                      np.empty(50), np.empty(50), np.empty((100, 50))])
    for name in ("dgamma", "dbeta", "dx"):
        np.testing.assert_array_equal(k.args[name], t.args[name], err_msg=name)


@pytest.mark.parametrize("kdtype", parity.DTYPES)
def test_a_constant_column_gives_zero_normalised_values_and_a_finite_gradient(kdtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 3)).astype(kdtype)
    x[:, 1] = 4.0
    gamma = np.ones(3, kdtype)
    r = _train(x, gamma, np.zeros(3, kdtype))
    assert not r["xn"][:, 1].any()
    dx = np.empty_like(x)
    dgamma, dbeta = np.empty(3, kdtype), np.empty(3, kdtype)
    K.batchnorm_backward(rng.standard_normal((8, 3)).astype(kdtype), gamma, r["xc"], r["xn"],
                         r["std"], dgamma, dbeta, dx)
    assert np.isfinite(dx).all() and dgamma[1] == 0.0
    # the input gradient of a normalisation sums to zero over the batch
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-4 if kdtype == np.float32 else 1e-10)


def test_inference_with_zero_running_statistics_divides_by_sqrt_eps():
    x = np.array([[1e-3, -2e-3]])
    out = np.empty_like(x)
    K.batchnorm_forward_test(x, np.ones(2), np.zeros(2), np.zeros(2), np.zeros(2), out)
    np.testing.assert_allclose(out, [[1.0, -2.0]], rtol=1e-12)


def test_mean_out_may_be_the_running_mean_itself():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 4))
    rm, rv = rng.standard_normal(4), rng.random(4)
    expected = _train(x, np.ones(4), np.zeros(4), 0.9, rm.copy(), rv.copy())
    n, d = x.shape
    bufs = [np.empty((n, d)), np.empty((n, d)), np.empty(d), np.empty((n, d))]
    K.batchnorm_forward_train(x, np.ones(4), np.zeros(4), 0.9, rm, rv, *bufs, rm, rv)
    np.testing.assert_array_equal(rm, expected["mean"])
    np.testing.assert_array_equal(rv, expected["var"])
