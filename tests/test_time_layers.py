"""The time layers against a NumPy transcription of the book's classes (fastprop.bench.book.vol2_time):
the same numbers for the same seeds, state carried and set as the book, clear errors first."""
import os
import sys

import numpy as np
import pytest

from fastprop import layers

# the book's time layers (the one transcription, also the bench's baseline)
from fastprop.bench.book import vol2_time as book  # noqa: E402

N, T, D, H, V = 4, 6, 5, 3, 11
GATES = {"TimeRNN": 1, "TimeLSTM": 4, "TimeGRU": 3}


def _params(rng, g, dt):
    return [(rng.standard_normal((D, g * H)) / np.sqrt(D)).astype(dt),
            (rng.standard_normal((H, g * H)) / np.sqrt(H)).astype(dt),
            (0.1 * rng.standard_normal(g * H)).astype(dt)]


def _close(a, b, dt):
    tol = dict(rtol=1e-11, atol=1e-12) if dt == np.float64 else dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(GATES))
def test_recurrent_layers_match_the_book_over_two_stateful_windows(name, dt, rng):
    p = _params(rng, GATES[name], dt)
    ours = getattr(layers, name)(*[a.copy() for a in p], stateful=True)
    theirs = getattr(book, name)(*[a.copy() for a in p], stateful=True)
    for _ in range(2):  # the second forward starts from the first one's last h (and c)
        xs = rng.standard_normal((N, T, D)).astype(dt)
        dhs = rng.standard_normal((N, T, H)).astype(dt)
        _close(ours.forward(xs), theirs.forward(xs), dt)
        _close(ours.backward(dhs), theirs.backward(dhs), dt)
        for g, h in zip(ours.grads, theirs.grads):
            _close(g, h, dt)
        _close(ours.dh, theirs.dh, dt)
        _close(ours.h, theirs.h, dt)
    assert ours.h.dtype == dt and ours.dh.dtype == dt


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_cells_match_the_book(name, rng):
    g = {"RNN": 1, "LSTM": 4, "GRU": 3}[name]
    p = _params(rng, g, np.float64)
    ours, theirs = getattr(layers, name)(*p), getattr(book, name)(*p)
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    states = (h, rng.standard_normal((N, H))) if name == "LSTM" else (h,)
    douts = tuple(rng.standard_normal((N, H)) for _ in states)
    a, b = ours.forward(x, *states), theirs.forward(x, *states)
    for u, v in zip(np.atleast_1d(a) if name != "LSTM" else a, np.atleast_1d(b) if name != "LSTM" else b):
        _close(u, v, np.float64)
    for u, v in zip(ours.backward(*douts), theirs.backward(*douts)):
        _close(u, v, np.float64)
    for u, v in zip(ours.grads, theirs.grads):
        _close(u, v, np.float64)


def test_non_stateful_layers_start_from_zeros_and_stateful_ones_carry(rng):
    p = _params(rng, 4, np.float64)
    xs = rng.standard_normal((N, T, D))
    fresh = layers.TimeLSTM(*p).forward(xs)
    stateless = layers.TimeLSTM(*p)
    stateless.forward(xs)
    np.testing.assert_array_equal(stateless.forward(xs), fresh)
    stateful = layers.TimeLSTM(*p, stateful=True)
    stateful.forward(xs)
    assert not np.allclose(stateful.forward(xs), fresh)
    stateful.reset_state()
    np.testing.assert_array_equal(stateful.forward(xs), fresh)


def test_set_state_is_where_a_stateful_lstm_starts(rng):
    p = _params(rng, 4, np.float64)
    h, c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    ours, theirs = layers.TimeLSTM(*p, stateful=True), book.TimeLSTM(*p, stateful=True)
    ours.set_state(h, c)
    theirs.set_state(h, c)
    xs = rng.standard_normal((N, T, D))
    _close(ours.forward(xs), theirs.forward(xs), np.float64)
    ours.set_state(h)  # c=None: zeros, as the book
    theirs.set_state(h)
    _close(ours.forward(xs), theirs.forward(xs), np.float64)


@pytest.mark.parametrize("bad, err", [(np.zeros((N, H + 1)), ValueError), (np.zeros(H), ValueError),
                                      (np.zeros((N, H), complex), TypeError)])
def test_set_state_of_the_wrong_shape_is_refused_before_any_kernel(bad, err, rng):
    layer = layers.TimeLSTM(*_params(rng, 4, np.float64), stateful=True)
    with pytest.raises(err):
        layer.set_state(bad)


def test_a_state_of_another_batch_size_is_a_value_error_at_forward(rng):
    layer = layers.TimeGRU(*_params(rng, 3, np.float64), stateful=True)
    layer.set_state(np.zeros((N + 1, H)))
    with pytest.raises(ValueError, match=r"h must have shape \(4, 3\)"):
        layer.forward(rng.standard_normal((N, T, D)))


