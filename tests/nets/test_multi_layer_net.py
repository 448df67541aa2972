"""MultiLayerNet / MultiLayerNetExtend against the book's classes in NumPy (fastprop.bench.book):
structure, seeded init, loss and gradients to ~1e-12, training with Dropout and BatchNorm
step for step, the ch06 scripts' behaviours, float32, bad input."""
from collections import OrderedDict

import numpy as np
import pytest

from fastprop import layers, optimizers
from fastprop.bench.book.vol1 import SGD as BookSGD
from fastprop.bench.book.vol1_nets import MultiLayerNetExtend as BookMultiLayerNetExtend
from fastprop.nets import MultiLayerNet, MultiLayerNetExtend


def _data(rng, n=32, d=20, c=5):
    centers = 2 * rng.standard_normal((c, d))
    t = rng.integers(0, c, n)
    return centers[t] + rng.standard_normal((n, d)), t


def _pair(seed, *args, **kw):
    """The book's net and fastprop's, built from the same global-RNG state."""
    np.random.seed(seed)
    book = BookMultiLayerNetExtend(*args, **kw)
    np.random.seed(seed)
    ours = MultiLayerNetExtend(*args, **kw)
    return book, ours


def _close(a, b, what=""):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(b).max())),
                               err_msg=what)


# --------------------------------------------------------------------------- structure and init


def test_the_books_names_and_order_of_params_and_layers():
    net = MultiLayerNetExtend(784, [100, 50], 10, use_dropout=True, dropout_ration=0.2,
                              use_batchnorm=True)
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3", "gamma1", "beta1", "gamma2", "beta2"]
    assert list(net.layers) == ["Affine1", "BatchNorm1", "Activation_function1", "Dropout1",
                                "Affine2", "BatchNorm2", "Activation_function2", "Dropout2", "Affine3"]
    assert isinstance(net.layers, OrderedDict) and isinstance(net.last_layer, layers.SoftmaxWithLoss)
    assert net.layers["Affine2"].W is net.params["W2"] and net.layers["BatchNorm1"].gamma is net.params["gamma1"]
    assert net.layers["Dropout1"].dropout_ratio == 0.2
    assert (net.hidden_layer_num, net.hidden_size_list) == (2, [100, 50])
    assert net.params["gamma2"].tolist() == [1.0] * 50 and not net.params["beta2"].any()
    plain = MultiLayerNet(784, [100], 10, activation="sigmoid")
    assert list(plain.layers) == ["Affine1", "Activation_function1", "Affine2"]
    assert isinstance(plain.layers["Activation_function1"], layers.Sigmoid)


@pytest.mark.parametrize("std", ["relu", "He", "sigmoid", "XAVIER", 0.01, 1])
def test_seeded_init_draws_the_books_weights(std):
    book, ours = _pair(42, 30, [20, 10, 10], 5, weight_init_std=std)
    assert list(ours.params) == list(book.params)
    for k in book.params:
        np.testing.assert_array_equal(ours.params[k], book.params[k], err_msg=k)
        assert ours.params[k].dtype == np.float64
    after_ours = np.random.get_state()
    np.random.seed(42)
    BookMultiLayerNetExtend(30, [20, 10, 10], 5, weight_init_std=std)
    assert np.array_equal(np.random.get_state()[1], after_ours[1])  # same draws consumed


def test_he_and_xavier_scales():
    np.random.seed(0)
    net = MultiLayerNet(10000, [400], 3, weight_init_std="he")
    assert abs(net.params["W1"].std() / np.sqrt(2.0 / 10000) - 1) < 0.01
    np.random.seed(0)
    net = MultiLayerNet(10000, [400], 3, weight_init_std="xavier")
    assert abs(net.params["W1"].std() / np.sqrt(1.0 / 10000) - 1) < 0.01


# --------------------------------------------------------------------------- the book's numbers


