"""vol. 2 ch. 4's CBOW and SkipGram: the book's algorithm (written out here in NumPy), the
Trainer's layer path against the compiled train_steps (the same numbers), the fast
options, and the checks."""
import pathlib

import numpy as np
import pytest

from fastprop import Trainer
from fastprop import optimizers as O
from fastprop.layers import UnigramSampler
from fastprop.nets import CBOW, SkipGram
from fastprop.trainer.grads import remove_duplicate
from fastprop.util_vol2 import create_contexts_target

SHARED = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
V, H, WINDOW = 40, 8, 2


@pytest.fixture(scope="module")
def words():
    r = np.random.default_rng(0)
    corpus = np.concatenate([np.arange(V), r.zipf(1.5, 2000) % V])
    contexts, target = create_contexts_target(corpus, WINDOW)
    return corpus, contexts, target


def book_negatives(word_p, target, size):
    """The book's UnigramSampler.get_negative_sample, from the global RNG."""
    out = np.zeros((target.shape[0], size), np.int32)
    for i in range(target.shape[0]):
        p = word_p.copy()
        p[target[i]] = 0
        p /= p.sum()
        out[i] = np.random.choice(word_p.shape[0], size=size, replace=False, p=p)
    return out


def book_ns_loss(W_out, h, target, negatives):
    """The book's NegativeSamplingLoss forward and backward: (loss, dh, dW_out)."""
    n = target.shape[0]
    loss, dh, dW = 0.0, 0, np.zeros_like(W_out)
    for ids, label in [(target, 1)] + [(negatives[:, k], 0) for k in range(negatives.shape[1])]:
        rows = W_out[ids]
        y = 1 / (1 + np.exp(-np.sum(rows * h, axis=1)))
        loss += -np.sum(np.log(np.c_[1 - y, y][np.arange(n), label] + 1e-7)) / n
        d = ((y - label) / n).reshape(n, 1)
        np.add.at(dW, ids, d * h)
        dh = dh + d * rows
    return loss, dh, dW


def book_cbow(W_in, W_out, contexts, target, word_p):
    negatives = book_negatives(word_p, target, 5)
    C = contexts.shape[1]
    h = sum(W_in[contexts[:, i]] for i in range(C)) / C
    loss, dh, dW_out = book_ns_loss(W_out, h, target, negatives)
    dW_in = np.zeros_like(W_in)
    for i in range(C):
        np.add.at(dW_in, contexts[:, i], dh / C)
    return loss, dW_in, dW_out


def book_skipgram(W_in, W_out, contexts, target, word_p):
    h = W_in[target]
    loss, dh, dW_out = 0.0, 0, np.zeros_like(W_out)
    for i in range(contexts.shape[1]):
        negatives = book_negatives(word_p, contexts[:, i], 5)
        li, dhi, dWi = book_ns_loss(W_out, h, contexts[:, i], negatives)
        loss, dh, dW_out = loss + li, dh + dhi, dW_out + dWi
    dW_in = np.zeros_like(W_in)
    np.add.at(dW_in, target, dh)
    return loss, dW_in, dW_out


@pytest.mark.parametrize("cls, book", [(CBOW, book_cbow), (SkipGram, book_skipgram)])
def test_forward_backward_are_the_books(words, cls, book):
    corpus, contexts, target = words
    np.random.seed(3)
    model = cls(V, H, WINDOW, corpus, dtype=np.float64)
    np.random.seed(3)
    W_in = 0.01 * np.random.randn(V, H)
    W_out = 0.01 * np.random.randn(V, H)
    np.testing.assert_array_equal(model.word_vecs, W_in)
    np.random.seed(11)
    loss = model.forward(contexts[:30], target[:30])
    model.backward()
    after = np.random.get_state()[2]
    params, grads = remove_duplicate(model.params, model.grads)
    assert len(params) == 2 and params[0] is model.word_vecs
    word_p = UnigramSampler(corpus, 0.75, 5).word_p
    np.random.seed(11)
    e_loss, e_in, e_out = book(W_in, W_out, contexts[:30], target[:30], word_p)
    assert np.random.get_state()[2] == after  # the same draws, in the same order
    assert loss == pytest.approx(e_loss, rel=1e-12)
    np.testing.assert_allclose(grads[0], e_in, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads[1], e_out, rtol=1e-12, atol=1e-15)


