"""One training step of vol. 1's MultiLayerNetExtend (Affine [-> BatchNorm] -> ReLU/Sigmoid
[-> Dropout], L times, then Affine -> SoftmaxWithLoss) in one compiled call.

The layer kernels themselves do the work -- :mod:`.affine`, :mod:`.batchnorm`,
:mod:`.activations`, :mod:`.dropout`, the softmax rows of :mod:`.rows` and the SGD rule of
:mod:`.optim` -- so a fix in a layer lands here too (one op, one place). What this adds is
the absence of Python between them: no validation, no allocation (every buffer is the
caller's), the first layer's unused input gradient skipped, and the gradients written
straight into the arrays the update reads.
"""
from ._jit import jit
from .activations import sigmoid_backward, sigmoid_forward
from .affine import _block_rows, _cast_chunk, affine_backward, affine_forward
from .batchnorm import batchnorm_backward, batchnorm_forward_test, batchnorm_forward_train
from .dropout import dropout_backward, dropout_forward
from .optim import sgd_update
from .rows import label_loss_rows, softmax_rows


@jit
def _relu_into(z, y):
    """``y = 0 where z <= 0 else z`` (the book's ``out[x <= 0] = 0``; no mask kept: the
    output stands in for it in the backward). ``y`` may be ``z``."""
    zero = z.dtype.type(0)
    for i in range(z.shape[0]):
        v = z[i]
        y[i] = zero if v <= zero else v


@jit
def _relu_backward_from_output(g, y):
    """``g = 0 where y <= 0`` in place: the ReLU output is 0 exactly where the book's mask
    ``x <= 0`` was, so the saved output stands in for the mask."""
    zero = g.dtype.type(0)
    for i in range(g.shape[0]):
        if y[i] <= zero:
            g[i] = zero


@jit
def _output(hs, ys, l, use_dropout):
    """Hidden layer ``l``'s output: after Dropout, or the activation's without it."""
    return hs[l] if use_dropout else ys[l]


@jit
def multi_layer_train_step(data, params, bn, grads, drop, scratch, flags, hp):
    """Forward (training mode), backward and (optionally) the SGD update of one batch.

    Parameters
    ----------
    data : ``(x, labels)``: (N, D) float input, (N,) intp labels in [0, C)
    params : ``(Ws, bs)``: L + 1 weights (H_{l-1}, H_l) and biases (H_l,), updated in place
        by SGD when ``flags[3]`` (update) is set
    bn : ``(gammas, betas, running_means, running_vars, new_means, new_vars)``, L arrays
        each of (H_l,) (zero-size when BatchNorm is off); ``new_*`` written
    grads : ``(dWs, dbs, dgammas, dbetas)``, written: the book's gradients, weight decay
        ``lambda * W`` included in ``dWs``
    drop : ``(rands, masks, ratios)``: L (N, H_l) float64 uniform draws and bool masks
        (written; zero-size arrays when Dropout is off), (L,) float64 dropout ratios
    scratch : ``(zs, xcs, xns, stds, ys, hs, ds, scores, probs, dscores)``: per hidden
        layer the affine/BatchNorm output ``zs`` (``ys`` may be ``zs``: the activation runs
        elementwise), BatchNorm's ``xc``, ``xn``, ``std``, the activation output ``ys``,
        the Dropout output ``hs`` (unused without Dropout, where ``ys`` is the layer's
        output) and the gradient ``ds``; then the (N, C) scores, probabilities and their
        gradient
    flags : ``(sigmoid, use_batchnorm, use_dropout, update)``
    hp : (2 + L,) float64: ``weight_decay_lambda``, ``lr``, then each BatchNorm layer's momentum

    Returns
    -------
    float, the training-mode cross-entropy of this forward (without the weight-decay term)
    """
    x, labels = data
    Ws, bs = params
    gammas, betas, rms, rvs, new_rms, new_rvs = bn
    dWs, dbs, dgammas, dbetas = grads
    rands, masks, ratios = drop
    zs, xcs, xns, stds, ys, hs, ds, scores, probs, dscores = scratch
    sigmoid, use_bn, use_dropout, update = flags
    lam = hp[0]
    n_hidden = len(zs)

    # forward
    for l in range(n_hidden):
        inp = x if l == 0 else _output(hs, ys, l - 1, use_dropout)
        z = zs[l]
        affine_forward(inp, Ws[l], bs[l], z, 0)
        if use_bn:  # normalised in place: the sweep writing out reads only xc and xn
            batchnorm_forward_train(z, gammas[l], betas[l], hp[2 + l], rms[l], rvs[l], xcs[l], xns[l],
                                    stds[l], z, new_rms[l], new_rvs[l])
        zf = z.reshape(z.size)
        yf = ys[l].reshape(z.size)
        if sigmoid:
            sigmoid_forward(zf, yf)
        else:
            _relu_into(zf, yf)
        if use_dropout:
            dropout_forward(yf, rands[l].reshape(z.size), ratios[l], hs[l].reshape(z.size),
                            masks[l].reshape(z.size))
    last = n_hidden
    affine_forward(x if last == 0 else _output(hs, ys, last - 1, use_dropout), Ws[last], bs[last], scores, 0)
    softmax_rows(scores, probs)
    loss = label_loss_rows(probs, labels, None, 1.0, dscores)

    # backward
    affine_backward(x if last == 0 else _output(hs, ys, last - 1, use_dropout), Ws[last], dscores, dWs[last], dbs[last],
                    ds[last - 1] if last > 0 else None)
    for l in range(n_hidden - 1, -1, -1):
        g = ds[l]
        gf = g.reshape(g.size)
        if use_dropout:
            dropout_backward(gf, masks[l].reshape(g.size), gf)
        if sigmoid:
            sigmoid_backward(gf, ys[l].reshape(g.size), gf)
        else:
            _relu_backward_from_output(gf, ys[l].reshape(g.size))
        if use_bn:  # dx may be dout: each sweep reads an element before writing it
            batchnorm_backward(g, gammas[l], xcs[l], xns[l], stds[l], dgammas[l], dbetas[l], g)
        affine_backward(x if l == 0 else _output(hs, ys, l - 1, use_dropout), Ws[l], g, dWs[l], dbs[l],
                        ds[l - 1] if l > 0 else None)

    # the book's grads: dW + lambda * W
    if lam != 0.0:
        for l in range(n_hidden + 1):
            W = Ws[l].reshape(Ws[l].size)
            dW = dWs[l].reshape(Ws[l].size)
            c = W.dtype.type(lam)
            for i in range(W.shape[0]):
                dW[i] = dW[i] + c * W[i]
    if update:
        lr = Ws[0].dtype.type(hp[1])
        for l in range(n_hidden + 1):
            sgd_update(Ws[l].reshape(Ws[l].size), dWs[l].reshape(Ws[l].size), lr)
            sgd_update(bs[l], dbs[l], lr)
            if use_bn and l < n_hidden:
                sgd_update(gammas[l], dgammas[l], lr)
                sgd_update(betas[l], dbetas[l], lr)
    return loss