@pytest.mark.parametrize("kw", [
    dict(),
    dict(activation="sigmoid", weight_init_std="sigmoid", weight_decay_lambda=0.1),
    dict(use_batchnorm=True, weight_decay_lambda=0.01),
    dict(use_dropout=True, dropout_ration=0.2),
    dict(use_batchnorm=True, use_dropout=True, dropout_ration=0.2, weight_decay_lambda=0.05),
], ids=["plain", "sigmoid-decay", "batchnorm-decay", "dropout", "batchnorm-dropout-decay"])
def test_training_follows_the_book_step_for_step(kw, rng):
    """Loss, gradients, parameters and running statistics after each SGD step of a seeded
    run equal the book's to ~1e-12 (the Dropout masks are the same global-RNG draws)."""
    x, t = _data(rng)
    book, ours = _pair(3, 20, [16, 12, 8], 5, **kw)
    sgd_b, sgd_o = BookSGD(0.1), optimizers.SGD(0.1)
    for step in range(5):
        np.random.seed(100 + step)  # the same Dropout masks for both
        gb = book.gradient(x, t)
        np.random.seed(100 + step)
        go = ours.gradient(x, t)
        assert list(go) == list(gb)
        for k in gb:
            _close(go[k], gb[k], f"step {step} grad {k}")
        sgd_b.update(book.params, gb)
        sgd_o.update(ours.params, go)
        for k in book.params:
            _close(ours.params[k], book.params[k], f"step {step} param {k}")
        _close(ours.loss(x, t), book.loss(x, t), "loss (inference)")
        np.random.seed(200 + step)
        lb = book.loss(x, t, train_flg=True)
        np.random.seed(200 + step)
        _close(ours.loss(x, t, train_flg=True), lb, "loss (training)")
    for name, layer in book.layers.items():
        if "BatchNorm" in name:
            _close(ours.layers[name].running_mean, layer.running_mean, name)
            _close(ours.layers[name].running_var, layer.running_var, name)
    _close(ours.predict(x), book.predict(x), "predict")
    assert ours.accuracy(x, t) == book.accuracy(x, t)
    assert ours.accuracy(x, np.eye(5)[t]) == book.accuracy(x, np.eye(5)[t])


def test_dropout_nets_consume_the_global_rng_like_the_book(rng):
    x, t = _data(rng)
    book, ours = _pair(9, 20, [16, 16], 5, use_dropout=True)
    np.random.seed(11)
    book.gradient(x, t)
    after_book = np.random.get_state()
    np.random.seed(11)
    ours.gradient(x, t)
    after_ours = np.random.get_state()
    assert after_book[2] == after_ours[2] and np.array_equal(after_book[1], after_ours[1])


def test_weight_decay_term_and_gradient_are_the_books(rng):
    x, t = _data(rng)
    np.random.seed(1)
    net = MultiLayerNet(20, [10], 5, weight_decay_lambda=0.1)
    ce = net.last_layer.forward(net.predict(x), t)
    l2 = sum(0.5 * 0.1 * np.sum(net.params[k] ** 2) for k in ("W1", "W2"))
    assert net.loss(x, t) == pytest.approx(ce + l2, rel=1e-14)
    g = {k: v.copy() for k, v in net.gradient(x, t).items()}
    np.random.seed(1)
    free = MultiLayerNet(20, [10], 5)
    g0 = free.gradient(x, t)
    _close(g["W1"], g0["W1"] + 0.1 * net.params["W1"])
    np.testing.assert_array_equal(g["b1"], g0["b1"])
    assert net.layers["Affine1"].dW is not g["W1"]  # the layer's dW stays the plain gradient


def test_weight_decay_keeps_weights_smaller_as_in_ch06(rng):
    """ch06/weight_decay.py: the same run with lambda = 0.1 ends with smaller weights."""
    x, t = _data(rng, n=60)
    norms = {}
    for lam in (0.0, 0.1):
        np.random.seed(0)
        net = MultiLayerNet(20, [30, 30], 5, weight_decay_lambda=lam)
        opt = optimizers.SGD(0.05)
        for _ in range(100):
            opt.update(net.params, net.gradient(x, t))
        norms[lam] = sum(float(np.sum(net.params[f"W{i}"] ** 2)) for i in (1, 2, 3))
    assert norms[0.1] < 0.7 * norms[0.0]


