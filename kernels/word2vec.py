"""vol. 2 ch. 4's CBOW and skip-gram with negative sampling as compiled training steps.

A step gathers the batch, draws the negatives (the book's exact draws,
:func:`.sampling.negative_samples`, or the faster sampler of the same distribution,
:func:`.sampling.unigram_negative_samples`), runs the forward and backward of the book's
model with the same arithmetic in the same order as fastprop's layers (:mod:`.rows`), and
updates the two weights with the optimizer rule of :mod:`.optim`.

Gradients are kept sparse: an accumulator ``acc`` holds the rows that got a gradient, in
order of first touch, and their summed gradients. The book's sums are reproduced exactly:
each EmbeddingDot or Embedding slot sums its own rows first (``np.add.at`` over the batch),
then the Trainer's ``remove_duplicate`` adds the slots' gradients in slot order, and so do
these kernels (:func:`_add_slot`). Two updates:

* :func:`dense_update`: the book's; every row of the weight moves (Adam's ``m``, ``v`` decay
  and the weight keeps moving with zero gradient where no word of the batch touched it).
  The numbers are those of the book's model on fastprop's layers under the Trainer.
* :func:`sparse_update`: the rule on the touched rows only (the "lazy" Adam of sparse
  embeddings); untouched rows and their state stay as they are, so the run differs from
  the book's after the first step, at a cost that does not grow with the vocabulary.

``acc`` is the tuple ``(pos, rows, count, G, spos, srows, part)``:

* ``pos`` (V,) int64: the row of ``G`` holding word ``r``'s gradient, -1 for none (all -1
  between steps: the step empties the accumulator after the update);
* ``rows`` (R,) int64 and ``count`` (1,) int64: the touched words, ``rows[:count[0]]``;
* ``G`` (R, H): their gradients;
* ``spos`` (V,) int64 (all -1 between calls), ``srows`` (B,) int64, ``part`` (B, H):
  scratch for one slot's sums.
"""

from ._jit import jit
from .optim import ADAM, adam_step_size, adam_update, apply_update
from .rows import dot_row, sigmoid_grad_at, sigmoid_loss_at
from .sampling import negative_samples, unigram_negative_samples


@jit
def _add_slot(acc, ids, src, g, scaled):
    """Add one slot's gradient, ``np.add.at(dW, ids, g[:, None] * src)`` (``scaled``) or
    ``np.add.at(dW, ids, src)``, into ``acc``: summed over the slot first, then added to the
    running total, as the book's per-layer ``dW`` and ``remove_duplicate`` sum them."""
    pos, rows, count, G, spos, srows, part = acc
    H = G.shape[1]
    zero = G.dtype.type(0)
    ns = 0
    for b in range(ids.shape[0]):
        r = ids[b]
        q = spos[r]
        if q < 0:
            q = ns
            spos[r] = q
            srows[q] = r
            ns += 1
            for j in range(H):
                part[q, j] = zero
        if scaled:
            gb = g[b]
            for j in range(H):
                part[q, j] += gb * src[b, j]
        else:
            for j in range(H):
                part[q, j] += src[b, j]
    n = count[0]
    for q in range(ns):
        r = srows[q]
        spos[r] = -1
        k = pos[r]
        if k < 0:
            k = n
            pos[r] = k
            rows[k] = r
            n += 1
            for j in range(H):
                G[k, j] = zero
        for j in range(H):
            G[k, j] += part[q, j]
    count[0] = n


@jit
def _ns_slot(W_out, h, ids, label, dout, score, y, dscore, dh, first, acc_out):
    """One EmbeddingDot + SigmoidWithLoss pair of the negative-sampling loss, forward and
    backward: returns its loss; writes ``dh`` (``first``) or adds to it; adds ``dW_out``."""
    n = ids.shape[0]
    H = h.shape[1]
    for b in range(n):
        score[b] = dot_row(W_out, ids[b], h, b)
    total = 0.0
    for b in range(n):
        total += sigmoid_loss_at(score, label, y, b)
    for b in range(n):
        dscore[b] = sigmoid_grad_at(y, label, dout, n, b)
    for b in range(n):
        gb = dscore[b]
        r = ids[b]
        if first:
            for j in range(H):
                dh[b, j] = gb * W_out[r, j]
        else:
            for j in range(H):
                dh[b, j] += gb * W_out[r, j]
    _add_slot(acc_out, ids, h, dscore, True)
    return -total / n


