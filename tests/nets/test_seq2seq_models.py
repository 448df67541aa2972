"""Seq2seq, PeekySeq2seq, AttentionSeq2seq and their parts against the book's algorithm
(the one transcription of vol. 2's ch07/ch08 classes, :mod:`fastprop.bench.book.vol2_nets`):
the same draws, losses, gradients and generated answers;
gradient checks; the batched evaluation; input checks."""
import numpy as np
import pytest

from fastprop.bench.book import vol2_nets as book
from fastprop.nets import (
    AttentionDecoder,
    AttentionEncoder,
    AttentionSeq2seq,
    Decoder,
    Encoder,
    PeekyDecoder,
    PeekySeq2seq,
    Seq2seq,
)
from fastprop.nets.seq2seq import eval_seq2seq_batch
from fastprop.optimizers import Adam
from fastprop.util_vol2 import eval_seq2seq

V, D, H, N, TQ, TA = 13, 5, 8, 6, 7, 5
#: (ours, the oracle's keyword arguments)
MODELS = [(Seq2seq, {}), (PeekySeq2seq, {"peeky": True}), (AttentionSeq2seq, {"attention": True})]
#: the book's class for each (peeky, attention)
_BOOK_MODEL = {(False, False): book.Seq2seq, (True, False): book.PeekySeq2seq, (False, True): book.AttentionSeq2seq}
_BOOK_DECODER = {(False, False): book.Decoder, (True, False): book.PeekyDecoder, (False, True): book.AttentionDecoder}


def _key(kw):
    return bool(kw.get("peeky")), bool(kw.get("attention"))
IDS = [m.__name__ for m, _ in MODELS]


def _data(seed=0, n=N):
    r = np.random.default_rng(seed)
    return r.integers(0, V, (n, TQ)), r.integers(0, V, (n, TA))


def _pair(cls, kw, dt, seed=3):
    np.random.seed(seed)
    ours = cls(V, D, H, dtype=dt)
    np.random.seed(seed)
    theirs = _BOOK_MODEL[_key(kw)](V, D, H, dt)
    return ours, theirs


@pytest.mark.parametrize("cls,kw", MODELS, ids=IDS)
def test_the_books_draws_in_the_books_order(cls, kw):
    ours, theirs = _pair(cls, kw, "f")
    assert len(ours.params) == len(theirs.params) == len(ours.grads)
    for p, q, g in zip(ours.params, theirs.params, ours.grads):
        assert p.dtype == np.float32 and p.shape == q.shape == g.shape
        np.testing.assert_array_equal(p, q)
    assert ours.params[:4] == ours.encoder.params and all(a is b for a, b in zip(ours.grads[4:], ours.decoder.grads))


@pytest.mark.parametrize("dt", ["d", "f"])
@pytest.mark.parametrize("cls,kw", MODELS, ids=IDS)
def test_training_steps_are_the_books(cls, kw, dt):
    ours, theirs = _pair(cls, kw, dt)
    xs, ts = _data()
    tol = 1e-11 if dt == "d" else 2e-4
    for step in range(3):
        loss = ours.forward(xs, ts)
        assert ours.backward() is None
        want = theirs.forward(xs, ts)
        theirs.backward()
        assert isinstance(loss, float) and abs(loss - want) <= tol * abs(want)
        for i, (g, h) in enumerate(zip(ours.grads, theirs.grads)):
            assert g.dtype == h.dtype
            np.testing.assert_allclose(g, h, rtol=0, atol=tol * np.abs(h).max(), err_msg=f"step {step} grads[{i}]")
        for p, g, q, h in zip(ours.params, ours.grads, theirs.params, theirs.grads):
            p -= 0.5 * g
            q -= 0.5 * h


@pytest.mark.parametrize("cls,kw", MODELS, ids=IDS)
def test_generate_is_the_books(cls, kw):
    ours, theirs = _pair(cls, kw, "d")
    xs, ts = _data(1, 20)
    for i in range(20):
        got = ours.generate(xs[[i]], ts[i, 0], 6)
        assert got == theirs.generate(xs[[i]], ts[i, 0], 6)
        assert all(type(v) is int for v in got)


