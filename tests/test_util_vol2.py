"""fastprop.util_vol2 against a transcription of the book's ``common/util.py`` functions."""
import numpy as np
import pytest

from fastprop import util_vol2 as U

TEXT = "You say goodbye and I say hello."


def book_co_matrix(corpus, vocab_size, window_size=1):
    co = np.zeros((vocab_size, vocab_size), dtype=np.int32)
    for idx, w in enumerate(corpus):
        for i in range(1, window_size + 1):
            if idx - i >= 0:
                co[w, corpus[idx - i]] += 1
            if idx + i < len(corpus):
                co[w, corpus[idx + i]] += 1
    return co


def book_ppmi(C, eps=1e-8):
    M = np.zeros_like(C, dtype=np.float32)
    N, S = np.sum(C), np.sum(C, axis=0)
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            with np.errstate(divide="ignore", invalid="ignore"):
                M[i, j] = max(0, np.log2(C[i, j] * N / (S[j] * S[i]) + eps))
    return M


def test_preprocess_is_the_books():
    corpus, w2i, i2w = U.preprocess(TEXT)
    assert corpus.tolist() == [0, 1, 2, 3, 4, 1, 5, 6]
    assert w2i == {"you": 0, "say": 1, "goodbye": 2, "and": 3, "i": 4, "hello": 5, ".": 6}
    assert i2w == {v: k for k, v in w2i.items()}


@pytest.mark.parametrize("window", [1, 2, 3])
def test_co_matrix_and_ppmi_match_the_book(window):
    rng = np.random.default_rng(window)
    corpus = rng.integers(0, 25, 400)
    corpus[-1] = 29  # ids 25..28 never occur: rows and columns of zeros (0/0 in PPMI)
    C = U.create_co_matrix(corpus, 30, window)
    expected = book_co_matrix(corpus, 30, window)
    assert C.dtype == np.int32 and C.shape == (30, 30)
    np.testing.assert_array_equal(C, expected)
    M = U.ppmi(C)
    assert M.dtype == np.float32
    np.testing.assert_allclose(M, book_ppmi(expected), rtol=1e-6, atol=1e-6)
    assert not M[25:29].any()


def test_ppmi_verbose_prints_the_books_progress(capsys):
    C = U.create_co_matrix(U.preprocess(TEXT)[0], 7)
    U.ppmi(C, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2.0% done" and lines[-1] == "100.0% done"


def test_contexts_target_and_one_hot():
    corpus, _, _ = U.preprocess(TEXT)
    contexts, target = U.create_contexts_target(corpus, 1)
    assert contexts.tolist() == [[0, 2], [1, 3], [2, 4], [3, 1], [4, 5], [1, 6]]
    assert target.tolist() == [1, 2, 3, 4, 1, 5]
    oh = U.convert_one_hot(contexts, 7)
    assert oh.shape == (6, 2, 7) and oh.dtype == np.int32
    assert (oh.argmax(-1) == contexts).all() and oh.sum() == 12
    assert U.convert_one_hot(target, 7).shape == (6, 7)


def test_most_similar_and_analogy_print_what_the_book_prints(capsys):
    corpus, w2i, i2w = U.preprocess(TEXT)
    W = U.ppmi(U.create_co_matrix(corpus, len(w2i)))
    U.most_similar("you", w2i, i2w, W, top=3)
    out = capsys.readouterr().out.splitlines()
    nx = W / (np.sqrt(np.sum(W ** 2, axis=1, keepdims=True)) + 1e-8)
    sims = [float(np.dot(nx[i], nx[0])) for i in range(7)]
    order = [i for i in np.argsort([-s for s in sims], kind="quicksort") if i != 0][:3]
    assert out[:2] == ["", "[query] you"]
    assert [line.split(":")[0].strip() for line in out[2:]] == [i2w[i] for i in order]
    U.most_similar("nobody", w2i, i2w, W)
    assert capsys.readouterr().out == "nobody is not found\n"
    U.analogy("you", "say", "i", w2i, i2w, W.copy(), top=2)
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "[analogy] you:say = i:?" and len(out) == 4


def test_clip_grads_and_normalize_in_place():
    g = [np.full(4, 3.0), np.full(2, 4.0)]
    norm = np.sqrt(36 + 32)
    U.clip_grads(g, 1.0)
    np.testing.assert_allclose(g[0], 3.0 / (norm + 1e-6))
    x = np.array([[3.0, 4.0], [1.0, 0.0]])
    assert U.normalize(x) is x and np.allclose(x, [[0.6, 0.8], [1, 0]])


class _Echo:
    def __init__(self):
        self.calls = []

    def forward(self, xs, ts):
        self.calls.append((xs.copy(), ts.copy()))
        return 1.5


def test_eval_perplexity_walks_the_books_batches(capsys):
    corpus = np.arange(100) % 13
    model = _Echo()
    assert np.isclose(U.eval_perplexity(model, corpus, batch_size=3, time_size=5), np.exp(1.5))
    xs, ts = model.calls[1]
    jump = 99 // 3
    assert xs.dtype == np.int32 and xs.shape == (3, 5)
    assert xs[2, 0] == corpus[5 + 2 * jump] and ts[2, 4] == corpus[(5 + 2 * jump + 5) % 100]
    assert len(model.calls) == 99 // 15


@pytest.mark.parametrize("call, exc", [
    (lambda: U.preprocess(""), ValueError),
    (lambda: U.preprocess(b"abc"), TypeError),
    (lambda: U.create_co_matrix(np.array([0, 1, 5]), 3), ValueError),
    (lambda: U.create_co_matrix(np.array([0, -1]), 3), ValueError),
    (lambda: U.create_co_matrix(np.array([0.0, 1.0]), 3), TypeError),
    (lambda: U.create_co_matrix(np.array([0, 1]), True), TypeError),
    (lambda: U.create_contexts_target(np.array([4]), 1), ValueError),
    (lambda: U.ppmi(np.ones((3, 3))), TypeError),
    (lambda: U.ppmi(-np.ones((3, 3), int)), ValueError),
    (lambda: U.convert_one_hot(np.array([0, 3]), 3), ValueError),
    (lambda: U.to_gpu(np.zeros(2)), RuntimeError),
    (lambda: U.to_cpu([1, 2]), TypeError),
    (lambda: U.normalize(np.array([1, 2])), TypeError),
    (lambda: U.clip_grads([np.ones(2)], -1.0), ValueError),
])
def test_bad_input_is_a_clear_error(call, exc):
    with pytest.raises(exc):
        call()
