"""fastprop.kernels.fused_multi_layer against its twin (the step as the book's layers do it)."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import fused_multi_layer as K  # noqa: F401  (the module under test)


def _step(draw, dt):
    r = parity.rng(draw)
    n = draw(st.integers(2, 24))
    sizes = [draw(st.integers(1, 12))] + [draw(st.integers(2, 10)) for _ in range(draw(st.integers(1, 3)))]
    sizes.append(draw(st.integers(2, 6)))
    L = len(sizes) - 2
    sigmoid, use_bn, use_drop, update = (draw(st.booleans()) for _ in range(4))
    lam = draw(st.sampled_from([0.0, 0.1]))
    hidden = sizes[1:-1]
    x = r.standard_normal((n, sizes[0])).astype(dt)
    labels = r.integers(0, sizes[-1], n).astype(np.intp)
    Ws = tuple((r.standard_normal((a, b)) / np.sqrt(a)).astype(dt) for a, b in zip(sizes[:-1], sizes[1:]))
    bs = tuple((0.1 * r.standard_normal(b)).astype(dt) for b in sizes[1:])

    def vec(f, empty_dt=dt):
        return tuple(f(h) for h in hidden) if use_bn else (np.empty(0, empty_dt),) * L

    bn = (vec(lambda h: (1 + 0.2 * r.standard_normal(h)).astype(dt)),
          vec(lambda h: (0.2 * r.standard_normal(h)).astype(dt)),
          vec(lambda h: r.standard_normal(h).astype(dt)), vec(lambda h: r.random(h).astype(dt)),
          vec(lambda h: np.full(h, np.nan, dt)), vec(lambda h: np.full(h, np.nan, dt)))
    grads = (tuple(np.full_like(W, np.nan) for W in Ws), tuple(np.full_like(b, np.nan) for b in bs),
             vec(lambda h: np.full(h, np.nan, dt)), vec(lambda h: np.full(h, np.nan, dt)))
    if use_drop:
        drop = (tuple(r.random((n, h)) for h in hidden), tuple(np.zeros((n, h), np.bool_) for h in hidden),
                np.full(L, draw(st.sampled_from([0.0, 0.2, 0.5]))))
    else:
        drop = ((np.empty((0, 0)),) * L, (np.empty((0, 0), np.bool_),) * L, np.zeros(L))

    def per(f, on=True):
        return tuple(f(h) for h in hidden) if on else (np.empty((0, 0), dt),) * L

    # scratch as zeros, not np.empty: uninitialised float32 bits can be signalling NaNs,
    # which the harness's float64 copy for the twin reports as an invalid cast
    zs = per(lambda h: np.zeros((n, h), dt))
    hs = per(lambda h: np.zeros((n, h), dt)) if use_drop else zs
    c = sizes[-1]
    scratch = (zs, per(lambda h: np.zeros((n, h), dt), use_bn), per(lambda h: np.zeros((n, h), dt), use_bn),
               tuple(np.zeros(h, dt) for h in hidden) if use_bn else (np.empty(0, dt),) * L,
               zs, hs, per(lambda h: np.zeros((n, h), dt)),
               np.zeros((n, c), dt), np.zeros((n, c), dt), np.zeros((n, c), dt))
    hp = np.array([lam, 0.05] + [0.9] * L)
    return [(x, labels), (Ws, bs), bn, grads, drop, scratch, (sigmoid, use_bn, use_drop, update), hp]


def _floor(a):
    """Gradients are sums over the batch of products of activations and upstream gradients;
    BatchNorm divides by std (at least sqrt(1e-6) ~ 1e-3 when a column is constant)."""
    return 10.0


def _predict(draw, dt):
    """Inference through 1-3 hidden layers (ReLU/Sigmoid, BatchNorm, Dropout) of a float32,
    float64 or uint8 input, one share ``t`` of T: chunks of R rows (fewer rows than a chunk,
    not a multiple of it, more shares than chunks), packed zero columns or not."""
    r = parity.rng(draw)
    n = draw(st.integers(1, 40))
    sizes = [draw(st.integers(1, 12))] + [draw(st.integers(2, 10)) for _ in range(draw(st.integers(1, 3)))]
    sizes.append(draw(st.integers(2, 6)))
    L = len(sizes) - 2
    d = sizes[0]
    sigmoid, use_bn, use_drop = (draw(st.booleans()) for _ in range(3))
    kind = draw(st.sampled_from(["f4", "f8", "u1"]))
    x = r.integers(0, 4, (n, d)).astype(np.uint8) if kind == "u1" else r.standard_normal((n, d)).astype(kind)
    x[:, r.random(d) < draw(st.sampled_from([0.0, 0.5]))] = 0
    Ws = tuple((r.standard_normal((a, b)) / np.sqrt(a)).astype(dt) for a, b in zip(sizes[:-1], sizes[1:]))
    bs = tuple((0.1 * r.standard_normal(b)).astype(dt) for b in sizes[1:])
    hidden = sizes[1:-1]

    def vec(f):
        return tuple(f(h) for h in hidden) if use_bn else (np.empty(0, dt),) * L

    bn = (vec(lambda h: (1 + 0.2 * r.standard_normal(h)).astype(dt)),
          vec(lambda h: (0.2 * r.standard_normal(h)).astype(dt)),
          vec(lambda h: r.standard_normal(h).astype(dt)), vec(lambda h: r.random(h).astype(dt)))
    scales = np.array([1 - draw(st.sampled_from([0.0, 0.2, 0.5])) for _ in range(L)], dt)
    T, R = draw(st.integers(1, 3)), draw(st.integers(1, 16))
    packed = draw(st.booleans())
    scratch = (np.zeros((T, R, d), dt), np.full((T, d, 3), -1, np.int64) if packed else None,
               np.zeros((T, d * sizes[1]), dt) if packed else None, np.zeros((T, 2, R * max(sizes[1:])), dt))
    return [x, (Ws, bs), bn, (sigmoid, use_bn, use_drop), scales, np.full((n, sizes[-1]), np.nan, dt), scratch,
            draw(st.sampled_from([0, 64, 10 ** 6])), draw(st.integers(0, d)), draw(st.integers(0, T - 1))]


CASES = {
    "multi_layer_predict": parity.Case(_predict, outputs=("out",), scratch=("scratch",), returns="out",
                                       floor=_floor, examples=30),
    "multi_layer_train_step": parity.Case(
        _step, outputs=("params", "bn[0]", "bn[1]", "bn[4]", "bn[5]", "grads", "drop[1]"), scratch=("scratch",),
        floor=_floor, examples=30),
}

test_parity = parity.make_test("fused_multi_layer", CASES)
