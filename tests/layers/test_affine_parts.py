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


# ---------------------------------------------------------------- the packed path (1 thread)


def _mnist_like(r, n, d=784):
    """Pixels in [0, 1) with the image borders zero in every sample (a third of the columns)."""
    x = r.random((n, d)).astype(np.float32)
    img = x.reshape(n, 28, 28)
    img[:, :4], img[:, 24:], img[:, :, :5], img[:, :, 23:] = 0, 0, 0, 0
    return x


@pytest.fixture
def packed(monkeypatch):
    """Count the packed forwards (the real kernels still run)."""
    seen = []
    real = K.column_runs

    def run(*args):
        res = real(*args)
        seen.append(res)
        return res
    monkeypatch.setattr(K, "column_runs", run)
    return seen


def _full(W, b, x, dout):
    x64 = x.reshape(x.shape[0], -1).astype(np.float64)
    return x64 @ W + b, dout @ W.T, x64.T @ dout, dout.sum(0)


@pytest.mark.parametrize("shape", [(100, 784), (100, 1, 28, 28)])
def test_zero_columns_are_skipped_with_the_same_results(packed, shape):
    r = np.random.default_rng(3)
    W, b = 0.1 * r.standard_normal((784, 50)), r.standard_normal(50)
    layer = Affine(W, b)
    for i in range(4):  # a new batch each time, then the same one again (gradient, loss)
        x = _mnist_like(r, 100)
        if i == 0:  # the top rows in use: the next batches must zero the rows of dW it wrote
            x[0, :84] = 0.5
        x = x.reshape(shape)
        dout = r.standard_normal((100, 50))
        with threads.thread_limit(1):
            out = layer.forward(x)
            out2 = layer.forward(x)
            dx = layer.backward(dout)
        ref_out, ref_dx, ref_dW, ref_db = _full(W, b, x, dout)
        np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(out2, out)
        assert dx.shape == shape
        np.testing.assert_allclose(dx.reshape(100, -1), ref_dx, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.dW, ref_dW, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.db, ref_db, rtol=1e-12)
        zero = ~(x.reshape(100, -1) != 0).any(0)
        assert zero.sum() > 150 and not layer.dW[zero].any()  # the skipped rows of dW are zeros
    assert len(packed) == 8 and all(kk < 784 * 0.85 for kk, _ in packed)
    assert layer.x is not None and layer.x.shape == (100, 784)  # the book keeps the 2-D input


def test_a_non_finite_weight_in_a_skipped_row_gives_the_books_nan():
    """0 * inf is NaN in the full product: a skipped row holding inf must not be skipped."""
    r = np.random.default_rng(4)
    x = _mnist_like(r, 100)
    W, b = 0.1 * r.standard_normal((784, 50)), np.zeros(50)
    W[0, 3] = np.inf  # pixel 0 is a border pixel: zero in every image
    with threads.thread_limit(1), np.errstate(invalid="ignore"):
        out = Affine(W, b).forward(x)
        ref = x.astype(np.float64) @ W
    assert np.isnan(ref[:, 3]).all()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    np.testing.assert_allclose(out[:, :3], ref[:, :3], rtol=1e-12, atol=1e-12)


def test_nan_inputs_and_an_all_zero_batch():
    r = np.random.default_rng(5)
    W, b = 0.1 * r.standard_normal((784, 50)), r.standard_normal(50)
    x = _mnist_like(r, 100)
    x[7, 0] = np.nan  # in a column that is otherwise all zero
    with threads.thread_limit(1), np.errstate(invalid="ignore"):
        layer = Affine(W, b)
        out = layer.forward(x)
        assert np.isnan(out[7]).all() and not np.isnan(np.delete(out, 7, axis=0)).any()
        zero = np.zeros((100, 784), np.float32)
        np.testing.assert_allclose(layer.forward(zero), np.broadcast_to(b, (100, 50)), rtol=1e-15)
        layer.backward(np.ones((100, 50)))
        np.testing.assert_array_equal(layer.dW, 0)


def test_backward_after_the_saved_input_was_replaced_uses_the_new_one():
    """The book's backward reads self.x: replacing it after forward changes dW there, and here."""
    r = np.random.default_rng(6)
    W, b = 0.1 * r.standard_normal((784, 50)), np.zeros(50)
    x, other = _mnist_like(r, 100), _mnist_like(r, 100)
    dout = r.standard_normal((100, 50))
    with threads.thread_limit(1):
        layer = Affine(W, b)
        layer.forward(x)
        layer.x = other
        layer.backward(dout)
    np.testing.assert_allclose(layer.dW, other.astype(np.float64).T @ dout, rtol=1e-12, atol=1e-12)


def test_inputs_without_zero_columns_back_off(packed):
    r = np.random.default_rng(7)
    W, b = r.standard_normal((784, 50)), r.standard_normal(50)
    layer = Affine(W, b)
    with threads.thread_limit(1):
        for _ in range(10):
            layer.forward(r.random((100, 784)))
    assert len(packed) == 1  # looked once, then left alone for a while


@pytest.mark.parametrize("n_threads", [1, 2])
def test_an_evaluation_sized_set_is_packed_chunk_by_chunk(n_threads):
    """The book's accuracy(x_train) path: a float32 set past the chunked-cast threshold,
    zero borders in some chunks, none in others (the fall back), a chunk of all zeros."""
    from fastprop.layers import affine as LA

    r = np.random.default_rng(8)
    n = LA.CHUNKED_CAST_BYTES // (784 * 8) + 301
    x = _mnist_like(r, n)
    x[1000:1400] = r.random((400, 784))  # chunks without zero columns
    x[2000:2100] = 0
    W, b = 0.1 * r.standard_normal((784, 30)), r.standard_normal(30)
    with threads.thread_limit(n_threads):
        out = Affine(W, b).forward(x)
    ref = x.astype(np.float64) @ W + b
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    W[0, 5] = np.inf  # a border row: no chunk may skip it now
    with threads.thread_limit(n_threads), np.errstate(invalid="ignore"):
        out = Affine(W, b).forward(x)
        ref = x.astype(np.float64) @ W + b
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(out[ok], ref[ok], rtol=1e-12, atol=1e-12)
