"""fastprop.kernels.vmath: the vectorisable exp and log are within 1 ulp of NumPy's (their
twins) everywhere, with the same special values. Both are scalar functions called from
compiled loops, so the tests call them from one, as the kernels do."""
import numba
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels import vmath as K
from fastprop.twins import vmath as T


@numba.njit(error_model="numpy")
def _map_exp(x, out):
    for i in range(x.shape[0]):
        out[i] = K.exp(x[i])


@numba.njit(error_model="numpy")
def _map_log(x, out):
    for i in range(x.shape[0]):
        out[i] = K.log(x[i])


@numba.njit(error_model="numpy")
def _map_exp32(x, out):
    for i in range(x.shape[0]):
        out[i] = K.exp32(x[i])


def _py_map(f):
    def mapped(x, out):
        for i in range(x.shape[0]):
            out[i] = f(x[i])
    return mapped


def _ulps(got, want):
    finite = np.isfinite(want) & (want != 0)
    return np.abs(got[finite] - want[finite]) / np.spacing(np.abs(want[finite]))


def _within_one_ulp(k, t, dt):
    got, want = k.args["out"], t.args["out"]
    assert _ulps(got, want).max(initial=0.0) <= 1.0
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_array_equal(got == 0, want == 0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def _within_one_float32_ulp(k, t, dt):
    """The harness runs the twin in float64: its results are compared rounded to float32."""
    got = k.args["out"].astype(np.float32)
    want = t.args["out"].astype(np.float32)
    assert _ulps(got, want).max(initial=0.0) <= 1.0
    for f in (np.isinf, np.isnan, lambda a: a == 0):
        np.testing.assert_array_equal(f(got), f(want))


def _exp_args(draw, dt):
    lo, hi = draw(st.sampled_from([(-1, 1), (-40, 40), (-745.2, 709.8), (-800, 800)]))
    x = parity.rng(draw).uniform(lo, hi, draw(st.integers(1, 300)))
    return [x.astype(dt), np.empty(x.shape[0])]  # float64 results for every input dtype


def _exp32_args(draw, dt):
    lo, hi = draw(st.sampled_from([(-1, 1), (-20, 0), (-110, 89), (-200, 200)]))
    x = parity.rng(draw).uniform(lo, hi, draw(st.integers(1, 300)))
    return [x.astype(dt), np.empty(x.shape[0], np.float32)]  # float32 results for every input


def _log_args(draw, dt):
    r = parity.rng(draw)
    n = draw(st.integers(1, 300))
    x = draw(st.sampled_from([
        lambda: r.uniform(1e-7, 1.0, n),          # the log-loss's range
        lambda: r.uniform(0.5, 2.0, n),
        lambda: np.exp(r.uniform(-80, 80, n)),
        lambda: r.uniform(1 - 1e-6, 1 + 1e-6, n),  # near the zero of log
    ]))()
    return [x.astype(dt), np.empty(n)]


CASES = {
    "exp": parity.Case(_exp_args, outputs=("out",), kernel=_map_exp, twin=_py_map(T.exp),
                       check=_within_one_ulp),
    "exp32": parity.Case(_exp32_args, outputs=("out",), kernel=_map_exp32, twin=_py_map(T.exp32),
                         check=_within_one_float32_ulp, rtol=2.4e-7),  # 1 float32 ulp
    "log": parity.Case(_log_args, outputs=("out",), kernel=_map_log, twin=_py_map(T.log),
                       check=_within_one_ulp),
}

test_parity = parity.make_test("vmath", CASES)


# --------------------------------------------------------------------------- whole ranges


@pytest.mark.parametrize("lo, hi", [(-1, 1), (-40, 40), (-745.2, 709.8), (-800, 800)])
def test_exp_within_one_ulp(lo, hi):
    x = np.random.default_rng(0).uniform(lo, hi, 200_000)
    out = np.empty_like(x)
    _map_exp(x, out)
    with np.errstate(over="ignore"):
        want = np.exp(x)
    assert _ulps(out, want).max() <= 1.0
    np.testing.assert_array_equal(np.isinf(out), np.isinf(want))
    np.testing.assert_array_equal(out == 0, want == 0)


def test_exp_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 709.78, 709.79, -745.13, -745.14, -744.0,
                  -708.5, 1e-300, -1e-300])
    out = np.empty_like(x)
    _map_exp(x, out)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(out, np.exp(x))  # subnormal results included


@pytest.mark.parametrize("make", [
    lambda r: r.uniform(1e-7, 1.0, 200_000),          # the log-loss's range
    lambda r: r.uniform(0.5, 2.0, 200_000),
    lambda r: np.exp(r.uniform(-700, 700, 200_000)),
    lambda r: r.uniform(1 - 1e-6, 1 + 1e-6, 200_000),  # near the zero of log
    lambda r: 10.0 ** r.uniform(-323, -308, 20_000),    # subnormal inputs
])
def test_log_within_one_ulp(make):
    x = make(np.random.default_rng(1))
    out = np.empty_like(x)
    _map_log(x, out)
    assert _ulps(out, np.log(x)).max() <= 1.0


def test_log_special_values():
    x = np.array([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 1.0, 5e-324, 2.0, np.e])
    out = np.empty_like(x)
    _map_log(x, out)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(out, np.log(x))


def test_float32_inputs_give_float64_results():
    x = np.array([0.5, -3.0], np.float32)
    out = np.empty(2)
    _map_exp(x, out)
    np.testing.assert_allclose(out, np.exp(x.astype(np.float64)), rtol=2.3e-16)


@pytest.mark.parametrize("lo, hi", [(-1, 1), (-20, 0), (-87, 88), (-110, -80), (-200, 200)])
def test_exp32_within_one_float32_ulp(lo, hi):
    x = np.random.default_rng(2).uniform(lo, hi, 200_000).astype(np.float32)
    out = np.empty_like(x)
    _map_exp32(x, out)
    with np.errstate(over="ignore"):
        want = np.exp(x.astype(np.float64)).astype(np.float32)  # correctly rounded (nearly)
    assert out.dtype == np.float32
    assert _ulps(out, want).max(initial=0.0) <= 1.0  # subnormals too: their spacing is 2**-149
    np.testing.assert_array_equal(np.isinf(out), np.isinf(want))
    np.testing.assert_array_equal(out == 0, want == 0)


def test_exp32_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 88.72, 88.73, -103.9, -104.0, -87.5, 1e-30],
                 np.float32)
    out = np.empty_like(x)
    _map_exp32(x, out)
    with np.errstate(over="ignore"):
        want = np.exp(x.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(want))
    np.testing.assert_array_equal(out[~np.isnan(want)], want[~np.isnan(want)])