def test_embedding_affine_and_loss_match_the_book(rng):
    W = rng.standard_normal((V, D))
    xs = rng.integers(0, V, (N, T))
    ours, theirs = layers.TimeEmbedding(W), book.TimeEmbedding(W)
    np.testing.assert_array_equal(ours.forward(xs), theirs.forward(xs))
    dout = rng.standard_normal((N, T, D))
    assert ours.backward(dout) is None
    theirs.backward(dout)
    _close(ours.grads[0], theirs.grads[0], np.float64)
    Wa, b = rng.standard_normal((D, V)), rng.standard_normal(V)
    a, a_b = layers.TimeAffine(Wa, b), book.TimeAffine(Wa, b)
    x = rng.standard_normal((N, T, D))
    _close(a.forward(x), a_b.forward(x), np.float64)
    d = rng.standard_normal((N, T, V))
    _close(a.backward(d), a_b.backward(d), np.float64)
    for g, h in zip(a.grads, a_b.grads):
        _close(g, h, np.float64)
    scores, ts = 3 * rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    ts[1, 2] = ts[3, 0] = -1
    loss, loss_b = layers.TimeSoftmaxWithLoss(), book.TimeSoftmaxWithLoss()
    _close(loss.forward(scores, ts), loss_b.forward(scores, ts), np.float64)
    _close(loss.backward(0.5), loss_b.backward(0.5), np.float64)
    onehot = np.eye(V)[np.clip(ts, 0, None)]
    assert loss.forward(scores, onehot) == pytest.approx(loss.forward(scores, np.clip(ts, 0, None)))


def test_simple_time_affine_keeps_the_books_dW_db(rng):
    W, b = rng.standard_normal((D, V)), rng.standard_normal(V)
    layer = layers.Simple_TimeAffine(W, b)
    x, d = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, V))
    layer.forward(x)
    layer.backward(d)
    steps = sum(x[:, t].T @ d[:, t] for t in range(T))  # the book's per-step Affine.dW, summed
    np.testing.assert_allclose(layer.dW, steps, rtol=1e-12)
    np.testing.assert_allclose(layer.db, d.sum(axis=(0, 1)), rtol=1e-12)


def test_time_dropout_draws_the_books_mask(rng):
    xs = rng.standard_normal((N, T, D)).astype(np.float32)
    np.random.seed(5)
    out = layers.TimeDropout(0.3).forward(xs)
    np.random.seed(5)
    flg = np.random.rand(*xs.shape) > 0.3
    np.testing.assert_array_equal(out, xs * (flg.astype(np.float32) * (1 / (1.0 - 0.3))))
    test_mode = layers.TimeDropout(0.3)
    test_mode.train_flg = False
    np.testing.assert_array_equal(test_mode.forward(xs), xs)


def test_bilstm_is_two_lstms_one_reversed(rng):
    p1, p2 = _params(rng, 4, np.float64), _params(rng, 4, np.float64)
    xs = rng.standard_normal((N, T, D))
    out = layers.TimeBiLSTM(*p1, *p2).forward(xs)
    o1 = book.TimeLSTM(*p1).forward(xs)
    o2 = book.TimeLSTM(*p2).forward(xs[:, ::-1])[:, ::-1]
    _close(out, np.concatenate((o1, o2), axis=2), np.float64)


@pytest.mark.parametrize("xs, err", [(np.array([[0, V]]), ValueError), (np.array([[-1, 0]]), ValueError),
                                     (np.array([[0.0, 1.0]]), TypeError), (np.array([[True, False]]), TypeError),
                                     (np.array([1, 2]), ValueError)])
def test_bad_ids_are_refused_before_the_gather(xs, err, rng):
    with pytest.raises(err):
        layers.TimeEmbedding(rng.standard_normal((V, D))).forward(xs)


def test_labels_out_of_range_or_of_another_shape_are_refused(rng):
    loss = layers.TimeSoftmaxWithLoss()
    scores = rng.standard_normal((N, T, V))
    with pytest.raises(ValueError, match="ts holds id"):
        loss.forward(scores, np.full((N, T), V))
    with pytest.raises(ValueError, match="ts must have shape"):
        loss.forward(scores, np.zeros((N, T + 1), int))


# ------------------------------------------------------------------------------------------
# A cache changed between forward and backward (issue 19, group 1): every array a kernel
# reads is checked against the geometry forward recorded, in a child process (a read past
# the end of a shrunk cache is a segfault or heap corruption, not an exception).

