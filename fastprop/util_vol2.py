"""vol. 2's ``common/util.py``: text preprocessing, co-occurrence and PPMI (compiled),
similarity search and analogies (printing what the book prints), gradient clipping and the
evaluation helpers of ch. 5-7. fastprop is CPU-only: ``to_gpu`` is an error."""
from __future__ import annotations

import numbers
import os
import sys

import numpy as np

from . import validate
from .kernels import cooccurrence
from .layers.embedding import word_ids
from .trainer.grads import clip_grads  # noqa: F401  (the book's util has it; one implementation)


def preprocess(text: str):
    """``(corpus, word_to_id, id_to_word)`` of ``text``: lower-cased, ``'.'`` split off as a
    word, split on single spaces, ids in order of first appearance (the book's rules).

    Parameters
    ----------
    text : str, non-empty

    Returns
    -------
    corpus : (T,) int array of word ids
    word_to_id : dict str -> int
    id_to_word : dict int -> str
    """
    validate.check_type(text, str, "text", "a str")
    if not text:
        raise ValueError("text is empty: there is no word to build a corpus from")
    words = text.lower().replace(".", " .").split(" ")
    word_to_id, id_to_word = {}, {}
    for word in words:
        if word not in word_to_id:
            new_id = len(word_to_id)
            word_to_id[word] = new_id
            id_to_word[new_id] = word
    return np.array([word_to_id[w] for w in words]), word_to_id, id_to_word


def _vector(x, name: str) -> np.ndarray:
    x = validate.as_real(x, name)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D vector, got shape {x.shape}")
    return x


def cos_similarity(x, y, eps: float = 1e-8) -> float:
    """``(x / (|x| + eps)) . (y / (|y| + eps))``, as the book computes it."""
    x, y = _vector(x, "x"), _vector(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape} and {y.shape}")
    eps = validate.check_scalar(eps, "eps", float, low=0.0)
    nx = x / (np.sqrt(np.sum(x ** 2)) + eps)
    ny = y / (np.sqrt(np.sum(y ** 2)) + eps)
    return np.dot(nx, ny)


def _vocab(word_to_id, id_to_word, word_matrix, every_row: bool = False):
    """``word_matrix`` as a float array after checking the dictionaries against it: id_to_word
    maps every id 0..V-1 (the rows ranked) to a word; ``every_row`` (analogy ranks every
    row of the matrix) asks for exactly V rows."""
    validate.check_type(word_to_id, dict, "word_to_id", "a dict (as preprocess returns it)")
    validate.check_type(id_to_word, dict, "id_to_word", "a dict (as preprocess returns it)")
    m = validate.as_real(word_matrix, "word_matrix")
    n = len(id_to_word)
    if m.ndim != 2 or m.shape[0] < n:
        raise ValueError(f"word_matrix must be 2-D with a row per word ({n}), got {m.shape}")
    if every_row and m.shape[0] != n:
        raise ValueError(f"word_matrix has {m.shape[0]} rows but id_to_word names {n} words: every row "
                         "is ranked, so each needs a word (pass the matrix of this vocabulary)")
    if set(id_to_word) != set(range(n)):
        odd = sorted(repr(k) for k in id_to_word if not (isinstance(k, numbers.Integral) and 0 <= k < n))
        raise ValueError(f"id_to_word must map every id 0..{n - 1} to a word (as preprocess returns it); "
                         f"it has keys outside that range: {', '.join(odd[:5])}")
    return m


def _word_id(word, word_to_id: dict, id_to_word: dict) -> int:
    """``word_to_id[word]`` after checking the two dictionaries agree on it."""
    i = word_to_id[word]
    if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) or not 0 <= i < len(id_to_word) \
            or id_to_word[int(i)] != word:
        where = id_to_word.get(i) if isinstance(i, numbers.Integral) else None
        raise ValueError(f"word_to_id[{word!r}] is {i!r}, but id_to_word[{i!r}] is {where!r}: the two "
                         "dictionaries disagree (build both with preprocess, or pass the pair it returned)")
    return int(i)


