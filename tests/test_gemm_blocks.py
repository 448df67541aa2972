"""fastprop.gemm_blocks: GEMM blocks for the BLAS's small-matrix kernels, and only where they apply."""
import numpy as np
import pytest

from fastprop import gemm_blocks as blas
from fastprop import threads
from fastprop.layers import Affine


@pytest.fixture
def small_kernels(monkeypatch):
    def set_(value):
        monkeypatch.setattr(blas, "_small", value)
    return set_


def test_the_book_s_first_layer_goes_in_blocks_of_25_rows_where_the_blas_has_small_kernels(small_kernels):
    small_kernels(True)
    assert blas.gemm_rows(100, 784, 50, 1) == 25       # 25 * 784 * 50 <= 100**3 < 26 * 784 * 50
    assert blas.gemm_rows(60000, 784, 50, 1) == 25     # an evaluation pass: the same blocks
    assert blas.gemm_rows(20, 784, 50, 1) == 0         # small enough as one GEMM
    assert blas.gemm_rows(256, 784, 256, 1) == 0       # blocks of 4 rows measured slower
    assert blas.gemm_rows(100, 784, 50, 2) == 0        # two BLAS threads: one GEMM (the small kernels use one)
    with threads.thread_limit(1):
        assert blas.gemm_rows(100, 784, 50) == 25      # the policy's count when none is given
    with threads.thread_limit(2):
        assert blas.gemm_rows(100, 784, 50) == 0
    small_kernels(False)
    assert blas.gemm_rows(100, 784, 50, 1) == 0        # another BLAS: one GEMM, as before


def test_the_kernels_blas_is_inspected_once_and_answers_a_bool():
    assert isinstance(blas.has_small_kernels(), bool)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_affine_gives_the_same_output_in_blocks_as_in_one_gemm(small_kernels, rng, dt):
    """Blocks change only which BLAS kernel adds the products: the result agrees with one
    GEMM to rounding (100 rows are four blocks of 25; 90 rows end in a short block)."""
    W = rng.standard_normal((784, 50)).astype(dt)
    b = rng.standard_normal(50).astype(dt)
    for n in (100, 90):
        x = rng.random((n, 784)).astype(np.float32)
        small_kernels(False)
        whole = Affine(W, b).forward(x)
        small_kernels(True)
        with threads.thread_limit(1):  # blocks only where the BLAS runs on one thread
            blocks = Affine(W, b).forward(x)
        assert blocks.shape == whole.shape and blocks.dtype == whole.dtype == dt
        eps = np.finfo(dt).eps * 784 * np.abs(whole).max()  # a sum of 784 products, reordered
        np.testing.assert_allclose(blocks, whole, rtol=0, atol=eps)
