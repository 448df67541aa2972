"""Twins of :mod:`fastprop.kernels.cooccurrence`: the book's loops, vectorised."""
import numpy as np


def co_matrix(corpus, window_size, out):
    out[...] = 0
    n = corpus.shape[0]
    for i in range(1, min(window_size, n - 1) + 1):
        np.add.at(out, (corpus[i:], corpus[:n - i]), 1)
        np.add.at(out, (corpus[:n - i], corpus[i:]), 1)
    return out


def ppmi(C, total, col_sums, eps, out):
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log2(C.astype(np.int64) * total / np.outer(col_sums, col_sums) + eps)
    out[...] = np.where(pmi > 0, pmi, 0)
    return out
