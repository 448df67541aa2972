"""The fused two-layer training step: equal to the drop-in path, allocation-free, validated."""
import tracemalloc

import numpy as np
import pytest

from fastprop import TwoLayerNet, threads
from fastprop import optimizers as O
from fastprop.nets import fused as fused_path

OPTS = [(O.SGD, dict(lr=0.1)), (O.Momentum, dict(lr=0.05)), (O.Nesterov, dict(lr=0.05)),
        (O.AdaGrad, dict(lr=0.05)), (O.RMSprop, dict(lr=0.01)), (O.Adam, dict(lr=0.01))]


def _data(n=300, d=20, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)).astype(np.float32)
    t = (x[:, :classes].argmax(axis=1)).astype(np.uint8)  # learnable labels
    return x, t


def _fused_and_book_loop(x, t, sizes, std, activation, cls, kw, n_rows, batch):
    """Two nets from one seed: ``fused`` through ``train_steps`` over the first ``n_rows`` of a
    permutation, ``plain`` through the book loop (loss of the forward, then gradient +
    optimizer.update) on the same batches. Checks the losses and the parameters agree;
    returns both nets, both optimizers, the row order and the book loop's losses."""
    np.random.seed(5)
    fused = TwoLayerNet(*sizes, weight_init_std=std, activation=activation)
    np.random.seed(5)
    plain = TwoLayerNet(*sizes, weight_init_std=std, activation=activation)
    o1, o2 = cls(**kw), cls(**kw)
    idx = np.random.permutation(len(x))[:n_rows]
    losses = fused.train_steps(x, t, idx, batch, o1)
    assert losses.shape == (n_rows // batch,) and losses.dtype == np.float64
    expected = []
    for k in range(n_rows // batch):
        b = idx[k * batch:(k + 1) * batch]
        expected.append(plain.loss(x[b], t[b]))
        o2.update(plain.params, plain.gradient(x[b], t[b]))
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    for key in plain.params:
        np.testing.assert_allclose(fused.params[key], plain.params[key], rtol=1e-10, atol=1e-13)
    return fused, plain, o1, o2, idx, expected


@pytest.mark.parametrize("cls,kw", OPTS)
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("onehot", [False, True])
def test_spiral_sized_net_takes_the_lanes_kernel_and_equals_dropin(cls, kw, activation, onehot):
    """vol. 2's 2-10-3 net: the fused path runs the lanes kernel (exact one-hot
    targets through its labels path) and gives the book loop's numbers."""
    assert fused_path.uses_lanes_kernel(2, 10, 3) and not fused_path.uses_lanes_kernel(784, 50, 10)
    x, lab = _data(d=2, classes=3)
    t = np.eye(3, dtype=np.int64)[lab] if onehot else lab
    *_, idx, expected = _fused_and_book_loop(x, t, (2, 10, 3), 0.5, activation, cls, kw, 240, 30)
    # one step at a time goes the same way
    np.random.seed(5)
    single = TwoLayerNet(2, 10, 3, weight_init_std=0.5, activation=activation)
    o3 = cls(**kw)
    got = [single.fused_step(x[idx[k * 30:(k + 1) * 30]], t[idx[k * 30:(k + 1) * 30]], o3)
           for k in range(8)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_soft_targets_keep_the_targets_path():
    """Only exact one-hot rows are read as labels; soft targets keep their gradient."""
    x, lab = _data(d=2, classes=3)
    soft = np.full((300, 3), 0.1)
    soft[np.arange(300), lab] = 0.8
    np.random.seed(1)
    a = TwoLayerNet(2, 10, 3)
    np.random.seed(1)
    b = TwoLayerNet(2, 10, 3)
    idx = np.arange(60)
    la = a.train_steps(x, soft, idx, 30, O.SGD(lr=0.5))
    lb = b.train_steps(x, lab, idx, 30, O.SGD(lr=0.5))
    assert la[0] == pytest.approx(lb[0], rel=1e-12)  # the loss reads argmax either way
    assert not np.allclose(a.params["W1"], b.params["W1"])  # the gradient does not
    assert la[1] != pytest.approx(lb[1], rel=1e-6)


@pytest.mark.parametrize("cls,kw", OPTS)
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_train_steps_equal_dropin_loop(cls, kw, activation):
    """The fused path gives the book loop's numbers: loss of the forward before each
    update, then gradient + optimizer.update."""
    x, t = _data()
    fused, plain, o1, o2, *_ = _fused_and_book_loop(x, t, (20, 8, 4), 0.1, activation, cls, kw, 250, 25)
    for key in plain.params:
        if cls is O.SGD and key in ("W1", "W2"):
            continue  # SGD folds these into its GEMMs: documented as not written
        np.testing.assert_allclose(fused.grads[key], plain.grads[key], rtol=1e-10, atol=1e-13)
    assert getattr(o1, "iter", None) == getattr(o2, "iter", None)


def test_fused_step_casts_and_onehot():
    x, t = _data()
    np.random.seed(0)
    a = TwoLayerNet(20, 8, 4)
    np.random.seed(0)
    b = TwoLayerNet(20, 8, 4)
    la = a.fused_step(x[:30], np.eye(4)[t[:30]], O.SGD(lr=0.1))      # float32 x, one-hot t
    lb = b.fused_step(x[:30].astype(np.float64), t[:30], O.SGD(lr=0.1))
    assert isinstance(la, float)
    assert la == pytest.approx(lb, rel=1e-13)
    for key in a.params:
        np.testing.assert_allclose(a.params[key], b.params[key], rtol=1e-12)


def test_float32_net_stays_float32():
    x, t = _data()
    net = TwoLayerNet(20, 8, 4, dtype=np.float32)
    opt = O.Adam()
    net.train_steps(x, t, np.arange(100), 25, opt)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert all(g.dtype == np.float32 for g in net.grads.values())
    assert all(s.dtype == np.float32 for s in opt.m.values())


def test_warm_step_allocates_nothing():
    x, t = _data(d=20, classes=10)
    xb, tb = np.ascontiguousarray(x[:100], dtype=np.float64), t[:100]
    net = TwoLayerNet(20, 50, 10)
    for opt in (O.SGD(lr=0.1), O.Adam()):
        # A fixed thread count: under 'auto' a step re-decides every INTERVAL by reading
        # /proc/stat (a ~10 KB read), which lands inside the traced steps whenever the machine
        # is slow (a loaded CI, another pytest worker): the governor's cost, not the step's.
        with threads.thread_limit(1):
            # warm-up: compile, buffers, optimizer state, and CPython's free lists of small
            # tuples (up to 2000 a size; the kernel's arguments travel as tuples), which
            # tracemalloc counts as allocated until they are full
            for _ in range(2500):
                net.fused_step(xb, tb, opt)
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
                for _ in range(50):
                    net.fused_step(xb, tb, opt)
                current, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        # The smallest array a step could make (100x10 float64) is 8000 bytes; what is
        # left (~3 KB) is transient Python objects of argument checks and dispatch.
        assert peak - base < 6000, (type(opt).__name__, peak - base)
        assert current - base < 1000, (type(opt).__name__, current - base)


def test_unsupported_optimizer_returns_none():
    class Custom(O.SGD):
        pass

    x, t = _data()
    net = TwoLayerNet(20, 8, 4)
    before = {k: v.copy() for k, v in net.params.items()}
    assert net.fused_step(x[:10], t[:10], Custom()) is None
    with pytest.raises(TypeError, match="update"):  # not an optimizer at all: an error, not None
        net.train_steps(x, t, np.arange(20), 10, object())
    assert all((before[k] == net.params[k]).all() for k in before)


@pytest.mark.parametrize("bad, err, match", [
    (dict(idx=np.array([0, 1, 2, 300])), ValueError, r"\[0, 300\)"),
    (dict(idx=np.array([-1, 1, 2])), ValueError, r"\[0, 300\)"),
    (dict(idx=np.array([0.5, 1.0])), TypeError, "integer"),
    (dict(t=np.full(300, 4)), ValueError, r"\[0, 4\)"),
    (dict(t=np.zeros(299, int)), ValueError, r"\(300,\)"),
    (dict(x=np.zeros((300, 21))), ValueError, "20"),
    (dict(x=np.zeros((300, 20), complex)), TypeError, "real"),
    (dict(batch_size=0), ValueError, ">= 1"),
    (dict(batch_size=2.0), TypeError, "integer"),
])
def test_bad_input_rejected_before_kernel(bad, err, match):
    x, t = _data()
    args = dict(x=x, t=t, idx=np.arange(100), batch_size=2)
    args.update(bad)
    net = TwoLayerNet(20, 8, 4)
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(err, match=match):
        net.train_steps(args["x"], args["t"], args["idx"], args["batch_size"], O.SGD())
    assert all((before[k] == net.params[k]).all() for k in before)
