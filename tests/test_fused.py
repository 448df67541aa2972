"""The fused two-layer training step: equal to the drop-in path, allocation-free, validated."""
import tracemalloc

import numpy as np
import pytest

from fastprop import TwoLayerNet
from fastprop import optimizers as O
from fastprop import reference as R
from fastprop.kernels import step as K

OPTS = [(O.SGD, dict(lr=0.1)), (O.Momentum, dict(lr=0.05)), (O.Nesterov, dict(lr=0.05)),
        (O.AdaGrad, dict(lr=0.05)), (O.RMSprop, dict(lr=0.01)), (O.Adam, dict(lr=0.01))]


def _data(n=300, d=20, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)).astype(np.float32)
    t = (x[:, :classes].argmax(axis=1)).astype(np.uint8)  # learnable labels
    return x, t


def _kernel_args(dt, D=20, H=8, O_=4, B=25, seed=1):
    rng = np.random.default_rng(seed)
    P = [(0.1 * rng.standard_normal((D, H))).astype(dt), np.zeros(H, dt),
         (0.1 * rng.standard_normal((H, O_))).astype(dt), np.zeros(O_, dt)]
    bufs = [np.zeros(s, dt) for s in ((D, H), (H,), (H, O_), (O_,), (B, D), (B, H), (B, O_), (B, O_), (B, H))]
    return P, bufs


@pytest.mark.parametrize("opt", range(6))
@pytest.mark.parametrize("sigmoid", [False, True])
@pytest.mark.parametrize("onehot", [False, True])
def test_kernel_matches_twin_float64(opt, sigmoid, onehot):
    x, lab = _data()
    targets = np.eye(4)[lab] if onehot else np.empty((0, 0))
    idx = np.random.permutation(300)[:250].astype(np.intp)
    P, bufs = _kernel_args(np.float64)
    P2, bufs2 = [p.copy() for p in P], [b.copy() for b in bufs]
    S = [tuple(np.zeros(p.size) for p in P) for _ in range(2)]
    S2 = [tuple(s.copy() for s in st) for st in S]
    hp = np.array([0.05, 0.9, 0.999])
    l1, l2 = np.zeros(10), np.zeros(10)
    K.two_layer_train_steps(x, lab, targets, onehot, idx, *P, *bufs, sigmoid, opt, hp, *S, 3, l1)
    R.two_layer_train_steps(x, lab, targets, onehot, idx, *P2, *bufs2, sigmoid, opt, hp, *S2, 3, l2)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    for a, b in zip(P + bufs[:4], P2 + bufs2[:4]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12 * np.abs(b).max())


@pytest.mark.parametrize("opt", range(6))
@pytest.mark.parametrize("sigmoid", [False, True])
@pytest.mark.parametrize("onehot", [False, True])
@pytest.mark.parametrize("B, D, H", [(7, 3, 6), (25, 3, 6), (32, 3, 6), (9, 1, 4), (8, 2, 1)])
def test_small_kernel_matches_twin_float64(opt, sigmoid, onehot, B, D, H):
    """The tiny-layer kernel (batch in lanes, padded to 8 columns) against the twin,
    including one-input and one-hidden-unit nets (their loops are written apart)."""
    from fastprop._fused import padded_batch

    x, lab = _data(d=D, classes=3)
    targets = np.eye(3)[lab] if onehot else np.empty((0, 0))
    idx = np.random.default_rng(B).integers(0, 300, 10 * B).astype(np.intp)
    P, bufs = _kernel_args(np.float64, D=D, H=H, O_=3, B=padded_batch(B))
    P2, bufs2 = [p.copy() for p in P], [b.copy() for b in bufs]
    S = [tuple(np.zeros(p.size) for p in P) for _ in range(2)]
    S2 = [tuple(s.copy() for s in st) for st in S]
    hp = np.array([0.05, 0.9, 0.999])
    l1, l2 = np.zeros(10), np.zeros(10)
    K.two_layer_train_steps_small(x, lab, targets, onehot, idx, *P, *bufs, sigmoid, opt, hp, *S, 3, l1)
    R.two_layer_train_steps_small(x, lab, targets, onehot, idx, *P2, *bufs2, sigmoid, opt, hp, *S2, 3, l2)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    for a, b in zip(P + bufs[:4], P2 + bufs2[:4]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12 * np.abs(b).max())
    for a, b in zip(S[0] + S[1], S2[0] + S2[1]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12 * max(np.abs(b).max(), 1e-300))


