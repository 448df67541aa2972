"""fastprop.kernels.affine against its twins: the GEMMs with the fused bias passes."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import affine as K


def _forward(draw, dt):
    r = parity.rng(draw)
    n, d, m = draw(parity.batch), draw(parity.width), draw(parity.width)
    x, W = draw(parity.scales) * r.standard_normal((n, d)), r.standard_normal((d, m))
    b = r.standard_normal(m).astype(dt) if draw(st.booleans()) else None
    rows = draw(st.integers(-1, n + 1))  # one GEMM (<= 0, >= n) or blocks of rows, the last short
    return [x.astype(dt), W.astype(dt), b, np.full((n, m), np.nan, dt), rows]


def _forward_cast(draw, dt):
    """Inputs of another dtype (float32/float64/uint8) in chunks of R rows on T buffers:
    batches shorter than one chunk, not a multiple of it, more chunks than buffers."""
    r = parity.rng(draw)
    n, d, m = draw(st.integers(1, 70)), draw(parity.width), draw(parity.width)
    kind = draw(st.sampled_from(["f4", "f8", "u1"]))
    x = r.integers(0, 256, (n, d)).astype(np.uint8) if kind == "u1" else \
        (draw(parity.scales) * r.standard_normal((n, d))).astype(kind)
    W = r.standard_normal((d, m)).astype(dt)
    b = r.standard_normal(m).astype(dt) if draw(st.booleans()) else None
    T, R = draw(st.integers(1, 3)), draw(st.integers(1, 16))
    x[:, r.random(d) < draw(st.sampled_from([0.0, 0.5]))] = 0  # zero columns: packed chunks
    packed = draw(st.booleans())
    runs = np.full((T, d, 3), -1, np.int64) if packed else None
    Wc = np.full((T, d * m), np.nan, dt) if packed else None
    return [x, W, b, np.full((n, m), np.nan, dt), np.full((T, R, d), np.nan, dt), runs, Wc,
            draw(st.sampled_from([0, 64, 10 ** 6])), draw(st.integers(0, d))]


def _forward_parts(draw, dt):
    """Parts on the pool's threads: more parts than rows or blocks, blocks of rows not a
    multiple of a part, and a float32/float64 source cast into ``x`` first (or none)."""
    args = _forward(draw, dt)
    x = args[0]
    parts = draw(st.integers(1, 5))
    src = None
    if draw(st.booleans()):
        src = x.astype(draw(st.sampled_from([np.float32, np.float64])))
        args[0] = np.full_like(x, np.nan) if draw(st.booleans()) else src.astype(dt)  # stale or equal
    return args + [parts, src]


def _backward_parts(draw, dt):
    args = _backward(draw, dt)
    if args[5] is None:  # the parts kernel always writes dx
        args[5] = np.full(args[0].shape, np.nan, dt)
    return args + [draw(st.integers(2, 5))]


def _sparse_columns(draw, dt):
    """(N, D) input with all-zero columns (runs of them at the edges and inside, as an
    MNIST batch's borders), a column with only one nonzero, NaN or inf in places."""
    r = parity.rng(draw)
    n, d = draw(st.integers(1, 12)), draw(st.integers(1, 40))
    x = (draw(parity.scales) * r.standard_normal((n, d))).astype(dt)
    x[:, r.random(d) < draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))] = 0
    if draw(st.booleans()):
        x[r.integers(n), r.integers(d)] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e-30, -0.0]))
    return x


def _runs_of(x):
    from fastprop.twins.affine import column_runs as twin
    runs = np.zeros((x.shape[1], 3), np.int64)
    kk, nr = twin(x, 0, x.shape[0], runs)
    return runs, kk, nr


def _column_runs(draw, dt):
    x = _sparse_columns(draw, dt)
    r0 = draw(st.integers(0, x.shape[0]))
    return [x, r0, draw(st.integers(r0, x.shape[0])), np.full((x.shape[1], 3), -7, np.int64)]


def _pack_columns(draw, dt):
    x = _sparse_columns(draw, dt)
    n = x.shape[0]
    r0 = draw(st.integers(0, n))
    r1 = draw(st.integers(r0, n))
    runs = np.zeros((x.shape[1], 3), np.int64)
    from fastprop.twins.affine import column_runs as twin
    kk, nr = twin(x, r0, r1, runs)  # the rows' own runs (what the chunked path packs by)
    src = x.astype(draw(st.sampled_from([np.float32, np.float64])))
    return [src, runs, nr, kk, np.full(x.size, np.nan, dt), r0, r1]