def test_the_books_constructor_draws_float32_weights_as_the_book():
    corpus = np.arange(10).repeat(3)
    np.random.seed(0)
    model = CBOW(10, 4, 1, corpus)
    np.random.seed(0)
    W_in = 0.01 * np.random.randn(10, 4).astype('f')
    W_out = 0.01 * np.random.randn(10, 4).astype('f')
    assert model.word_vecs.dtype == np.float32
    np.testing.assert_array_equal(model.params[0], W_in)
    np.testing.assert_array_equal(model.params[-1], W_out)
    assert len(model.params) == 2 + 6 and all(p is model.params[0] for p in model.params[:2])


def _fit(model, contexts, target, optimizer, compiled, epochs=2, **kw):
    if not compiled:
        model.train_steps = None  # the Trainer's layer-by-layer path
    trainer = Trainer(model, optimizer)
    trainer.fit(contexts, target, max_epoch=epochs, batch_size=30, eval_interval=10, **kw)
    return trainer


OPTS = [(O.Adam, {}), (O.SGD, dict(lr=0.5)), (O.Momentum, dict(lr=0.1)), (O.AdaGrad, dict(lr=0.1))]


@pytest.mark.parametrize("cls", [CBOW, SkipGram])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt, kw", OPTS)
@pytest.mark.parametrize("draws", ["book", "fast"])
def test_train_steps_give_the_layer_paths_numbers(words, cls, dtype, opt, kw, draws):
    """The Trainer over the compiled steps and over the layers: the same losses, weights,
    optimizer state and global RNG state, bit for bit (a quiet fit, where the Trainer would
    otherwise run the later epochs in bulk)."""
    corpus, contexts, target = words
    runs = []
    for compiled in (False, True):
        np.random.seed(5)
        model = cls(V, H, WINDOW, corpus, dtype=dtype, draws=draws)
        optimizer = opt(**kw)
        trainer = _fit(model, contexts, target, optimizer, compiled, progress=False, verbose=False)
        state = [s.copy() for name in optimizer.state_names for s in getattr(optimizer, name).values()]
        runs.append((trainer.loss_list, model.params[0].copy(), model.params[-1].copy(), state,
                     np.random.get_state()[1].copy(), np.random.get_state()[2], getattr(optimizer, "iter", 0)))
    (l0, a0, b0, s0, k0, p0, i0), (l1, a1, b1, s1, k1, p1, i1) = runs
    assert l0 == l1 and len(l0) > 5
    np.testing.assert_array_equal(a0, a1)
    np.testing.assert_array_equal(b0, b1)
    for x, y in zip(s0, s1, strict=True):
        np.testing.assert_array_equal(x, y)
    assert (k0 == k1).all() and p0 == p1 and i0 == i1


def test_sparse_update_first_step_is_the_books_then_training_works(words):
    corpus, contexts, target = words
    idx = np.arange(60)
    np.random.seed(2)
    dense = CBOW(V, H, WINDOW, corpus)
    np.random.seed(2)
    sparse = CBOW(V, H, WINDOW, corpus, sparse_update=True)
    o1, o2 = O.Adam(), O.Adam()
    np.random.seed(4)
    dense.train_steps(contexts, target, idx[:30], 30, o1)
    np.random.seed(4)
    sparse.train_steps(contexts, target, idx[:30], 30, o2)
    # Adam from zero state moves nothing where the gradient is 0: step 1 is the same
    np.testing.assert_array_equal(dense.word_vecs, sparse.word_vecs)
    dense.train_steps(contexts, target, idx[30:], 30, o1)
    sparse.train_steps(contexts, target, idx[30:], 30, o2)
    assert not np.array_equal(dense.word_vecs, sparse.word_vecs)
    trainer = _fit(sparse, contexts, target, O.Adam(lr=0.01), True, epochs=8, progress=False, verbose=False)
    assert trainer.loss_list[-1] < 0.9 * trainer.loss_list[0]


def test_the_fast_sampler_keeps_distinct_negatives_and_never_the_target(words):
    corpus = words[0]
    sampler = UnigramSampler(corpus, 0.75, 5, draws="fast")
    target = np.random.randint(0, V, 500)
    neg = sampler.get_negative_sample(target)
    assert neg.shape == (500, 5) and neg.dtype == np.int32
    assert (neg != target[:, None]).all()
    assert all(len(set(row)) == 5 for row in neg.tolist())


def test_unsupported_cases_fall_back_to_the_layers(words):
    corpus, contexts, target = words
    model = CBOW(V, H, WINDOW, corpus)

    class Mine:
        def update(self, params, grads):
            pass

    assert model.train_steps(contexts, target, np.arange(30), 30, Mine()) is None
    model.params[1] = model.params[1].copy()  # no longer one shared W_in
    assert model.train_steps(contexts, target, np.arange(30), 30, O.Adam()) is None