def most_similar(query: str, word_to_id: dict, id_to_word: dict, word_matrix, top: int = 5) -> None:
    """Print the ``top`` words most cosine-similar to ``query``, as the book prints them."""
    top = validate.positive_int(top, "top")
    m = _vocab(word_to_id, id_to_word, word_matrix)
    if query not in word_to_id:
        print('%s is not found' % query)
        return
    query_vec = m[_word_id(query, word_to_id, id_to_word)]
    print('\n[query] ' + query)
    vocab_size = len(id_to_word)
    similarity = np.zeros(vocab_size)
    # one 1-D dot per word, as the book: a matrix-vector product would round differently
    # in the last digit, and these numbers are printed
    for i in range(vocab_size):
        similarity[i] = cos_similarity(m[i], query_vec)
    count = 0
    for i in (-1 * similarity).argsort():
        if id_to_word[i] == query:
            continue
        print(' %s: %s' % (id_to_word[i], similarity[i]))
        count += 1
        if count >= top:
            return


def convert_one_hot(corpus, vocab_size: int) -> np.ndarray:
    """(N, V) or (N, C, V) int32 one-hot rows of a 1-D or 2-D array of word ids."""
    vocab_size = validate.positive_int(vocab_size, "vocab_size")
    ids = word_ids(corpus, vocab_size, "corpus", f"vocab_size={vocab_size}")
    if ids.ndim not in (1, 2):
        raise ValueError(f"corpus must be 1-D or 2-D word ids, got shape {ids.shape}")
    shape = validate.allocation(ids.shape + (vocab_size,), np.int32, f"vocab_size={vocab_size}",
                                "one-hot rows")
    one_hot = np.zeros(shape, dtype=np.int32)
    np.put_along_axis(one_hot, ids[..., None], 1, axis=-1)
    return one_hot


def _corpus(corpus, vocab_size=None) -> np.ndarray:
    ids = word_ids(corpus, vocab_size, "corpus", None if vocab_size is None else f"vocab_size={vocab_size}")
    if ids.ndim != 1:
        raise ValueError(f"corpus must be a 1-D sequence of word ids, got shape {ids.shape}")
    return ids


def create_co_matrix(corpus, vocab_size: int, window_size: int = 1) -> np.ndarray:
    """(V, V) int32 co-occurrence counts within ``window_size`` words (compiled)."""
    vocab_size = validate.positive_int(vocab_size, "vocab_size")
    window_size = validate.positive_int(window_size, "window_size")
    ids = _corpus(corpus, vocab_size)
    shape = validate.allocation((vocab_size, vocab_size), np.int32, f"vocab_size={vocab_size}",
                                "a co-occurrence matrix")
    # a window wider than the corpus counts what the whole corpus counts (and a huge one
    # would loop for ever, or not fit the kernel's int64)
    window = min(window_size, max(ids.shape[0] - 1, 1))
    return cooccurrence.co_matrix(ids, window, np.empty(shape, np.int32))


def _exact_sums(C):
    """``(N, S)``: the total and the column sums of the counts as int64, when the kernel's
    int64 products ``C[i, j] * N`` and ``S[i] * S[j]`` are all exact; a ValueError when any
    would wrap (counts near 2**63 in a uint64 matrix, or merely large ones)."""
    limit = np.iinfo(np.int64).max
    # float64 sums first: they cannot wrap, and are exact to far better than the factor 2
    # of margin taken here
    Sf = np.sum(C, axis=0, dtype=np.float64)
    if float(Sf.sum()) >= 2.0**62:
        raise ValueError(f"C's counts sum to about {float(Sf.sum()):.3g}, more than the int64 PPMI "
                         "computes with (2**63 - 1); scale the counts down")
    S = np.ascontiguousarray(np.sum(C, axis=0, dtype=np.int64))
    total = int(S.sum())
    biggest = int(C.max()) * total
    if biggest > limit or int(S.max()) ** 2 > limit:
        raise ValueError(f"C's counts are too large to compute PPMI exactly: C[i, j] * N reaches "
                         f"{biggest} and S[i] * S[j] {int(S.max()) ** 2}, beyond int64 (2**63 - 1); "
                         "scale the counts down")
    return total, S