_CACHE_CHILD = r'''
import json
import numpy as np
from fastprop import layers

N, T, D, H = 3, 5, 4, 2
G = {"RNN": 1, "LSTM": 4, "GRU": 3}


def build(name):
    kind = name.replace("Time", "")
    g = G[kind]
    rng = np.random.default_rng(0)
    layer = getattr(layers, name)(rng.standard_normal((D, g * H)), rng.standard_normal((H, g * H)),
                                  rng.standard_normal(g * H))
    if name.startswith("Time"):
        xs = rng.standard_normal((N, T, D))
        layer.forward(xs)
        return layer, lambda: layer.backward(np.ones((N, T, H)))
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    if kind == "LSTM":
        layer.forward(x, h, h)
        return layer, lambda: layer.backward(np.ones((N, H)), np.ones((N, H)))
    layer.forward(x, h)
    return layer, lambda: layer.backward(np.ones((N, H)))


def changes(a):
    out = {"one step less": a[:-1].copy(), "one row less": a[:, :-1].copy(),
           "one column less": a[..., :-1].copy(), "float32": a.astype(np.float32),
           "fortran": np.asfortranarray(a), "strided": np.repeat(a, 2, axis=-1)[..., ::2],
           "flat": a.reshape(-1).copy(), "list": a.tolist(), "None": None}
    if a.shape[0] > 1:
        out["empty"] = a[:0].copy()
    return out


def outcome(fn):
    try:
        fn()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"


results = {}
for name in ("TimeRNN", "TimeLSTM", "TimeGRU", "RNN", "LSTM", "GRU"):
    layer, _ = build(name)
    for i in range(len(layer.cache)):
        for label, value in changes(layer.cache[i]).items():
            layer, back = build(name)
            cache = list(layer.cache)
            cache[i] = value
            layer.cache = tuple(cache)
            results[f"{name} cache[{i}] {label}"] = outcome(back)
    layer, back = build(name)
    layer.cache = layer.cache[:-1]
    results[f"{name} cache one entry short"] = outcome(back)
    # the cache of a shorter forward put back after a longer one
    small, _ = build(name)
    if name.startswith("Time"):
        small.forward(np.zeros((N - 1, T - 2, D)))
    layer, back = build(name)
    layer.cache = small.cache if name.startswith("Time") else tuple(a[:, :-1].copy() for a in small.cache)
    results[f"{name} cache of a smaller forward"] = outcome(back)
    # a read-only cache is read, not refused: the same gradients
    layer, back = build(name)
    ref = back()
    for a in layer.cache:
        a.flags.writeable = False
    got = back()
    ref, got = (r if isinstance(r, tuple) else (r,) for r in (ref, got))
    same = all(np.array_equal(u, v) for u, v in zip(ref, got))
    results[f"{name} read-only cache"] = "ok" if same else "different gradients"
print(json.dumps(results))
'''


def test_a_cache_replaced_after_forward_is_a_value_error_naming_it_never_a_crash():
    isolated = _isolated()
    results = isolated.run(_CACHE_CHILD)
    assert len(results) > 100
    for key, value in results.items():
        if key.endswith("read-only cache"):
            assert value == "ok", (key, value)
            continue
        assert value.startswith("ValueError: ") and "cache" in value, (key, value)
        if " cache[" in key:  # names the entry and what forward saved
            i = key.split("cache[")[1].split("]")[0]
            assert f".cache[{i}] (" in value and "as forward saved it" in value, (key, value)


def _isolated():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "layers"))
    import isolated
    return isolated


@pytest.mark.parametrize("change", [
    lambda c: (c[0], c[1], 2**70, c[3]),           # reached the kernel: a Numba typing error
    lambda c: (c[0], c[1], 3, c[3]),               # a real label ignored: a silently wrong gradient
    lambda c: (c[0], c[1], c[2], (1, 12, V)),      # another geometry of as many rows
    lambda c: c[:3], lambda c: "cache",
    lambda c: (c[0], c[1], c[2], np.array(c[3])),  # compared as an array: "truth value ... ambiguous"
])
def test_time_softmax_cache_changed_after_forward_is_a_value_error(change, rng):
    layer = layers.TimeSoftmaxWithLoss()
    layer.forward(rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T)))
    layer.cache = change(layer.cache)
    with pytest.raises(ValueError, match=r"TimeSoftmaxWithLoss\.cache .*forward"):
        layer.backward()


def test_an_ignore_label_beyond_int64_is_a_value_error_naming_it(rng):
    layer = layers.TimeSoftmaxWithLoss()
    layer.ignore_label = 2**70
    with pytest.raises(ValueError, match="ignore_label must be <="):
        layer.forward(rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T)))


def test_one_question_at_a_time_is_the_books_generate_loop(rng):
    """Batch 1 (the GEMV step), a zero first state (the skipped GEMM) and a stateful decoder
    fed one token per call, as the book's Decoder.generate, float32 and float64."""
    for dt in (np.float32, np.float64):
        p = _params(rng, 4, dt)
        enc, enc_b = layers.TimeLSTM(*p), book.TimeLSTM(*[a.copy() for a in p])
        q = rng.standard_normal((1, T, D)).astype(dt)
        hs, hs_b = enc.forward(q), enc_b.forward(q)
        _close(hs, hs_b, dt)
        dec, dec_b = layers.TimeLSTM(*p, stateful=True), book.TimeLSTM(*[a.copy() for a in p], stateful=True)
        dec.set_state(hs[:, -1]), dec_b.set_state(hs_b[:, -1])
        for _ in range(4):
            x = rng.standard_normal((1, 1, D)).astype(dt)
            _close(dec.forward(x), dec_b.forward(x), dt)
