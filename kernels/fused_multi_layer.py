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
from .affine import affine_backward, affine_forward
from .batchnorm import batchnorm_backward, batchnorm_forward_train
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