def ppmi(C, verbose: bool = False, eps: float = 1e-8) -> np.ndarray:
    """Positive pointwise mutual information of a co-occurrence matrix, float32 (compiled).

    ``verbose`` prints the book's progress lines (after the compiled loop, which does not
    stop to print).
    """
    verbose = validate.flag(verbose, "verbose")
    eps = validate.check_scalar(eps, "eps", float, low=0.0)
    C = np.asarray(C)
    if C.dtype.kind not in "iu":
        raise TypeError(f"C must be an integer co-occurrence matrix, got {validate.describe(C)}")
    if C.ndim != 2 or C.size == 0 or C.shape[0] != C.shape[1]:
        raise ValueError(f"C must be a non-empty square (V, V) co-occurrence matrix (a row and a "
                         f"column per word), got shape {C.shape}")
    if (C < 0).any():
        raise ValueError("C holds negative counts")
    C = np.ascontiguousarray(C)
    total, S = _exact_sums(C)
    out = np.empty(validate.allocation(C.shape, np.float32, "C", "a PPMI matrix"), np.float32)
    M = cooccurrence.ppmi(C, total, S, eps, out)
    if verbose:
        n = C.shape[0] * C.shape[1]
        for cnt in range(n // 100 + 1, n + 1, n // 100 + 1):
            print('%.1f%% done' % (100 * cnt / n))
    return M


def create_contexts_target(corpus, window_size: int = 1):
    """``(contexts (T - 2w, 2w), target (T - 2w,))`` of a corpus, as the book builds them."""
    window_size = validate.positive_int(window_size, "window_size")
    ids = _corpus(corpus)
    src = np.asarray(corpus)
    n = ids.shape[0]
    if n <= 2 * window_size:
        raise ValueError(f"corpus has {n} words: a window of {window_size} on each side needs at "
                         f"least {2 * window_size + 1}")
    offsets = [t for t in range(-window_size, window_size + 1) if t != 0]
    contexts = np.stack([src[window_size + t:n - window_size + t] for t in offsets], axis=1)
    return np.array(contexts), np.array(src[window_size:-window_size])


def to_cpu(x):
    """``x`` itself: fastprop's arrays are NumPy arrays already."""
    validate.check_type(x, np.ndarray, "to_cpu's x", "a NumPy array")
    return x


def to_gpu(x):
    """Not available: fastprop runs on the CPU only (the book's GPU path needs CuPy)."""
    raise RuntimeError("fastprop is CPU-only: to_gpu is not available; run the book's script "
                       "with GPU = False in common/config.py")


def eval_perplexity(model, corpus, batch_size: int = 10, time_size: int = 35) -> float:
    """The book's perplexity of ``model`` over ``corpus`` (``model.forward(xs, ts[, train_flg])``)."""
    batch_size = validate.positive_int(batch_size, "batch_size")
    time_size = validate.positive_int(time_size, "time_size")
    corpus = _corpus(corpus)
    print('evaluating perplexity ...')
    corpus_size = len(corpus)
    max_iters = (corpus_size - 1) // (batch_size * time_size)
    if max_iters == 0:
        raise ValueError(f"corpus of {corpus_size} words is too short for one batch of "
                         f"{batch_size} x {time_size} (+1)")
    jump = (corpus_size - 1) // batch_size
    total_loss = 0
    steps = np.arange(time_size)
    for iters in range(max_iters):
        offsets = iters * time_size + jump * np.arange(batch_size)
        pos = offsets[:, None] + steps[None, :]
        xs = corpus[pos % corpus_size].astype(np.int32)
        ts = corpus[(pos + 1) % corpus_size].astype(np.int32)
        try:
            loss = model.forward(xs, ts, train_flg=False)
        except TypeError:
            loss = model.forward(xs, ts)
        total_loss += loss
        sys.stdout.write('\r%d / %d' % (iters, max_iters))
        sys.stdout.flush()
    print('')
    return np.exp(total_loss / max_iters)


def eval_seq2seq(model, question, correct, id_to_char: dict, verbos: bool = False,
                 is_reverse: bool = False) -> int:
    """1 when ``model.generate`` reproduces ``correct`` (after its first, start id), else 0;
    ``verbos`` (the book's spelling) prints the question, the answer and the guess."""
    verbos, is_reverse = validate.flag(verbos, "verbos"), validate.flag(is_reverse, "is_reverse")
    validate.check_type(id_to_char, dict, "id_to_char", "a dict")
    correct = np.asarray(correct).flatten()
    if correct.size < 2:
        raise ValueError("correct must hold a start id and at least one answer id")
    start_id = correct[0]
    correct = correct[1:]
    guess = model.generate(question, start_id, len(correct))
    question = ''.join([id_to_char[int(c)] for c in np.asarray(question).flatten()])
    correct = ''.join([id_to_char[int(c)] for c in correct])
    guess = ''.join([id_to_char[int(c)] for c in guess])
    if verbos:
        if is_reverse:
            question = question[::-1]
        colors = {'ok': '\033[92m', 'fail': '\033[91m', 'close': '\033[0m'}
        print('Q', question)
        print('T', correct)
        is_windows = os.name == 'nt'
        if correct == guess:
            mark = 'O' if is_windows else colors['ok'] + '☑' + colors['close']
        else:
            mark = 'X' if is_windows else colors['fail'] + '☒' + colors['close']
        print(mark + ' ' + guess)
        print('---')
    return 1 if guess == correct else 0


def analogy(a: str, b: str, c: str, word_to_id: dict, id_to_word: dict, word_matrix, top: int = 5,
            answer: str | None = None) -> None:
    """Print the ``top`` answers of ``a : b = c : ?`` (``b - a + c``, normalised), as the book."""
    top = validate.positive_int(top, "top")
    m = _vocab(word_to_id, id_to_word, word_matrix, every_row=True)
    for word in (a, b, c):
        if word not in word_to_id:
            print('%s is not found' % word)
            return
    a_vec, b_vec, c_vec = (m[_word_id(w, word_to_id, id_to_word)] for w in (a, b, c))
    if answer is not None:
        if answer not in word_to_id:
            raise ValueError(f"answer {answer!r} is not in word_to_id")
        answer_id = _word_id(answer, word_to_id, id_to_word)
    print('\n[analogy] ' + a + ':' + b + ' = ' + c + ':?')
    query_vec = normalize(b_vec - a_vec + c_vec)
    similarity = np.dot(m, query_vec)
    if answer is not None:
        print("==>" + answer + ":" + str(np.dot(m[answer_id], query_vec)))
    count = 0
    for i in (-1 * similarity).argsort():
        if np.isnan(similarity[i]):
            continue
        if id_to_word[i] in (a, b, c):
            continue
        print(' {0}: {1}'.format(id_to_word[i], similarity[i]))
        count += 1
        if count >= top:
            return


def normalize(x):
    """Rows (2-D) or the vector (1-D) divided by their Euclidean norm, in place; returns ``x``."""
    validate.float_array(x, "x", " (normalised in place)")
    if x.ndim == 2:
        s = np.sqrt((x * x).sum(1))
        x /= s.reshape((s.shape[0], 1))
    elif x.ndim == 1:
        s = np.sqrt((x * x).sum())
        x /= s
    else:
        raise ValueError(f"x must be 1-D or 2-D, got shape {x.shape}")
    return x
