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


# a small hand-made vocabulary: "a b c" with one 2-D vector per word
W2I = {"a": 0, "b": 1, "c": 2}
I2W = {0: "a", 1: "b", 2: "c"}
VECS = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])


@pytest.mark.parametrize("w2i, i2w, words", [
    ({"a": 0, "b": 1, "c": 7}, I2W, "word_to_id['c'] is 7"),                    # id beyond the matrix
    ({"a": 0, "b": 1, "c": -1}, I2W, "word_to_id['c'] is -1"),
    ({"a": 0, "b": 2, "c": 1}, I2W, "disagree"),                                  # swapped ids
    ({"a": 0, "b": 1, "c": "2"}, I2W, "word_to_id['c'] is '2'"),
    (W2I, {0: "a", 1: "b", 5: "c"}, "every id 0..2"),                             # a gap in the ids
    (W2I, {0: "a", 1: "b", "2": "c"}, "every id 0..2"),
])
@pytest.mark.parametrize("call", ["most_similar", "analogy"])
def test_inconsistent_dictionaries_are_a_clear_value_error(w2i, i2w, words, call, capsys):
    """The book's code raised IndexError/KeyError here (or ranked the wrong row)."""
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        if call == "most_similar":
            U.most_similar("c", w2i, i2w, VECS, top=2)
        else:
            U.analogy("a", "b", "c", w2i, i2w, VECS.copy(), top=1)
    assert capsys.readouterr().out == ""  # nothing printed before the error


def test_analogy_needs_a_word_for_every_ranked_row(capsys):
    with pytest.raises(ValueError, match="4 rows but id_to_word names 3 words"):
        U.analogy("a", "b", "c", W2I, I2W, np.vstack([VECS, VECS[:1]]), top=1)
    with pytest.raises(ValueError, match="answer 'z'"):
        U.analogy("a", "b", "c", W2I, I2W, VECS.copy(), top=1, answer="z")


def test_consistent_dictionaries_give_the_hand_computed_ranking(capsys):
    U.most_similar("a", W2I, I2W, VECS, top=2)
    out = capsys.readouterr().out.splitlines()
    # cos(a, b) = 0.8, cos(a, c) = 0 (unit vectors: the dot products)
    assert out[1] == "[query] a" and out[2].startswith(" b: 0.79999") and out[3].startswith(" c: 0.0")
    U.analogy("a", "b", "c", W2I, I2W, VECS.copy(), top=1, answer="b")
    out = capsys.readouterr().out.splitlines()
    # b - a + c = (-0.2, 1.6): every row is a, b or c, so only the answer's line follows
    query = np.array([-0.2, 1.6]) / np.hypot(0.2, 1.6)
    assert out[1:] == ["[analogy] a:b = c:?", "==>b:" + str(np.dot(VECS[1], query))]


# ------------------------------------------------------------------------------------------
# Numbers a hostile caller chooses (issue 19, group 4): a clear ValueError naming the
# argument, never garbage, a wrapped count, a MemoryError or a Numba integer error.

def test_ppmi_refuses_a_non_square_matrix():
    with pytest.raises(ValueError, match=r"square \(V, V\).*\(2, 3\)"):
        U.ppmi(np.ones((2, 3), np.int32))


def test_ppmi_of_unsigned_counts_is_the_books_or_refused_never_wrapped():
    rng = np.random.default_rng(0)
    C = rng.integers(0, 2**20, (4, 4)).astype(np.uint64)
    np.testing.assert_array_equal(U.ppmi(C), book_ppmi(C.astype(np.int64)))
    for big in (2**63 + 5, 2**62, 2**40):  # C[i, j] * N or the total beyond int64
        C = np.array([[0, big], [big, 1]], np.uint64)
        with pytest.raises(ValueError, match=r"int64.*\(2\*\*63 - 1\)"):
            U.ppmi(C)


@pytest.mark.parametrize("call, match", [
    (lambda: U.create_co_matrix(np.array([0, 1, 2]), 10**6), r"vocab_size=1000000 .*co-occurrence matrix"),
    (lambda: U.create_co_matrix(np.array([0, 1, 2]), 2**70), r"vocab_size=\d+ .*more than"),
    (lambda: U.convert_one_hot(np.arange(10), 10**9), r"vocab_size=1000000000 .*one-hot"),
])
def test_sizes_that_cannot_fit_are_a_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_window_wider_than_the_corpus_counts_the_whole_corpus_at_once():
    corpus = np.array([0, 1, 2, 1, 3])
    want = book_co_matrix(corpus, 4, len(corpus) - 1)
    for window in (len(corpus) - 1, 10**12, 2**70):  # no loop of 10**12 steps, no int64 overflow
        np.testing.assert_array_equal(U.create_co_matrix(corpus, 4, window), want)


def test_a_negative_id_in_a_corpus_is_reported_as_negative_not_against_2_63():
    with pytest.raises(ValueError, match=r"holds word id -3, expected word ids >= 0") as exc:
        U.create_contexts_target(np.array([0, -3, 2, 1]), 1)
    assert "9223372036854775807" not in str(exc.value)
    with pytest.raises(ValueError, match="more than int64"):
        U.create_contexts_target(np.array([0, 2**64 - 1, 2], np.uint64), 1)


def test_an_id_beyond_vocab_size_names_vocab_size_not_a_weight():
    for call in (lambda: U.create_co_matrix(np.array([0, 5]), 3), lambda: U.convert_one_hot(np.array([0, 5]), 3)):
        with pytest.raises(ValueError, match=r"holds word id 5, expected ids in \[0, 3\) \(vocab_size=3\)$"):
            call()