@pytest.mark.parametrize("dt", ["d", "f"])
@pytest.mark.parametrize("cls,kw", MODELS, ids=IDS)
def test_batched_evaluation_is_the_books_eval_seq2seq_per_question(cls, kw, dt):
    ours, theirs = _pair(cls, kw, dt)
    xs, ts = _data(2, 40)
    ts[:, 1:] = xs[:, :1]  # answer: the first word of the question, 4 times (learnt in a few steps)
    opt = Adam(0.02)
    for _ in range(60):  # train a little, so that some answers are right and some wrong
        ours.forward(xs, ts)
        ours.backward()
        opt.update(ours.params, ours.grads)
    for p, q in zip(ours.params, theirs.params):
        q[...] = p
    chars = {i: chr(ord("a") + i) for i in range(V)}
    got = eval_seq2seq_batch(ours, xs, ts)
    assert got.shape == (40,)
    want = [eval_seq2seq(theirs, xs[[i]], ts[[i]], chars) for i in range(40)]
    np.testing.assert_array_equal(got, want)
    assert 0 < got.sum() < 40 or got.sum() == 40 and dt == "d"
    # a model of another kind is asked one question at a time
    np.testing.assert_array_equal(eval_seq2seq_batch(theirs, xs, ts), want)


def test_batched_evaluation_rows_are_one_question_calls():
    np.random.seed(5)
    model = AttentionSeq2seq(V, D, 32)  # float32: the rows agree bit for bit, not just nearly
    xs, ts = _data(3, 70)
    many = model.generate_batch(xs, ts[:, 0], 4)
    assert many.shape == (70, 4) and many.dtype == np.intp
    for i in range(70):
        assert many[i].tolist() == model.generate(xs[[i]], ts[i, 0], 4)


@pytest.mark.parametrize("cls,kw", MODELS, ids=IDS)
def test_gradient_check(cls, kw):
    np.random.seed(7)
    model = cls(V, D, 4, dtype=np.float64)
    for p in model.params:  # nonzero biases, larger weights: every path carries gradient
        p += 0.3 * np.random.randn(*p.shape)
    xs, ts = _data(4, 3)
    model.forward(xs, ts)
    model.backward()
    r = np.random.default_rng(0)
    for i, (p, g) in enumerate(zip(model.params, model.grads)):
        for flat in r.choice(p.size, 4, replace=False):
            idx = np.unravel_index(flat, p.shape)
            keep = p[idx]
            p[idx] = keep + 1e-6
            up = model.forward(xs, ts)
            p[idx] = keep - 1e-6
            down = model.forward(xs, ts)
            p[idx] = keep
            num = (up - down) / 2e-6
            assert abs(num - g[idx]) <= 1e-6 + 1e-5 * abs(num), f"params[{i}]{idx}: {g[idx]} vs {num}"


@pytest.mark.parametrize("dec_cls,kw", [(Decoder, {}), (PeekyDecoder, {"peeky": True}),
                                        (AttentionDecoder, {"attention": True})], ids=["plain", "peeky", "attention"])
def test_the_parts_alone_are_the_books(dec_cls, kw):
    enc_cls = AttentionEncoder if kw.get("attention") else Encoder
    np.random.seed(9)
    enc, dec = enc_cls(V, D, H, dtype="d"), dec_cls(V, D, H, dtype="d")
    np.random.seed(9)
    b_enc = (book.AttentionEncoder if kw.get("attention") else book.Encoder)(V, D, H, "d")
    b_dec = _BOOK_DECODER[_key(kw)](V, D, H, "d")
    xs, ts = _data(6)
    h, bh = enc.forward(xs), b_enc.forward(xs)
    np.testing.assert_allclose(h, bh, rtol=1e-12, atol=1e-14)
    score, bscore = dec.forward(ts, h), b_dec.forward(ts, bh)
    np.testing.assert_allclose(score, bscore, rtol=1e-12, atol=1e-14)
    dscore = np.random.default_rng(0).standard_normal(score.shape)
    dh, bdh = dec.backward(dscore), b_dec.backward(dscore)
    assert dh.shape == h.shape
    np.testing.assert_allclose(dh, bdh, rtol=1e-11, atol=1e-13)
    assert enc.backward(dh) is None
    b_enc.backward(bdh)
    for g, bg in zip(enc.grads + dec.grads, b_enc.grads + b_dec.grads):
        np.testing.assert_allclose(g, bg, rtol=1e-11, atol=1e-13 * max(1.0, np.abs(bg).max()))
    first = h[:1] if not kw.get("attention") else h[:1]
    assert dec.generate(first, 3, 5) == b_dec.generate(first, 3, 5)


def test_outputs_are_new_arrays_and_caller_inputs_unchanged():
    np.random.seed(0)
    enc = AttentionEncoder(V, D, H, dtype="d")
    xs, _ = _data()
    keep = xs.copy()
    a = enc.forward(xs)
    b = enc.forward(xs[::-1])
    assert not np.shares_memory(a, b) and not np.array_equal(a, b)
    np.testing.assert_array_equal(xs, keep)