@pytest.mark.parametrize("rows", [2, 3, 5])
def test_batch_norm_gradient_check_as_in_ch06(rows, rng):
    """ch06/batch_norm_gradient_check.py on a small net: backprop equals central differences.

    The book's script runs one row; there every BatchNorm output is exactly beta = 0, the
    ReLU kink, where a central difference sees slope 1/2 and backprop 0. The remaining
    difference (~1e-7) is the book's ``+1e-7`` inside the log, which the loss has and its
    backprop gradient does not."""
    x, t = _data(rng, n=rows, d=12, c=4)
    np.random.seed(2)
    net = MultiLayerNetExtend(12, [8, 6], 4, use_batchnorm=True)
    backprop = {k: v.copy() for k, v in net.gradient(x, np.eye(4)[t]).items()}
    numerical = net.numerical_gradient(x, np.eye(4)[t])
    assert list(numerical) == list(backprop) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2",
                                                 "beta2", "W3", "b3"]
    for k in numerical:
        diff = float(np.mean(np.abs(backprop[k] - numerical[k])))
        assert diff < 2e-6 * max(1.0, float(np.abs(backprop[k]).max())), f"{k}: {diff}"


def test_params_assignment_rebinds_the_layers(rng):
    x, t = _data(rng)
    net = MultiLayerNetExtend(20, [8], 5, use_batchnorm=True)
    W = np.zeros_like(net.params["W1"])
    net.params["W1"] = W
    gamma = np.full(8, 2.0)
    net.params["gamma1"] = gamma
    assert net.layers["Affine1"].W is W and net.layers["BatchNorm1"].gamma is gamma
    net.params = {k: v.copy() for k, v in net.params.items()}
    assert net.layers["Affine2"].W is net.params["W2"]
    net.gradient(x, t)


def test_float32_end_to_end(rng):
    x, t = _data(rng)
    np.random.seed(4)
    n64 = MultiLayerNetExtend(20, [16, 16], 5, use_batchnorm=True, weight_decay_lambda=0.01)
    np.random.seed(4)
    n32 = MultiLayerNetExtend(20, [16, 16], 5, use_batchnorm=True, weight_decay_lambda=0.01,
                              dtype=np.float32)
    assert all(p.dtype == np.float32 for p in n32.params.values())
    g32, g64 = n32.gradient(x, t), n64.gradient(x, t)
    assert all(g.dtype == np.float32 for g in g32.values())
    assert n32.predict(x).dtype == np.float32
    assert n32.layers["BatchNorm1"].running_mean.dtype == np.float32
    assert n32.layers["BatchNorm1"].xn.dtype == np.float32
    for k in g64:
        scale = max(1.0, float(np.abs(g64[k]).max()))
        np.testing.assert_allclose(g32[k], g64[k], rtol=0, atol=1e-4 * scale, err_msg=k)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kw, exc, match", [
    (dict(dropout_ration=1.0, use_dropout=True), ValueError, "dropout_ration"),
    (dict(dropout_ration=-0.1), ValueError, "dropout_ration"),
    (dict(dropout_ration=True), TypeError, "dropout_ration"),
    (dict(weight_init_std="gauss"), ValueError, "weight_init_std"),
    (dict(weight_init_std=True), TypeError, "weight_init_std"),
    (dict(weight_init_std=float("nan")), ValueError, "weight_init_std"),
    (dict(weight_decay_lambda=-1), ValueError, "weight_decay_lambda"),
    (dict(activation="tanh"), ValueError, "activation"),
    (dict(use_dropout=1), TypeError, "use_dropout"),
    (dict(use_batchnorm="yes"), TypeError, "use_batchnorm"),
    (dict(dtype=np.int32), TypeError, "dtype"),
])
def test_bad_arguments_are_clear_errors(kw, exc, match):
    with pytest.raises(exc, match=match):
        MultiLayerNetExtend(20, [8], 5, **kw)


@pytest.mark.parametrize("sizes, exc", [
    ((20, "100", 5), TypeError), ((20, [8, 0], 5), ValueError), ((20, [8.0], 5), TypeError),
    ((20, [True], 5), TypeError), ((0, [8], 5), ValueError),
])
def test_bad_sizes_are_clear_errors(sizes, exc):
    with pytest.raises(exc):
        MultiLayerNet(*sizes)


def test_a_bad_argument_draws_nothing_from_the_rng():
    np.random.seed(5)
    with pytest.raises(ValueError):
        MultiLayerNet(20, [8, 8], 5, weight_init_std="bad")
    after = np.random.get_state()
    np.random.seed(5)
    assert np.array_equal(np.random.get_state()[1], after[1]) and np.random.get_state()[2] == after[2]


def test_train_flg_must_be_a_bool(rng):
    x, _ = _data(rng)
    net = MultiLayerNetExtend(20, [8], 5, use_dropout=True)
    with pytest.raises(TypeError, match="train_flg"):
        net.predict(x, train_flg=1)


