"""fastprop.kernels.blas: ``gemm`` (``c = a @ b``) and ``gemm_acc`` (``c += alpha * a @ b``),
each one BLAS call, against their twins. They are Numba intrinsics, callable only from
compiled code, so the test calls them from small ``@njit`` wrappers, for every layout the
fused steps pass (``x.T`` of a C array is F)."""
import numba
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels.blas import gemm, gemm_acc


@numba.njit(error_model="numpy")
def _gemm_acc(a, b, c, alpha):
    gemm_acc(a, b, c, alpha)


@numba.njit(error_model="numpy")
def _gemm(a, b, c):
    gemm(a, b, c)


def _operand(r, rows, cols, dt, transposed):
    """A (rows, cols) operand, C-contiguous or the transpose of a C array (F)."""
    if transposed:
        return np.ascontiguousarray(r.standard_normal((cols, rows)).astype(dt)).T
    return r.standard_normal((rows, cols)).astype(dt)


def _args(draw, dt):
    r = parity.rng(draw)
    m, k, n = draw(parity.batch), draw(parity.width), draw(parity.width)
    a = _operand(r, m, k, dt, draw(st.booleans()))
    b = _operand(r, k, n, dt, draw(st.booleans()))
    c = r.standard_normal((m, n)).astype(dt)
    return [a, b, c, draw(st.sampled_from([-0.1, 1.0, -1.0, 2.5]))]


def _layouts_kept(k, t, dt):
    # the harness copies with order="K": an F operand must reach the kernel as F
    for name in ("a", "b"):
        assert k.args[name].flags.c_contiguous or k.args[name].flags.f_contiguous


def _args_gemm(draw, dt):
    a, b, c, _ = _args(draw, dt)
    return [a, b, np.full_like(c, np.nan)]  # every element written


CASES = {
    "gemm": parity.Case(_args_gemm, outputs=("c",), linear=True, kernel=_gemm, check=_layouts_kept),
    "gemm_acc": parity.Case(_args, outputs=("c",), linear=True, kernel=_gemm_acc,
                            check=_layouts_kept),
}

test_parity = parity.make_test("blas", CASES)


def test_gemm_acc_accumulates_exactly_on_small_integers():
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4) - 5
    c = np.ones((2, 4))
    _gemm_acc(a, b, c, -2.0)
    np.testing.assert_array_equal(c, 1 - 2 * (a @ b))
    c2 = np.ones((2, 4))
    _gemm_acc(np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T, c2, -2.0)  # F operands
    np.testing.assert_array_equal(c2, c)


def test_gemm_handles_empty_sizes_as_numpy_does():
    c = np.full((2, 3), np.nan)
    _gemm(np.empty((2, 0)), np.empty((0, 3)), c)      # an empty sum is zero
    np.testing.assert_array_equal(c, np.zeros((2, 3)))
    _gemm(np.empty((0, 4)), np.ones((4, 3)), np.empty((0, 3)))  # nothing to write
    c = np.ones((2, 3))
    _gemm_acc(np.empty((2, 0)), np.empty((0, 3)), c, 5.0)       # adds nothing
    np.testing.assert_array_equal(c, np.ones((2, 3)))


@pytest.mark.parametrize("shapes", [((2, 3), (4, 5), (2, 5)), ((2, 3), (3, 5), (2, 4)), ((2, 3), (3, 5), (3, 5))])
def test_mismatched_shapes_raise_instead_of_reaching_blas(shapes):
    a, b, c = (np.ones(s) for s in shapes)
    with pytest.raises(ValueError, match="shapes"):
        _gemm(a, b, c)
    with pytest.raises(ValueError, match="shapes"):
        _gemm_acc(a, b, c, 1.0)