def _pack_weight_rows(draw, dt):
    x = _sparse_columns(draw, dt)
    runs, kk, nr = _runs_of(x)
    r = parity.rng(draw)
    m = draw(parity.width)
    W = r.standard_normal((x.shape[1], m)).astype(dt)
    if draw(st.booleans()):  # a non-finite weight, in a kept row or in one left out
        W[r.integers(W.shape[0]), r.integers(m)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if draw(st.booleans()):
        W = np.asfortranarray(W)  # a tied embed_W.T
    return [W, runs, nr, kk, np.full(W.size, np.nan, dt)]


def _unpack_weight_rows(draw, dt):
    x = _sparse_columns(draw, dt)
    runs, kk, nr = _runs_of(x)
    r = parity.rng(draw)
    m = draw(parity.width)
    return [r.standard_normal(x.shape[1] * m).astype(dt), runs, nr, np.full((x.shape[1], m), np.nan, dt)]


def _backward(draw, dt):
    r = parity.rng(draw)
    n, d, m = draw(parity.batch), draw(parity.width), draw(parity.width)
    x, W = r.standard_normal((n, d)), r.standard_normal((d, m))
    dout = draw(parity.scales) * r.standard_normal((n, m))
    db = np.full(m, np.nan, dt) if draw(st.booleans()) else None
    dx = np.full((n, d), np.nan, dt) if draw(st.booleans()) else None
    return [x.astype(dt), W.astype(dt), dout.astype(dt), np.full((d, m), np.nan, dt), db, dx]


def _backward_math(k, t, dt):
    """dW is x.T @ dout itself, not only what the twin says."""
    x, dout = k.args["x"].astype(np.float64), k.args["dout"].astype(np.float64)
    parity.assert_close(k.args["dW"], x.T @ dout, dt, "dW = x.T @ dout",
                        floor=float((np.abs(x).T @ np.abs(dout)).max()))


CASES = {
    "affine_forward": parity.Case(_forward, outputs=("out",), returns="out", linear=True),
    "affine_forward_cast": parity.Case(_forward_cast, outputs=("out",), scratch=("buf", "runs", "Wc"), returns="out",
                                       linear=True),
    "affine_forward_parts": parity.Case(_forward_parts, outputs=("out", "x"), returns="out", linear=True),
    "affine_backward_parts": parity.Case(_backward_parts, outputs=("dW", "db", "dx"), returns="dx",
                                         linear=True, check=_backward_math),
    "column_runs": parity.Case(_column_runs, outputs=("runs",)),
    "pack_columns": parity.Case(_pack_columns, outputs=("xc",)),
    "pack_weight_rows": parity.Case(_pack_weight_rows, outputs=("Wc",)),
    "unpack_weight_rows": parity.Case(_unpack_weight_rows, outputs=("dW",)),
    "affine_backward": parity.Case(_backward, outputs=("dW", "db", "dx"), returns="dx", linear=True,
                                   check=_backward_math),
}

test_parity = parity.make_test("affine", CASES)


def test_affine_forward_without_bias_is_a_plain_matmul():
    x = np.arange(6.0).reshape(2, 3)
    W = np.arange(12.0).reshape(3, 4) - 5
    out = np.empty((2, 4))
    K.affine_forward(x, W, None, out, 0)
    np.testing.assert_array_equal(out, x @ W)
    out_b = np.empty((2, 4))
    b = np.array([1.0, -1.0, 0.5, 100.0])
    K.affine_forward(x, W, b, out_b, 0)
    np.testing.assert_array_equal(out_b, x @ W + b)


def test_affine_backward_none_variants_leave_the_rest_identical():
    r = np.random.default_rng(5)
    x, W, dout = r.standard_normal((7, 4)), r.standard_normal((4, 3)), r.standard_normal((7, 3))
    full = [np.zeros((4, 3)), np.empty(3), np.zeros((7, 4))]
    assert K.affine_backward(x, W, dout, *full) is full[2]
    np.testing.assert_allclose(full[0], x.T @ dout, rtol=1e-12)
    np.testing.assert_allclose(full[1], dout.sum(0), rtol=1e-12)
    np.testing.assert_allclose(full[2], dout @ W.T, rtol=1e-12)
    for db_on, dx_on in [(False, True), (True, False), (False, False)]:
        dW = np.full((4, 3), np.nan)
        db = np.full(3, np.nan) if db_on else None
        dx = np.full((7, 4), np.nan) if dx_on else None
        res = K.affine_backward(x, W, dout, dW, db, dx)
        np.testing.assert_array_equal(dW, full[0])
        if db_on:
            np.testing.assert_array_equal(db, full[1])
        if dx_on:
            assert res is dx
            np.testing.assert_array_equal(dx, full[2])
        else:
            assert res is None
