"""fastprop.layers against the book's NumPy layers (fastprop.bench.book), plus the drop-in
contract: references to the caller's parameters, stable gradient arrays, dtypes, no
mutation of inputs."""
import numpy as np
import pytest

# --------------------------------------------------------------------------- the book's layers
from fastprop.bench.book.vol1 import Affine as BookAffine  # the book's layers, as printed
from fastprop.bench.book.vol1 import Relu as BookRelu
from fastprop.bench.book.vol1 import Sigmoid as BookSigmoid
from fastprop.bench.book.vol1 import SoftmaxWithLoss as BookSoftmaxWithLoss
from fastprop.bench.book.vol1 import softmax as book_softmax
from fastprop.layers import (
    AddLayer,
    Affine,
    MatMul,
    MulLayer,
    Relu,
    Repeat,
    Sigmoid,
    Softmax,
    SoftmaxWithLoss,
    Sum,
)


def assert_same(actual, expected, dtype=np.float64, rtol=1e-12):
    """Shape and dtype first, then values."""
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    assert actual.dtype == dtype
    scale = float(np.abs(expected).max()) if expected.size else 1.0
    if dtype == np.float32:
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5 * max(scale, 1e-30))
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-13 * scale)


# --------------------------------------------------------------------------- the apple/orange graph


def test_book_apple_orange_graph():
    apple, apple_num, orange, orange_num, tax = 100, 2, 150, 3, 1.1
    mul_apple_layer, mul_orange_layer = MulLayer(), MulLayer()
    add_apple_orange_layer, mul_tax_layer = AddLayer(), MulLayer()

    apple_price = mul_apple_layer.forward(apple, apple_num)
    orange_price = mul_orange_layer.forward(orange, orange_num)
    all_price = add_apple_orange_layer.forward(apple_price, orange_price)
    price = mul_tax_layer.forward(all_price, tax)

    dprice = 1
    dall_price, dtax = mul_tax_layer.backward(dprice)
    dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)
    dorange, dorange_num = mul_orange_layer.backward(dorange_price)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

    assert (apple_price, orange_price, all_price) == (200, 450, 650)
    assert price == pytest.approx(715)
    assert price == 715.0000000000001  # what the book's print(price) shows
    assert int(price) == 715  # print("price:", int(price))
    # the values the book prints
    assert int(dapple_num) == 110
    assert dapple == 2.2
    assert dorange == 3.3000000000000003
    assert int(dorange_num) == 165
    assert dtax == 650
    # and the exact floats Python gives for the same graph
    assert dapple_num == 1.1 * 100 and dorange_num == 1.1 * 150
    assert (dall_price, dapple_price, dorange_price) == (1.1, 1.1, 1.1)