@pytest.mark.parametrize("cls,kw", OPTS)
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("onehot", [False, True])
def test_spiral_sized_net_takes_the_small_kernel_and_equals_dropin(cls, kw, activation, onehot):
    """vol. 2's 2-10-3 net: the fused path runs the tiny-layer kernel (exact one-hot
    targets through its labels path) and gives the book loop's numbers."""
    from fastprop import _fused

    assert _fused.uses_small_kernel(2, 10, 3) and not _fused.uses_small_kernel(784, 50, 10)
    x, lab = _data(d=2, classes=3)
    t = np.eye(3, dtype=np.int64)[lab] if onehot else lab
    np.random.seed(5)
    fused = TwoLayerNet(2, 10, 3, weight_init_std=0.5, activation=activation)
    np.random.seed(5)
    plain = TwoLayerNet(2, 10, 3, weight_init_std=0.5, activation=activation)
    o1, o2 = cls(**kw), cls(**kw)
    idx = np.random.permutation(300)[:240]
    losses = fused.train_steps(x, t, idx, 30, o1)
    expected = []
    for k in range(8):
        b = idx[k * 30:(k + 1) * 30]
        expected.append(plain.loss(x[b], t[b]))
        o2.update(plain.params, plain.gradient(x[b], t[b]))
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    for key in plain.params:
        np.testing.assert_allclose(fused.params[key], plain.params[key], rtol=1e-10, atol=1e-13)
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


@pytest.mark.parametrize("sigmoid", [False, True])
@pytest.mark.parametrize("kernel", ["blas", "small"])
def test_kernel_float32_close_to_float64_twin(sigmoid, kernel):
    """float32 end to end, against the float64 twin: the BLAS kernel at 20-8-4/b25 and the
    tiny-layer kernel (scratch padded to 8 columns) at vol. 2's 2-10-3/b30."""
    from fastprop._fused import padded_batch

    if kernel == "blas":
        fn, (D, H, O_, B), lr, pad = K.two_layer_train_steps, (20, 8, 4, 25), 0.1, 25
    else:
        fn, (D, H, O_, B), lr, pad = K.two_layer_train_steps_small, (2, 10, 3, 30), 1.0, padded_batch(30)
    x, lab = _data(d=D)
    idx = np.arange(10 * B, dtype=np.intp)
    P, bufs = _kernel_args(np.float32, D=D, H=H, O_=O_, B=pad)
    P2, bufs2 = _kernel_args(np.float64, D=D, H=H, O_=O_, B=B)
    e32, e64 = np.empty((0, 0), np.float32), np.empty((0, 0))
    S32 = tuple(np.empty(0, np.float32) for _ in range(4))
    S64 = tuple(np.empty(0) for _ in range(4))
    l1, l2 = np.zeros(10), np.zeros(10)
    fn(x, lab, e32, False, idx, *P, *bufs, sigmoid, 0, np.array([lr, 0, 0], np.float32),
       S32, S32, 0, l1)
    R.two_layer_train_steps(x, lab, e64, False, idx, *P2, *bufs2, sigmoid, 0,
                            np.array([lr, 0, 0]), S64, S64, 0, l2)
    assert all(p.dtype == np.float32 for p in P + bufs)
    np.testing.assert_allclose(l1, l2, rtol=1e-5)
    for a, b in zip(P, P2):
        np.testing.assert_allclose(a, b, atol=1e-5 * max(np.abs(b).max(), 1))


@pytest.mark.parametrize("cls,kw", OPTS)
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_train_steps_equal_dropin_loop(cls, kw, activation):
    """The fused path gives the book loop's numbers: loss of the forward before each
    update, then gradient + optimizer.update."""
    x, t = _data()
    np.random.seed(5)
    fused = TwoLayerNet(20, 8, 4, weight_init_std=0.1, activation=activation)
    np.random.seed(5)
    plain = TwoLayerNet(20, 8, 4, weight_init_std=0.1, activation=activation)
    o1, o2 = cls(**kw), cls(**kw)
    idx = np.random.permutation(300)[:250]
    losses = fused.train_steps(x, t, idx, 25, o1)
    assert losses.shape == (10,) and losses.dtype == np.float64
    expected = []
    for k in range(10):
        b = idx[k * 25:(k + 1) * 25]
        expected.append(plain.loss(x[b], t[b]))
        o2.update(plain.params, plain.gradient(x[b], t[b]))
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    for key in plain.params:
        np.testing.assert_allclose(fused.params[key], plain.params[key], rtol=1e-10, atol=1e-13)
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
        for _ in range(3):  # warm-up: compile, buffers, optimizer state
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
    assert net.train_steps(x, t, np.arange(20), 10, object()) is None
    assert all((before[k] == net.params[k]).all() for k in before)


@pytest.mark.parametrize("bad, err, match", [
    (dict(idx=np.array([0, 1, 2, 300])), ValueError, r"\[0, 300\)"),
    (dict(idx=np.array([-1, 1, 2])), ValueError, r"\[0, 300\)"),
    (dict(idx=np.array([0.5, 1.0])), TypeError, "integer"),
    (dict(t=np.full(300, 4)), ValueError, r"\[0, 4\)"),
    (dict(t=np.zeros(299, int)), ValueError, r"\(300,\)"),
    (dict(x=np.zeros((300, 21))), ValueError, "20"),
    (dict(x=np.zeros((300, 20), complex)), TypeError, "real"),
    (dict(batch_size=0), ValueError, "positive"),
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