# --------------------------------------------------------------------------- the fused step


@pytest.mark.parametrize("kw", [
    dict(), dict(use_batchnorm=True, use_dropout=True, dropout_ration=0.2, weight_decay_lambda=0.05),
    dict(activation="sigmoid", use_batchnorm=True, use_dropout=True),
], ids=["plain", "batchnorm-dropout-decay", "sigmoid-batchnorm-dropout"])
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
def test_fused_step_is_the_books_gradient_and_update(kw, opt, rng):
    x, t = _data(rng)
    book, ours = _pair(3, 20, [16, 12, 8], 5, **kw)
    ob = BookSGD(0.1) if opt == "sgd" else optimizers.by_name(opt, lr=0.1)
    oo = optimizers.by_name(opt, lr=0.1)
    for step in range(4):
        np.random.seed(50 + step)
        ob.update(book.params, book.gradient(x, t))
        after_book = np.random.get_state()
        np.random.seed(50 + step)
        loss = ours.fused_step(x, t, oo)
        after_ours = np.random.get_state()
        assert np.array_equal(after_book[1], after_ours[1]) and after_book[2] == after_ours[2]
        assert isinstance(loss, float) and np.isfinite(loss)
    tol = 1e-10 if opt == "adam" else 1e-12  # Adam divides by sqrt(v): tiny gradients amplify rounding
    for k in book.params:
        np.testing.assert_allclose(ours.params[k], book.params[k], rtol=tol,
                                   atol=tol * max(1.0, float(np.abs(book.params[k]).max())), err_msg=k)
    for name, layer in book.layers.items():
        if "BatchNorm" in name:
            _close(ours.layers[name].running_mean, layer.running_mean, name)
    _close(ours.predict(x), book.predict(x), "predict after training")


def test_fused_step_returns_the_training_forwards_cross_entropy(rng):
    x, t = _data(rng)
    np.random.seed(0)
    a = MultiLayerNetExtend(20, [10, 10], 5, use_batchnorm=True, use_dropout=True)
    np.random.seed(0)
    b = MultiLayerNetExtend(20, [10, 10], 5, use_batchnorm=True, use_dropout=True)
    np.random.seed(7)
    expected = b.last_layer.forward(b.predict(x, train_flg=True), t)
    np.random.seed(7)
    assert a.fused_step(x, t, optimizers.SGD(0.1)) == pytest.approx(expected, rel=1e-12)


def test_fused_step_falls_back_to_the_layer_path_with_the_same_numbers(rng):
    x, t = _data(rng)
    for kw, targets in ((dict(use_batchnorm=True), np.eye(5)[t]), (dict(), t)):
        hidden = [8] if "use_batchnorm" in kw else []
        np.random.seed(1)
        a = MultiLayerNetExtend(20, hidden, 5, **kw)
        np.random.seed(1)
        b = MultiLayerNetExtend(20, hidden, 5, **kw)
        assert not a._fused.supports(targets)
        a.fused_step(x, targets, optimizers.SGD(0.1))
        optimizers.SGD(0.1).update(b.params, b.gradient(x, targets))
        for k in a.params:
            np.testing.assert_array_equal(a.params[k], b.params[k])


def test_fused_step_float32_end_to_end(rng):
    x, t = _data(rng)
    np.random.seed(2)
    net = MultiLayerNetExtend(20, [16, 16], 5, use_batchnorm=True, use_dropout=True, dtype=np.float32)
    opt = optimizers.SGD(0.1)
    losses = [net.fused_step(x, t, opt) for _ in range(30)]
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert net.layers["BatchNorm1"].running_var.dtype == np.float32
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("change, exc, match", [
    (lambda n: n.params.__setitem__("W2", np.zeros((15, 16))), ValueError, "W2"),
    (lambda n: n.params.__setitem__("b1", np.zeros(16, np.float32)), ValueError, "b1"),
    (lambda n: n.params.__setitem__("gamma1", np.ones(15)), ValueError, "gamma1"),
    (lambda n: n.params.__setitem__("beta2", [0.0] * 16), TypeError, "beta"),  # layer path
    (lambda n: setattr(n.layers["BatchNorm1"], "running_var", np.ones(3)), ValueError, "running_var"),
    (lambda n: setattr(n.layers["Dropout2"], "dropout_ratio", 1.5), ValueError, "dropout_ratio"),
    (lambda n: setattr(n.layers["BatchNorm2"], "momentum", "x"), TypeError, "momentum"),
    (lambda n: n.params["W1"].setflags(write=False), ValueError, "read-only"),
])
def test_fused_step_checks_the_state_as_it_is_now(change, exc, match, rng):
    x, t = _data(rng)
    net = MultiLayerNetExtend(20, [16, 16], 5, use_batchnorm=True, use_dropout=True)
    net.fused_step(x, t, optimizers.SGD(0.1))
    change(net)
    with pytest.raises(exc, match=match):
        net.fused_step(x, t, optimizers.SGD(0.1))