def test_dout_scales_every_gradient():
    xs, ts = _data()
    np.random.seed(1)
    one = Seq2seq(V, D, H, dtype="d")
    np.random.seed(1)
    half = Seq2seq(V, D, H, dtype="d")
    one.forward(xs, ts)
    one.backward()
    half.forward(xs, ts)
    half.backward(0.5)
    for g, h in zip(one.grads, half.grads):
        np.testing.assert_allclose(h, 0.5 * g, rtol=1e-12, atol=1e-15)


def test_ignore_label_rows_add_nothing():
    xs, ts = _data()
    np.random.seed(2)
    ours = Seq2seq(V, D, H, dtype="d")
    np.random.seed(2)
    theirs = book.Seq2seq(V, D, H, "d")
    ts = ts.copy()
    ts[:2, -1] = -1
    assert abs(ours.forward(xs, ts) - theirs.forward(xs, ts)) < 1e-12
    ours.backward()
    theirs.backward()
    for g, h in zip(ours.grads, theirs.grads):
        np.testing.assert_allclose(g, h, rtol=1e-11, atol=1e-14)


def test_bad_input_is_refused_before_any_kernel():
    np.random.seed(0)
    model = AttentionSeq2seq(V, D, H)
    xs, ts = _data()
    with pytest.raises(TypeError):
        Seq2seq(13.0, D, H)
    with pytest.raises(ValueError):
        Seq2seq(0, D, H)
    with pytest.raises(TypeError):
        Seq2seq(V, D, H, dtype=np.int32)
    with pytest.raises(ValueError, match="before forward"):
        model.backward()
    with pytest.raises(TypeError, match="integer ids"):
        model.forward(xs.astype(float), ts)
    with pytest.raises(ValueError, match="id 13"):
        model.forward(np.where(xs == 0, V, xs), ts)
    with pytest.raises(ValueError, match="batch size"):
        model.forward(xs[:3], ts)
    with pytest.raises(ValueError, match="at least 2"):
        model.forward(xs, ts[:, :1])
    with pytest.raises(ValueError, match="decoder's input"):
        model.forward(xs, np.where(ts == ts[0, 0], -1, ts))
    with pytest.raises(ValueError, match=r"\(1, T\)"):
        model.generate(xs, 0, 3)
    with pytest.raises(TypeError):
        model.generate(xs[:1], 0, 2.5)
    with pytest.raises(ValueError):
        model.generate(xs[:1], 0, -1)
    with pytest.raises(ValueError, match="start_id"):
        model.generate(xs[:1], V, 3)
    with pytest.raises(ValueError, match="start_id"):
        model.generate(xs[:1], [1, 2], 3)
    with pytest.raises(ValueError, match=r"start_ids must have shape \(6,\)"):
        model.generate_batch(xs, ts[:3, 0], 3)
    with pytest.raises(TypeError, match="start_ids"):
        model.generate_batch(xs, ts[:, 0] + 0.5, 3)
    with pytest.raises(ValueError):
        eval_seq2seq_batch(model, xs, ts[:3])
    with pytest.raises(TypeError):
        eval_seq2seq_batch(model, xs, ts.astype(float))
    with pytest.raises(ValueError, match="shape"):
        Decoder(V, D, H).forward(ts, np.zeros((N, H + 1), np.float32))
    with pytest.raises(ValueError, match="dscore"):
        dec = Decoder(V, D, H)
        dec.forward(ts, np.zeros((N, H), np.float32))
        dec.backward(np.zeros((N, TA, V + 1), np.float32))


def test_replaced_params_between_forward_and_backward_are_named():
    np.random.seed(0)
    model = Seq2seq(V, D, H)
    xs, ts = _data()
    model.forward(xs, ts)
    model.encoder.params[1] = np.zeros((D + 1, 4 * H), np.float32)  # consistent, but not what forward used
    with pytest.raises(ValueError, match="changed shape"):
        model.backward()
    np.random.seed(0)
    model = Seq2seq(V, D, H)
    model.forward(xs, ts)
    model.decoder.params[0] = np.zeros((2, D), np.float32)  # fewer words than forward's ids
    with pytest.raises(ValueError, match="changed shape"):
        model.backward()
    model = Seq2seq(V, D, H)
    model.forward(xs, ts)
    model.grads[0].flags.writeable = False
    with pytest.raises(ValueError, match="grads"):
        model.backward()


def test_save_and_load_params(tmp_path):
    np.random.seed(0)
    model = PeekySeq2seq(V, D, H)
    path = tmp_path / "PeekySeq2seq.pkl"
    model.save_params(str(path))
    other = PeekySeq2seq(V, D, H)
    other.load_params(str(path))
    for p, q in zip(model.params, other.params):
        np.testing.assert_array_equal(p.astype(np.float16), q)
