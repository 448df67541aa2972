"""Twins of :mod:`fastprop.kernels.word2vec`: the book's CBOW / skip-gram arithmetic in NumPy
(dense ``np.add.at`` gradients per slot, summed slot by slot), written into the same sparse
accumulators the kernels fill."""
import numpy as np

from .optim import apply_update
from .sampling import negative_samples, unigram_negative_samples


def _add_slot(acc, ids, contrib):
    """One slot's ``np.add.at`` gradient added to ``acc`` (new rows in first-touch order)."""
    pos, rows, count, G = acc[0], acc[1], acc[2], acc[3]
    dW = np.zeros((pos.shape[0], contrib.shape[1]))
    np.add.at(dW, ids, contrib)
    _, first = np.unique(ids, return_index=True)
    n = int(count[0])
    for r in ids[np.sort(first)]:
        if pos[r] < 0:
            pos[r], rows[n] = n, r
            G[n] = 0
            n += 1
        G[pos[r]] += dW[r]
    count[0] = n


def _negative_sampling(W_out, h, target, negatives, dout, acc_out):
    n = target.shape[0]
    loss, dh = 0.0, 0
    for ids, label in [(target, 1)] + [(negatives[:, k], 0) for k in range(negatives.shape[1])]:
        rows = W_out[ids]
        with np.errstate(over="ignore"):
            y = 1 / (1 + np.exp(-np.sum(rows * h, axis=1)))
        loss += float(-np.sum(np.log((y if label == 1 else 1 - y) + 1e-7)) / n)
        dscore = ((y - label) * dout / n)[:, None]
        dh = dh + dscore * rows
        _add_slot(acc_out, ids, dscore * h)
    return loss, dh


def cbow_loss_grads(W_in, W_out, contexts, target, negatives, dout, work, acc_in, acc_out):
    C = contexts.shape[1]
    h = 0
    for c in range(C):
        h = h + W_in[contexts[:, c]]
    h = h * (1 / C)
    loss, dh = _negative_sampling(W_out, h, target, negatives, dout, acc_out)
    dh = dh * (1 / C)
    for c in range(C):
        _add_slot(acc_in, contexts[:, c], dh)
    return loss


def skipgram_loss_grads(W_in, W_out, contexts, target, negatives, dout, work, acc_in, acc_out):
    B, C = contexts.shape
    h = W_in[target]
    loss, dh = 0.0, 0
    for c in range(C):
        lc, dhc = _negative_sampling(W_out, h, contexts[:, c], negatives[c * B:(c + 1) * B], dout, acc_out)
        loss += lc
        dh = dh + dhc
    _add_slot(acc_in, target, dh)
    return loss


def _empty(acc):
    pos, rows, count = acc[0], acc[1], acc[2]
    pos[rows[:count[0]]] = -1
    count[0] = 0


def sparse_update(rule, hp, t, p, s1, s2, acc):
    rows, count, G = acc[1], acc[2], acc[3]
    for k in range(int(count[0])):
        r = rows[k]
        a, b = (s1[r] if s1.shape[0] == p.shape[0] else s1[0]), (s2[r] if s2.shape[0] == p.shape[0] else s2[0])
        apply_update(rule, p[r], G[k], a, b, hp, t)


def dense_update(rule, hp, t, p, s1, s2, acc, gbuf):
    rows, count, G = acc[1], acc[2], acc[3]
    n = int(count[0])
    g = np.zeros_like(p)
    g[rows[:n]] = G[:n]
    apply_update(rule, p.reshape(-1), g.reshape(-1), s1.reshape(-1), s2.reshape(-1), hp, t)


def word2vec_train_steps(skip_gram, data, P, opt, sampler, work, accs, losses):
    contexts, target, ntarget, negatives = data
    W_in, W_out = P
    rule, hp, S_in, S_out, t0, sparse = opt
    key, pos, word_p, cdf, fast = sampler
    acc_in, acc_out, gbuf_in, gbuf_out = accs
    n_steps = losses.shape[0]
    B = target.shape[0] // n_steps
    for s in range(n_steps):
        bctx, btgt = contexts[s * B:(s + 1) * B], target[s * B:(s + 1) * B]
        ntarget[...] = bctx.T.reshape(-1) if skip_gram else btgt
        if fast:
            unigram_negative_samples(key, pos, word_p, cdf, ntarget, negatives)
        else:
            negative_samples(key, pos, word_p, ntarget, negatives)
        step = skipgram_loss_grads if skip_gram else cbow_loss_grads
        losses[s] = step(W_in, W_out, bctx, btgt, negatives, 1.0, work, acc_in, acc_out)
        t = t0 + s + 1
        if sparse:
            sparse_update(rule, hp, t, W_in, S_in[0], S_in[1], acc_in)
            sparse_update(rule, hp, t, W_out, S_out[0], S_out[1], acc_out)
        else:
            dense_update(rule, hp, t, W_in, S_in[0], S_in[1], acc_in, gbuf_in)
            dense_update(rule, hp, t, W_out, S_out[0], S_out[1], acc_out, gbuf_out)
        _empty(acc_in)
        _empty(acc_out)
    return losses