def test_fused_step_bad_batch(rng):
    x, t = _data(rng)
    net = MultiLayerNetExtend(20, [8], 5, use_dropout=True)
    with pytest.raises(ValueError, match="features"):
        net.fused_step(x[:, :10], t, optimizers.SGD())
    with pytest.raises(ValueError, match="label"):
        net.fused_step(x, t + 10, optimizers.SGD())
    with pytest.raises(TypeError, match="update"):
        net.fused_step(x, t, "sgd")


# --------------------------------------------------------------------------- flags changed after construction


@pytest.mark.parametrize("built, flipped", [(True, False), (False, True)])
def test_use_dropout_changed_after_construction_follows_the_layers_as_the_book(built, flipped, rng):
    """The book reads use_dropout only when building the net: its predict runs the layers that
    exist. The fused step used to read the flag (KeyError 'Dropout1' when set to True on a net
    without Dropout layers; dropout silently skipped when set to False)."""
    x, t = _data(rng)
    np.random.seed(4)
    a = MultiLayerNetExtend(20, [16, 12], 5, use_dropout=built, dropout_ration=0.3)
    np.random.seed(4)
    b = MultiLayerNetExtend(20, [16, 12], 5, use_dropout=built, dropout_ration=0.3)
    a.use_dropout = b.use_dropout = flipped
    for step in range(2):
        np.random.seed(10 + step)
        a.fused_step(x, t, optimizers.SGD(0.1))
        np.random.seed(10 + step)
        optimizers.SGD(0.1).update(b.params, b.gradient(x, t))
    for k in b.params:
        np.testing.assert_allclose(a.params[k], b.params[k], rtol=1e-12, atol=1e-14, err_msg=k)


@pytest.mark.parametrize("built", [True, False])
def test_use_batchnorm_changed_after_construction_is_a_clear_error(built, rng):
    x, t = _data(rng)
    net = MultiLayerNetExtend(20, [16, 12], 5, use_batchnorm=built)
    net.use_batchnorm = not built
    word = "without" if built is False else "with"
    for call in (lambda: net.fused_step(x, t, optimizers.SGD(0.1)), lambda: net.gradient(x, t),
                 lambda: net.fused_step(x, np.eye(5)[t], optimizers.SGD(0.1))):
        with pytest.raises(ValueError, match=f"use_batchnorm is {not built} but the net was built {word} "
                                             "BatchNorm layers"):
            call()
    net.use_batchnorm = built  # set back: works again
    net.fused_step(x, t, optimizers.SGD(0.1))
    net.use_batchnorm = "yes"
    with pytest.raises(TypeError, match="use_batchnorm"):
        net.fused_step(x, t, optimizers.SGD(0.1))


# --------------------------------------------------------------------------- accuracy's compiled pass