def test_mul_and_add_layers_on_arrays():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([4.0, -5.0, 0.5])
    mul, add = MulLayer(), AddLayer()
    np.testing.assert_array_equal(mul.forward(x, y), x * y)
    dx, dy = mul.backward(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(dx, [4.0, -50.0, 50.0])
    np.testing.assert_array_equal(dy, [1.0, 20.0, 300.0])
    np.testing.assert_array_equal(add.forward(x, y), x + y)
    da, db = add.backward(np.array([2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(da, [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(db, [2.0, 3.0, 4.0])


# --------------------------------------------------------------------------- activations


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_matches_book(rng, dtype):
    x = rng.standard_normal((6, 7)).astype(dtype)
    x[0, :3] = 0.0
    dout = rng.standard_normal((6, 7)).astype(dtype)
    ours, book = Relu(), BookRelu()
    out = ours.forward(x)
    assert_same(out, book.forward(x), dtype)
    assert ours.mask.shape == x.shape and ours.mask.dtype == np.bool_
    np.testing.assert_array_equal(ours.mask, x <= 0)
    assert ours.mask[0, :3].all()  # exactly 0 is masked
    dx = ours.backward(dout)
    assert_same(dx, book.backward(dout), dtype)
    assert (dx[0, :3] == 0).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_matches_book(rng, dtype):
    x = (3 * rng.standard_normal((5, 4, 3))).astype(dtype)
    dout = rng.standard_normal((5, 4, 3)).astype(dtype)
    ours, book = Sigmoid(), BookSigmoid()
    out = ours.forward(x)
    assert_same(out, book.forward(x.astype(np.float64)), dtype)
    assert ours.out is out or np.array_equal(ours.out, out)
    assert_same(ours.backward(dout), book.backward(dout.astype(np.float64)), dtype)


# --------------------------------------------------------------------------- Affine / MatMul


def test_affine_matches_book_with_nd_input(rng):
    W, b = 0.01 * rng.standard_normal((784, 50)), rng.standard_normal(50)
    x = rng.random((5, 1, 28, 28))
    dout = rng.standard_normal((5, 50))
    ours, book = Affine(W, b), BookAffine(W, b)
    out = ours.forward(x)
    assert_same(out, book.forward(x))
    assert ours.original_x_shape == (5, 1, 28, 28)
    assert ours.x.shape == (5, 784)
    np.testing.assert_array_equal(ours.x, x.reshape(5, -1))
    dx = ours.backward(dout)
    assert_same(dx, book.backward(dout))  # dx back in the original (N, 1, 28, 28) shape
    assert_same(ours.dW, book.dW)
    assert_same(ours.db, book.db)


def test_affine_attributes_and_references(rng):
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    layer = Affine(W, b)
    assert layer.W is W and layer.b is b
    assert layer.params[0] is W and layer.params[1] is b and len(layer.params) == 2
    assert len(layer.grads) == 2
    x = rng.standard_normal((2, 4))
    out1 = layer.forward(x)
    W *= 2.0  # the book's in-place update: params[key] -= lr * grad[key]
    b += 1.0
    out2 = layer.forward(x)
    np.testing.assert_allclose(out2, x @ W + b, rtol=1e-13)
    assert not np.allclose(out1, out2)


def test_affine_grads_are_stable_arrays_written_in_place(rng):
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    layer = Affine(W, b)
    dW0, db0 = layer.grads
    ids = (id(dW0), id(db0))
    for _ in range(3):
        x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
        layer.forward(x)
        layer.backward(dout)
        assert (id(layer.grads[0]), id(layer.grads[1])) == ids
        assert layer.dW is layer.grads[0] and layer.db is layer.grads[1]
        np.testing.assert_allclose(layer.grads[0], x.T @ dout, rtol=1e-12)
        np.testing.assert_allclose(layer.grads[1], dout.sum(axis=0), rtol=1e-12)


def test_affine_backward_need_dx_false_still_fills_grads(rng):
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    layer = Affine(W, b)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    layer.forward(x)
    assert layer.backward(dout, need_dx=False) is None
    np.testing.assert_allclose(layer.dW, x.T @ dout, rtol=1e-12)
    np.testing.assert_allclose(layer.db, dout.sum(axis=0), rtol=1e-12)


def test_affine_float32_params_give_float32(rng):
    W = rng.standard_normal((6, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    layer = Affine(W, b)
    x = rng.standard_normal((3, 6))  # float64 input is cast to the parameters' dtype
    out = layer.forward(x)
    assert out.shape == (3, 4) and out.dtype == np.float32
    dx = layer.backward(rng.standard_normal((3, 4)).astype(np.float32))
    assert dx.shape == (3, 6) and dx.dtype == np.float32
    assert layer.dW.dtype == np.float32 and layer.db.dtype == np.float32
    book = BookAffine(W.astype(np.float64), b.astype(np.float64))
    assert_same(out, book.forward(x.astype(np.float32).astype(np.float64)), np.float32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_affine_uint8_input_is_cast_to_param_dtype(rng, dtype):
    W = (0.01 * rng.standard_normal((12, 5))).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    x = rng.integers(0, 256, (4, 3, 4), dtype=np.uint8)
    out = Affine(W, b).forward(x)
    assert out.shape == (4, 5) and out.dtype == dtype
    np.testing.assert_array_equal(out, Affine(W, b).forward(x.astype(dtype)))


def test_matmul_matches_book(rng):
    W = rng.standard_normal((5, 3))
    x, dout = rng.standard_normal((7, 5)), rng.standard_normal((7, 3))
    layer = MatMul(W)
    assert layer.params[0] is W and len(layer.params) == 1
    g0 = layer.grads[0]
    out = layer.forward(x)
    assert_same(out, np.dot(x, W))
    dx = layer.backward(dout)
    assert_same(dx, np.dot(dout, W.T))
    assert layer.grads[0] is g0
    assert_same(layer.grads[0], np.dot(x.T, dout))
    W[...] = 0.0
    assert not layer.forward(x).any()


def test_matmul_float32(rng):
    W = rng.standard_normal((5, 3)).astype(np.float32)
    layer = MatMul(W)
    out = layer.forward(rng.standard_normal((2, 5)))
    assert out.dtype == np.float32
    dx = layer.backward(np.ones((2, 3), dtype=np.float32))
    assert dx.dtype == np.float32 and layer.grads[0].dtype == np.float32


# --------------------------------------------------------------------------- Repeat / Sum


def test_repeat_matches_book(rng):
    x = rng.standard_normal((1, 8))
    layer = Repeat(7)
    out = layer.forward(x)
    assert_same(out, np.repeat(x, 7, axis=0))
    dout = rng.standard_normal((7, 8))
    assert_same(layer.backward(dout), np.sum(dout, axis=0, keepdims=True))


def test_sum_matches_book(rng):
    x = rng.standard_normal((7, 8))
    layer = Sum()
    out = layer.forward(x)
    assert_same(out, np.sum(x, axis=0, keepdims=True))
    dout = rng.standard_normal((1, 8))
    assert_same(layer.backward(dout), np.repeat(dout, 7, axis=0))


# --------------------------------------------------------------------------- Softmax layers


@pytest.mark.parametrize("shape", [(6,), (4, 6)])
def test_softmax_layer_matches_vol2(rng, shape):
    x = 5 * rng.standard_normal(shape)
    dout = rng.standard_normal(shape)
    layer = Softmax()
    out = layer.forward(x)
    expected = book_softmax(x)
    assert_same(out, expected)
    # vol. 2: dx = out * dout; dx -= out * sum(dx, axis=1, keepdims=True)
    dx = expected * dout
    dx -= expected * np.sum(dx, axis=-1, keepdims=True)
    assert_same(layer.backward(dout), dx)
    assert_same(layer.backward(3.0 * dout), 3.0 * dx)


@pytest.mark.parametrize("targets", ["labels", "onehot"])
@pytest.mark.parametrize("dout", [1, 1.0, 0.5, 3])
def test_softmax_with_loss_matches_book(rng, targets, dout):
    x = 3 * rng.standard_normal((9, 10))
    labels = rng.integers(0, 10, 9)
    t = labels if targets == "labels" else np.eye(10)[labels]
    ours, book = SoftmaxWithLoss(), BookSoftmaxWithLoss()
    loss = ours.forward(x, t)
    assert np.ndim(loss) == 0
    assert loss == pytest.approx(book.forward(x, t), rel=1e-13)
    assert ours.loss == loss
    assert_same(ours.y, book.y)
    assert ours.t is not None
    # vol. 2 scales by dout (fastprop follows it); vol. 1, as printed in fastprop.bench.book, ignores it
    assert_same(ours.backward(dout), book.backward() * dout)


def test_softmax_with_loss_labels_and_onehot_agree(rng):
    x = rng.standard_normal((5, 4))
    labels = rng.integers(0, 4, 5)
    a, b = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert a.forward(x, labels) == b.forward(x, np.eye(4)[labels])
    np.testing.assert_array_equal(a.backward(), b.backward())


def test_softmax_with_loss_default_dout_and_forward_backward(rng):
    x = rng.standard_normal((5, 4))
    t = rng.integers(0, 4, 5)
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    dx = layer.backward()
    np.testing.assert_array_equal(layer.backward(2.0), 2.0 * dx)
    loss2, dx2 = SoftmaxWithLoss().forward_backward(x, t)
    assert loss2 == loss
    np.testing.assert_array_equal(dx2, dx)


def test_softmax_with_loss_float32(rng):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    t = rng.integers(0, 4, 5)
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    assert layer.y.dtype == np.float32
    dx = layer.backward()
    assert dx.shape == (5, 4) and dx.dtype == np.float32
    book = BookSoftmaxWithLoss()
    assert loss == pytest.approx(book.forward(x.astype(np.float64), t), rel=1e-5)
    assert_same(dx, book.backward(), np.float32)


# --------------------------------------------------------------------------- inputs not mutated


def _layer_cases(rng):
    W, b = rng.standard_normal((12, 5)), rng.standard_normal(5)
    return [
        ("Relu", Relu(), (rng.standard_normal((4, 12)),), (4, 12)),
        ("Sigmoid", Sigmoid(), (rng.standard_normal((4, 12)),), (4, 12)),
        ("Affine", Affine(W, b), (rng.standard_normal((4, 3, 4)),), (4, 5)),
        ("MatMul", MatMul(W), (rng.standard_normal((4, 12)),), (4, 5)),
        ("Repeat", Repeat(4), (rng.standard_normal((1, 12)),), (4, 12)),
        ("Sum", Sum(), (rng.standard_normal((4, 12)),), (1, 12)),
        ("Softmax", Softmax(), (rng.standard_normal((4, 12)),), (4, 12)),
        ("SoftmaxWithLoss/labels", SoftmaxWithLoss(), (rng.standard_normal((4, 12)), rng.integers(0, 12, 4)), None),
        ("SoftmaxWithLoss/onehot", SoftmaxWithLoss(),
         (rng.standard_normal((4, 12)), np.eye(12)[rng.integers(0, 12, 4)]), None),
    ]


def test_no_layer_mutates_its_inputs_or_parameters(rng):
    for name, layer, args, dout_shape in _layer_cases(rng):
        params_before = [p.copy() for p in layer.params]
        args_before = [a.copy() for a in args]
        layer.forward(*args)
        for a, a0 in zip(args, args_before):
            np.testing.assert_array_equal(a, a0, err_msg=f"{name}.forward mutated its input")
        if dout_shape is None:
            layer.backward()
        else:
            dout = rng.standard_normal(dout_shape)
            dout_before = dout.copy()
            layer.backward(dout)
            np.testing.assert_array_equal(dout, dout_before, err_msg=f"{name}.backward mutated dout")
        for a, a0 in zip(args, args_before):
            np.testing.assert_array_equal(a, a0, err_msg=f"{name}.backward mutated a forward input")
        for p, p0 in zip(layer.params, params_before):
            np.testing.assert_array_equal(p, p0, err_msg=f"{name} mutated a parameter")


def test_forward_output_is_not_a_view_of_the_input(rng):
    # Relu of an all-positive array: the book returns x.copy(), so writing into the
    # output must not reach x
    x = rng.random((3, 4)) + 1.0
    x0 = x.copy()
    out = Relu().forward(x)
    out[...] = -1.0
    np.testing.assert_array_equal(x, x0)


@pytest.mark.parametrize("x_dtype", [np.uint8, np.float32, np.int64])
def test_affine_repeated_cast_inputs_each_use_their_own_values(rng, x_dtype):
    # casts may go through a buffer the layer keeps: every forward/backward must still see
    # the values of its own call, and shapes may change between calls
    W, b = rng.standard_normal((6, 3)), rng.standard_normal(3)
    layer = Affine(W, b)
    for n in (4, 4, 2, 4):
        x = (rng.integers(0, 50, (n, 6))).astype(x_dtype)
        dout = rng.standard_normal((n, 3))
        out = layer.forward(x)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, x.astype(np.float64) @ W + b, rtol=1e-13)
        dx = layer.backward(dout)
        assert dx.shape == (n, 6) and dx.dtype == np.float64
        np.testing.assert_allclose(layer.dW, x.astype(np.float64).T @ dout, rtol=1e-13)
        np.testing.assert_allclose(layer.db, dout.sum(axis=0), rtol=1e-13)


def test_affine_takes_float16_input_small_and_evaluation_sized():
    """float16 has no compiled cast (Numba lacks the type): NumPy casts it, for a batch and
    for an evaluation-sized input alike, with the same result as a float64 input."""
    import numpy as np

    from fastprop.layers import Affine
    from fastprop.layers.affine import CHUNKED_CAST_BYTES

    r = np.random.default_rng(0)
    W, b = r.standard_normal((8, 3)), r.standard_normal(3)
    for n in (5, CHUNKED_CAST_BYTES // (8 * 8) + 1):
        x = r.standard_normal((n, 8)).astype(np.float16)
        out = Affine(W, b).forward(x)
        assert out.dtype == np.float64 and out.shape == (n, 3)
        np.testing.assert_array_equal(out, Affine(W, b).forward(x.astype(np.float64)))