@jit
def _negative_sampling(W_out, h, target, negatives, dout, work, dh, acc_out):
    """The book's NegativeSamplingLoss forward and backward for given negatives: the
    positive slot, then one slot per column of ``negatives``; ``dh`` written."""
    _, _, _, score, y, dscore = work
    loss = _ns_slot(W_out, h, target, 1, dout, score, y, dscore, dh, True, acc_out)
    for k in range(negatives.shape[1]):
        loss += _ns_slot(W_out, h, negatives[:, k], 0, dout, score, y, dscore, dh, False, acc_out)
    return loss


@jit
def cbow_loss_grads(W_in, W_out, contexts, target, negatives, dout, work, acc_in, acc_out):
    """The book's CBOW forward and backward on one batch, given its negatives.

    Parameters
    ----------
    W_in, W_out : (V, H) float32/float64, C-contiguous (read)
    contexts : (B, C) int64 context ids; target : (B,) int64
    negatives : (B, S) int32/int64 negatives of each row
    dout : float, the loss gradient (1 in training)
    work : ``(h, dh, dhc, score, y, dscore)`` scratch: (B, H) x 3 and (B,) x 3 of the dtype
    acc_in, acc_out : the gradient accumulators of ``W_in`` and ``W_out`` (module
        docstring), added to

    Returns
    -------
    float, the loss (the positive slot's, plus each negative slot's, as the book adds them)

    Notes
    -----
    ``h = (sum of the context rows) * (1 / C)``; ``dh`` of the loss is scaled by ``1 / C``
    and added to every context word, slot by slot.
    """
    h, dh = work[0], work[1]
    B, C = contexts.shape
    H = W_in.shape[1]
    zero = h.dtype.type(0)
    scale = h.dtype.type(1.0 / C)
    for b in range(B):
        for j in range(H):
            h[b, j] = zero
        for c in range(C):
            r = contexts[b, c]
            for j in range(H):
                h[b, j] += W_in[r, j]
        for j in range(H):
            h[b, j] *= scale
    loss = _negative_sampling(W_out, h, target, negatives, dout, work, dh, acc_out)
    for b in range(B):
        for j in range(H):
            dh[b, j] *= scale
    for c in range(C):
        _add_slot(acc_in, contexts[:, c], dh, dh[:, 0], False)
    return loss


@jit
def skipgram_loss_grads(W_in, W_out, contexts, target, negatives, dout, work, acc_in, acc_out):
    """The book's SkipGram forward and backward on one batch, given its negatives.

    Parameters
    ----------
    W_in, W_out, dout, work, acc_in, acc_out : as :func:`cbow_loss_grads`
    contexts : (B, C) int64, the words to predict; target : (B,) int64, the input words
    negatives : (C * B, S) int32/int64: rows ``c * B .. c * B + B - 1`` are the negatives
        of context column ``c`` (the book's ``C`` loss layers draw in that order)

    Returns
    -------
    float, the sum of the ``C`` negative-sampling losses
    """
    h, dh, dhc = work[0], work[1], work[2]
    B, C = contexts.shape
    H = W_in.shape[1]
    zero = h.dtype.type(0)
    for b in range(B):
        r = target[b]
        for j in range(H):
            h[b, j] = W_in[r, j]
    loss = 0.0
    for c in range(C):
        loss += _negative_sampling(W_out, h, contexts[:, c], negatives[c * B:(c + 1) * B], dout,
                                   work, dhc, acc_out)
        for b in range(B):
            for j in range(H):
                dh[b, j] = (zero + dhc[b, j]) if c == 0 else dh[b, j] + dhc[b, j]
    _add_slot(acc_in, target, dh, dh[:, 0], False)
    return loss


@jit
def _empty(acc):
    """Forget the rows of ``acc`` (O(touched rows): ``pos`` back to all -1)."""
    pos, rows, count = acc[0], acc[1], acc[2]
    for k in range(count[0]):
        pos[rows[k]] = -1
    count[0] = 0


@jit
def sparse_update(rule, hp, t, p, s1, s2, acc):
    """Rule ``rule`` on the rows of ``p`` that have a gradient in ``acc`` (read only).

    Parameters
    ----------
    rule : int, a code of :data:`.optim.RULES`; hp : (3,) float64; t : int, the step count
    p : (V, H) float, C-contiguous, updated
    s1, s2 : (V, H) the rule's state rows (updated), or (1, H) for a state the rule lacks
    acc : the accumulator of ``p``'s gradient

    Notes
    -----
    The lazy form of the rule: a row no word of the batch touched keeps its weight and its
    state (with the book's dense Adam it would keep moving on its momentum).
    """
    rows, count, G = acc[1], acc[2], acc[3]
    n = count[0]
    if rule == ADAM:
        dt = p.dtype.type
        lr_t = dt(adam_step_size(hp[0], hp[1], hp[2], t))
        b1, b2 = dt(hp[1]), dt(hp[2])
        for k in range(n):
            r = rows[k]
            adam_update(p[r], G[k], s1[r], s2[r], lr_t, b1, b2)
    else:
        full1 = s1.shape[0] == p.shape[0]
        full2 = s2.shape[0] == p.shape[0]
        for k in range(n):
            r = rows[k]
            apply_update(rule, p[r], G[k], s1[r if full1 else 0], s2[r if full2 else 0], hp, t)


