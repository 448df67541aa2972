"""Twins of :mod:`fastprop.kernels.embedding` (the book's Embedding and EmbeddingDot)."""
import numpy as np


def embedding_forward(W, idx, out):
    out[...] = W[idx]
    return out


def embedding_backward(idx, dout, dW):
    dW[...] = 0
    np.add.at(dW, idx, dout)
    return dW


def embedding_dot_forward(W, h, idx, rows, out):
    rows[...] = W[idx]
    out[...] = np.sum(rows * h, axis=1)
    return out


def embedding_dot_backward(h, rows, idx, dout, dW, dh):
    d = dout.reshape(dout.shape[0], 1)
    dW[...] = 0
    np.add.at(dW, idx, d * h)
    dh[...] = d * rows
    return dh