def _put(a, value):
    a = a.copy()
    a.reshape(-1)[0] = value  # row 0: in the first batch
    return a


@pytest.mark.parametrize("change, exc, match", [
    (lambda c, t, i: (c.astype(float), t, i), TypeError, "integer word ids"),
    (lambda c, t, i: (_put(c, -1), t, i), ValueError, "word id -1"),
    (lambda c, t, i: (c, _put(t, V), i), ValueError, f"word id {V}"),
    (lambda c, t, i: (c[:, :3], t, i), ValueError, r"\(N, 4\)"),
    (lambda c, t, i: (c, t[:-1], i), ValueError, "one per row"),
    (lambda c, t, i: (c, t, i + len(t)), ValueError, "idx must index"),
    (lambda c, t, i: (c, t, i.astype(float)), TypeError, "idx"),
    (lambda c, t, i: (c, t, i[:10]), ValueError, "fewer than one batch"),
])
def test_train_steps_refuses_bad_input_before_any_work(words, change, exc, match):
    corpus, contexts, target = words
    model = CBOW(V, H, WINDOW, corpus)
    before = model.word_vecs.copy()
    state = np.random.get_state()[2]
    c, t, i = change(contexts, target, np.arange(60))
    with pytest.raises(exc, match=match):
        model.train_steps(c, t, i, 30, O.Adam())
    np.testing.assert_array_equal(model.word_vecs, before)
    assert np.random.get_state()[2] == state


@pytest.mark.parametrize("kw, exc", [
    (dict(vocab_size=10.0), TypeError), (dict(vocab_size=0), ValueError), (dict(hidden_size=True), TypeError),
    (dict(window_size=-1), ValueError), (dict(dtype=np.int32), TypeError), (dict(draws="exact"), ValueError),
    (dict(draws=1), TypeError), (dict(sparse_update=1), TypeError), (dict(vocab_size=5), ValueError),
    (dict(corpus=np.arange(V) + 0.5), TypeError),
])
def test_constructor_checks(words, kw, exc):
    args = dict(vocab_size=V, hidden_size=H, window_size=WINDOW, corpus=words[0]) | kw
    for cls in (CBOW, SkipGram):
        with pytest.raises(exc):
            cls(**args)


@pytest.mark.skipif(not (SHARED / "ptb.valid.txt").is_file(),
                    reason="the shared test data folder (../shared/data) is absent")
def test_real_text_ptb_valid_as_a_stand_in_corpus():
    """PTB's validation text (the train file is not on these machines): one epoch of the
    fast CBOW lowers the loss from log(2) * 6 = 4.16 at the start."""
    from fastprop.datasets.ptb import build_vocab, words_of

    text = words_of((SHARED / "ptb.valid.txt").read_text())
    word_to_id, _ = build_vocab(text)
    corpus = np.array([word_to_id[w] for w in text])
    contexts, target = create_contexts_target(corpus, 5)
    np.random.seed(0)
    model = CBOW(len(word_to_id), 50, 5, corpus, draws="fast", sparse_update=True)
    trainer = Trainer(model, O.Adam())
    trainer.fit(contexts, target, max_epoch=1, batch_size=100, eval_interval=100, progress=False, verbose=False)
    assert trainer.loss_list[0] == pytest.approx(4.16, abs=0.01)
    assert trainer.loss_list[-1] < 3.0


@pytest.mark.parametrize("mode", ["dropin", "exact", "fast"])
def test_make_step_for_the_bench(mode):
    from fastprop.nets.word2vec import make_step

    step, label = make_step("cbow", mode, vocab_size=300, hidden_size=8, window_size=2, batch_size=20)
    first = step()
    assert np.isfinite(first) and abs(first - 6 * np.log(2)) < 0.01 and "cbow " + mode in label
    with pytest.raises(ValueError, match="mode"):
        make_step("cbow", "quick")


def test_sampler_refuses_a_corpus_with_a_huge_id_before_counting():
    # np.bincount would allocate 10**12 counts (8 TB) before the "every id occurs" check
    with pytest.raises(ValueError, match=r"largest, 1000000000000, but it has only 3 words"):
        UnigramSampler(np.array([0, 1, 10**12]), 0.75, 1)
    with pytest.raises(ValueError, match="expected word ids >= 0"):
        UnigramSampler(np.array([0, 1, -1]), 0.75, 1)


def test_a_vocabulary_that_cannot_fit_is_refused_before_drawing_weights():
    with pytest.raises(ValueError, match=r"vocab_size=1000000000 with hidden_size=100 asks for a word-vector"):
        CBOW(10**9, 100, 1, np.arange(5))