@jit
def dense_update(rule, hp, t, p, s1, s2, acc, gbuf):
    """The book's update of all of ``p`` from the sparse gradient in ``acc`` (zero elsewhere;
    ``acc`` is read only).

    Parameters
    ----------
    rule, hp, t, p, s1, s2, acc : as :func:`sparse_update`
    gbuf : (V, H) of ``p``'s dtype, all zeros (left all zeros): the dense gradient is
        scattered into it for the one :func:`.optim.apply_update` pass over the whole array
    """
    rows, count, G = acc[1], acc[2], acc[3]
    n = count[0]
    H = p.shape[1]
    for k in range(n):
        r = rows[k]
        for j in range(H):
            gbuf[r, j] = G[k, j]
    apply_update(rule, p.reshape(-1), gbuf.reshape(-1), s1.reshape(-1), s2.reshape(-1), hp, t)
    zero = gbuf.dtype.type(0)
    for k in range(n):
        r = rows[k]
        for j in range(H):
            gbuf[r, j] = zero


@jit
def word2vec_train_steps(skip_gram, data, P, opt, sampler, work, accs, losses):
    """``losses.shape[0]`` training steps of CBOW (or skip-gram), batches taken in order.

    Parameters
    ----------
    skip_gram : bool
    data : ``(contexts, target, ntarget, negatives)``: (n * B, C) int64 and (n * B,) int64,
        the steps' batches one after the other; scratch (R,) int64 and (R, S) int32 with
        ``R = B`` (CBOW) or ``C * B`` (skip-gram): the sampler's targets and its negatives
    P : ``(W_in, W_out)``, (V, H) float32/float64, C-contiguous, updated
    opt : ``(rule, hp, S_in, S_out, t0, sparse)``: the rule code, (3,) float64
        hyper-parameters, the two weights' ``(s1, s2)`` state pairs (see
        :func:`sparse_update`), the step count before the first step (Adam's ``iter``),
        and whether to take :func:`sparse_update` instead of :func:`dense_update`
    sampler : ``(key, pos, word_p, cdf, fast)``: the MT19937 state (advanced in place), the
        unigram probabilities and their ``np.cumsum``; ``fast`` picks
        :func:`.sampling.unigram_negative_samples` over the book's draws
    work : the scratch of :func:`cbow_loss_grads`
    accs : ``(acc_in, acc_out, gbuf_in, gbuf_out)``: the accumulators (empty) and the zero
        buffers of :func:`dense_update`
    losses : (n,) float64, written

    Returns
    -------
    losses
    """
    contexts, target, ntarget, negatives = data
    W_in, W_out = P
    rule, hp, S_in, S_out, t0, sparse = opt
    key, pos, word_p, cdf, fast = sampler
    acc_in, acc_out, gbuf_in, gbuf_out = accs
    C = contexts.shape[1]
    n_steps = losses.shape[0]
    B = target.shape[0] // n_steps
    for s in range(n_steps):
        bctx = contexts[s * B:(s + 1) * B]
        btgt = target[s * B:(s + 1) * B]
        if skip_gram:  # the C loss layers draw one after the other, each for its column
            for c in range(C):
                for b in range(B):
                    ntarget[c * B + b] = bctx[b, c]
        else:
            for b in range(B):
                ntarget[b] = btgt[b]
        if fast:
            unigram_negative_samples(key, pos, word_p, cdf, ntarget, negatives)
        else:
            negative_samples(key, pos, word_p, ntarget, negatives)
        if skip_gram:
            loss = skipgram_loss_grads(W_in, W_out, bctx, btgt, negatives, 1.0, work, acc_in, acc_out)
        else:
            loss = cbow_loss_grads(W_in, W_out, bctx, btgt, negatives, 1.0, work, acc_in, acc_out)
        t = t0 + s + 1
        if sparse:
            sparse_update(rule, hp, t, W_in, S_in[0], S_in[1], acc_in)
            sparse_update(rule, hp, t, W_out, S_out[0], S_out[1], acc_out)
        else:
            dense_update(rule, hp, t, W_in, S_in[0], S_in[1], acc_in, gbuf_in)
            dense_update(rule, hp, t, W_out, S_out[0], S_out[1], acc_out, gbuf_out)
        _empty(acc_in)
        _empty(acc_out)
        losses[s] = loss
    return losses