def _trained(kw, rng, d=80, dtype=np.float64):
    """A net trained 3 steps on data with zero columns (the packed first layer), so
    BatchNorm has running averages; returns (net, book twin, x, t)."""
    x, t = _data(rng, n=250, d=d)
    x[:, :d // 3] = 0
    book, ours = _pair(4, d, [16, 12], 5, **kw)
    if dtype != np.float64:
        np.random.seed(4)
        ours = MultiLayerNetExtend(d, [16, 12], 5, dtype=dtype, **kw)
    for step in range(3):
        np.random.seed(10 + step)
        BookSGD(0.1).update(book.params, book.gradient(x[:50], t[:50]))
        np.random.seed(10 + step)
        optimizers.SGD(0.1).update(ours.params, ours.gradient(x[:50], t[:50]))
    return ours, book, x, t


@pytest.mark.parametrize("kw", [
    dict(), dict(activation="sigmoid", use_batchnorm=True, use_dropout=True, dropout_ration=0.3),
    dict(use_batchnorm=True, weight_decay_lambda=0.1), dict(use_dropout=True),
], ids=["plain", "sigmoid-batchnorm-dropout", "batchnorm-decay", "dropout"])
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("xdtype", [np.float32, np.float64, np.uint8])
def test_accuracy_pass_gives_predicts_scores_and_the_books_accuracy(kw, n_threads, xdtype, rng):
    from fastprop import threads
    ours, book, x, t = _trained(kw, rng)
    x = (np.abs(x) * 3).astype(xdtype) if xdtype == np.uint8 else x.astype(xdtype)
    with threads.thread_limit(n_threads):
        scores = ours._fused.scores(x)
        assert scores is not None
        _close(scores, ours.predict(x, train_flg=False), "scores")
        _close(scores, book.predict(x.astype(np.float64), train_flg=False), "the book's scores")
        assert ours.accuracy(x, t) == book.accuracy(x.astype(np.float64), t)
        assert ours.accuracy(x, np.eye(5)[t]) == book.accuracy(x.astype(np.float64), np.eye(5)[t])
        # fewer rows than a chunk, and one row
        _close(ours._fused.scores(x[:7]), ours.predict(x[:7], train_flg=False), "7 rows")
        _close(ours._fused.scores(x[:1]), ours.predict(x[:1], train_flg=False), "1 row")


def test_accuracy_pass_float32_net(rng):
    ours, _, x, t = _trained(dict(use_batchnorm=True), rng, dtype=np.float32)
    scores = ours._fused.scores(x.astype(np.float32))
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, ours.predict(x.astype(np.float32), train_flg=False), rtol=1e-5, atol=1e-5)


def test_accuracy_pass_leaves_the_layers_as_the_last_gradient_left_them(rng):
    ours, _, x, t = _trained(dict(use_batchnorm=True, use_dropout=True), rng)
    saved = {name: (getattr(layer, "x", None), getattr(layer, "mask", None), getattr(layer, "xn", None))
             for name, layer in ours.layers.items()}
    ours.accuracy(x, t)
    for name, layer in ours.layers.items():
        for a, b in zip(saved[name], (getattr(layer, "x", None), getattr(layer, "mask", None),
                                      getattr(layer, "xn", None))):
            assert a is b, name
    before = {k: v.copy() for k, v in ours.params.items()}
    ours.gradient(x[:50], t[:50])  # backward still belongs to this forward
    for k in before:
        np.testing.assert_array_equal(ours.params[k], before[k])


class _Doubling(layers.Relu):
    def forward(self, x):
        return 2 * super().forward(x)


@pytest.mark.parametrize("change", ["custom-layer", "fortran-input", "fortran-weight", "untrained-batchnorm",
                                    "added-layer", "float16-input", "longdouble-input", "bool-input"])
def test_accuracy_takes_the_layer_path_for_what_the_pass_does_not_take(change, rng):
    kw = dict(use_batchnorm=True) if change == "untrained-batchnorm" else dict()
    np.random.seed(0)
    net = MultiLayerNetExtend(20, [8, 8], 5, **kw)
    x, t = _data(rng, n=30)
    if change == "custom-layer":
        net.layers["Activation_function1"] = _Doubling()
    elif change == "fortran-input":
        x = np.asfortranarray(x)
    elif change == "fortran-weight":
        net.params["W2"] = np.asfortranarray(net.params["W2"])
    elif change == "added-layer":
        net.layers["Extra"] = layers.Relu()
        net.layers.move_to_end("Affine3")
    elif change == "float16-input":
        x = x.astype(np.float16)
    elif change == "longdouble-input":  # no Numba type: the kernel must never see it
        x = x.astype(np.longdouble)
    elif change == "bool-input":
        x = x > 0
    assert net._fused.scores(x) is None
    y = np.argmax(net.predict(x, train_flg=False), axis=1)
    assert net.accuracy(x, t) == np.sum(y == t) / len(t)


def test_accuracy_bad_input_is_the_layer_paths_clear_error(rng):
    net = MultiLayerNet(20, [8], 5)
    x, t = _data(rng, n=30, d=21)
    with pytest.raises(ValueError, match="features"):
        net.accuracy(x, t)
    with pytest.raises((TypeError, ValueError)):
        net.accuracy(np.zeros((0, 20)), np.zeros(0, int))
