"""The vectorisable exp and log inside the kernels (kernels/_vmath.py): within 1 ulp of
NumPy's everywhere, and the same special values."""
import numpy as np
import pytest
from numba import njit

from fastprop.kernels import _vmath


@njit(error_model="numpy")
def _map_exp(x, out):
    for i in range(x.shape[0]):
        out[i] = _vmath.exp(x[i])


@njit(error_model="numpy")
def _map_log(x, out):
    for i in range(x.shape[0]):
        out[i] = _vmath.log(x[i])


def _ulps(got, want):
    finite = np.isfinite(want) & (want != 0)
    return np.abs(got[finite] - want[finite]) / np.spacing(np.abs(want[finite]))


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
