"""fastprop.kernels.blas: ``gemm_acc`` (``c += alpha * a @ b`` in one BLAS call) against its
twin. It is a Numba intrinsic, callable only from compiled code, so the test calls it from a
small ``@njit`` wrapper, for every layout the fused steps pass (``x.T`` of a C array is F)."""
import numba
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels.blas import gemm_acc


@numba.njit(error_model="numpy")
def _gemm_acc(a, b, c, alpha):
    gemm_acc(a, b, c, alpha)


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


CASES = {
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
