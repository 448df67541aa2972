"""The drop-in Affine on more than one thread: its GEMMs split over Numba's pool
(kernels.affine.affine_forward_parts / affine_backward_parts) give what one thread gives."""
import numpy as np
import pytest

from fastprop import gemm_blocks, threads
from fastprop.kernels import affine as K
from fastprop.layers import Affine


@pytest.fixture
def calls(monkeypatch):
    """Count the calls of the parts kernels (the real kernels still run)."""
    seen = {"forward": 0, "backward": 0}

    def counting(name, key):
        real = getattr(K, name)

        def run(*args):
            seen[key] += 1
            return real(*args)
        monkeypatch.setattr(K, name, run)
    counting("affine_forward_parts", "forward")
    counting("affine_backward_parts", "backward")
    return seen


def _run(layer, batches, dout):
    outs = []
    for x in batches:
        out = layer.forward(x)
        dx = layer.backward(dout)
        outs.append((out.copy(), dx.copy(), layer.dW.copy(), layer.db.copy()))
    return outs


@pytest.mark.parametrize("src_dtype", [np.float32, np.float64])
def test_two_threads_give_what_one_thread_gives(calls, src_dtype):
    """The book's first layer, (100, 784) @ (784, 50) (3.9 M multiply-adds: split), fed
    the float32 MNIST batches of the book's loop: the same batch twice (gradient, then
    loss: the kept cast buffer must not be rewritten), then a new batch."""
    r = np.random.default_rng(0)
    W, b = 0.01 * r.standard_normal((784, 50)), r.standard_normal(50)
    x1, x2 = r.random((100, 784)).astype(src_dtype), r.random((100, 784)).astype(src_dtype)
    dout = r.standard_normal((100, 50))
    with threads.thread_limit(1):
        one = _run(Affine(W, b), [x1, x1, x2], dout)
    assert calls == {"forward": 0, "backward": 0}
    with threads.thread_limit(2):
        two = _run(Affine(W, b), [x1, x1, x2], dout)
    assert calls == {"forward": 3, "backward": 3}
    same_blocks = gemm_blocks.gemm_rows(100, 784, 50, blas_threads=1) > 0
    for (o1, dx1, dW1, db1), (o2, dx2, dW2, db2) in zip(one, two):
        if same_blocks:  # the parts end on the one-thread path's blocks: the very same GEMMs
            np.testing.assert_array_equal(o2, o1)
        np.testing.assert_allclose(o2, o1, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(dW2, dW1)  # one GEMM on one thread either way
        np.testing.assert_array_equal(db2, db1)
        np.testing.assert_allclose(dx2, dx1, rtol=1e-12, atol=1e-14)
    ref = x2.astype(np.float64) @ W + b
    np.testing.assert_allclose(two[2][0], ref, rtol=1e-12, atol=1e-12)


def test_small_gemms_and_a_single_row_stay_on_one_call(calls):
    r = np.random.default_rng(1)
    W, b = r.standard_normal((30, 20)), r.standard_normal(20)
    with threads.thread_limit(2):
        layer = Affine(W, b)
        out = layer.forward(r.standard_normal((100, 30)))  # 60 k multiply-adds
        layer.backward(np.ones_like(out))
        big = Affine(r.standard_normal((4000, 300)), r.standard_normal(300))
        big.forward(r.standard_normal((1, 4000)))  # one row: nothing to split
    assert calls == {"forward": 0, "backward": 0}


def test_a_batch_with_image_axes_is_cast_and_split_by_rows(calls):
    """(N, 1, 28, 28) float32 input (the conv nets' layout fed to an Affine): the cast
    buffer keeps the input's shape, the parts see its rows, dx comes back in it."""
    r = np.random.default_rng(2)
    x = r.random((64, 1, 28, 28)).astype(np.float32)
    W, b = r.standard_normal((784, 40)), r.standard_normal(40)
    with threads.thread_limit(2):
        layer = Affine(W, b)
        out = layer.forward(x)
        dx = layer.backward(np.ones((64, 40)))
    assert calls["forward"] == 1 and calls["backward"] == 1
    np.testing.assert_allclose(out, x.reshape(64, -1).astype(np.float64) @ W + b, rtol=1e-12, atol=1e-12)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx.reshape(64, -1), np.ones((64, 40)) @ W.T, rtol=1e-12)