@jit
def multi_layer_predict(x, params, bn, flags, scales, out, scratch, small_work, max_keep, t):
    """Inference scores of MultiLayerNetExtend (``predict(x, train_flg=False)``), a chunk of
    rows at a time through every layer: the chunks ``t, t + T, ...`` of T threads' share.

    Parameters
    ----------
    x : (N, D) real array of any dtype, C-contiguous (the float32 MNIST set), cast chunk by
        chunk to the parameters' dtype (:func:`fastprop.kernels.affine._cast_chunk`)
    params : ``(Ws, bs)``: L + 1 weights (H_{l-1}, H_l) and biases (H_l,), C-contiguous
    bn : ``(gammas, betas, running_means, running_vars)``, L arrays each (unused without
        BatchNorm)
    flags : ``(sigmoid, use_batchnorm, use_dropout)``
    scales : (L,) the parameters' dtype: Dropout's inference factor ``1 - dropout_ratio``
    out : (N, C) the parameters' dtype, written with the scores (this share's rows)
    scratch : ``(buf, runs, Wc, hs)``: ``buf``, ``runs``, ``Wc`` as
        :func:`~fastprop.kernels.affine.affine_forward_cast` takes them (its first layer's),
        ``hs`` (T, 2, R * max(H)) the parameters' dtype: each thread's two hidden blocks
    small_work, max_keep : as :func:`~fastprop.kernels.affine.affine_forward_cast`
    t : int in [0, T), the share (and the index into the scratch arrays)

    Returns
    -------
    out

    Notes
    -----
    The layer path writes every hidden layer's (N, H) output to memory and reads it back in
    the next layer's pass (a 10000-image test set: 8 MB per layer and pass); here a chunk
    of R rows goes through all layers in the L2 of the core running it. T threads run the T
    shares at once (it holds no GIL; :func:`fastprop.threads.run_split`, each GEMM on one
    BLAS thread: :func:`fastprop.threads.parallel_region`). Not a ``prange`` kernel: Numba's
    parallel lowering of this body compiled for 11 s (twice the body's own compile).

    The operations are the layers': Affine's GEMM and bias, BatchNorm's inference formula,
    ReLU/Sigmoid, Dropout's ``x * (1 - ratio)``; a chunk's GEMM sums the same products as
    the whole-set GEMM's rows, in the BLAS's order for that shape. Every pass but Dropout's
    reads one of the thread's two blocks and writes the other: a pass whose input is its
    output cannot be vectorised (LLVM's overlap check sends it down the scalar loop: a
    Sigmoid pass took twice as long).
    """
    Ws, bs = params
    gammas, betas, rms, rvs = bn
    sigmoid, use_bn, use_dropout = flags
    buf, runs, Wc, hs = scratch
    n = x.shape[0]
    T, R = buf.shape[0], buf.shape[1]
    L = len(Ws) - 1
    chunks = (n + R - 1) // R
    look = t >= 0  # not the literal True: that compiles _cast_chunk twice
    for c in range(t, chunks, T):
        r0 = c * R
        r1 = min(r0 + R, n)
        r = r1 - r0
        cur = 0  # the block holding the chunk's activations; every pass writes the other
        for l in range(L + 1):
            W = Ws[l]
            k, m = W.shape
            o = hs[t, 1 - cur, :r * m].reshape(r, m)
            if l == 0:
                look = _cast_chunk(x, W, bs[l], o, r0, r1, buf, runs, Wc, t, look, small_work,
                                         max_keep)
            else:
                affine_forward(hs[t, cur, :r * k].reshape(r, k), W, bs[l], o, _block_rows(small_work, k, m))
            cur = 1 - cur
            if l == L:
                for i in range(r):
                    for j in range(m):
                        out[r0 + i, j] = o[i, j]
                break
            if use_bn:
                o2 = hs[t, 1 - cur, :r * m].reshape(r, m)
                batchnorm_forward_test(o, gammas[l], betas[l], rms[l], rvs[l], o2)
                o = o2
                cur = 1 - cur
            y = hs[t, 1 - cur, :r * m]
            if sigmoid:
                sigmoid_forward(o.reshape(r * m), y)
            else:
                _relu_into(o.reshape(r * m), y)
            cur = 1 - cur
            if use_dropout:
                s = scales[l]
                for i in range(r * m):
                    y[i] = y[i] * s
    return out
