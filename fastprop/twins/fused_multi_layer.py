"""Twin of :mod:`fastprop.kernels.fused_multi_layer`: the step as the book's layers do it."""
import numpy as np

from .batchnorm import batchnorm_backward, batchnorm_forward_train


def multi_layer_train_step(data, params, bn, grads, drop, scratch, flags, hp):
    x, labels = data
    Ws, bs = params
    gammas, betas, rms, rvs, new_rms, new_rvs = bn
    dWs, dbs, dgammas, dbetas = grads
    rands, masks, ratios = drop
    zs, xcs, xns, stds, ys, hs, ds, scores, probs, dscores = scratch
    sigmoid, use_bn, use_dropout, update = flags
    lam = hp[0]
    L = len(zs)
    inputs = [x] + [None] * L
    for l in range(L):
        z = np.dot(inputs[l], Ws[l]) + bs[l]
        if use_bn:
            out = np.empty_like(z)
            batchnorm_forward_train(z, gammas[l], betas[l], hp[2 + l], rms[l], rvs[l], xcs[l], xns[l],
                                    stds[l], out, new_rms[l], new_rvs[l])
            z = out
        y = 1 / (1 + np.exp(-z)) if sigmoid else np.where(z <= 0, 0, z)
        ys[l][...] = y
        if use_dropout:
            masks[l][...] = rands[l] > ratios[l]
            y = y * masks[l]
        hs[l][...] = y
        inputs[l + 1] = hs[l]
    scores[...] = np.dot(inputs[L], Ws[L]) + bs[L]
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs[...] = e / e.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.sum(np.log(probs[np.arange(n), labels] + 1e-7)) / n
    d = probs.copy()
    d[np.arange(n), labels] -= 1
    dscores[...] = d / n
    d = dscores
    for l in range(L, -1, -1):
        dWs[l][...] = np.dot(inputs[l].T, d)
        dbs[l][...] = d.sum(axis=0)
        if l == 0:
            break
        g = np.dot(d, Ws[l].T)
        if use_dropout:
            g = g * masks[l - 1]
        y = ys[l - 1]
        g = g * (1.0 - y) * y if sigmoid else np.where(y <= 0, 0, g)
        if use_bn:
            out = np.empty_like(g)
            batchnorm_backward(g, gammas[l - 1], xcs[l - 1], xns[l - 1], stds[l - 1], dgammas[l - 1],
                               dbetas[l - 1], out)
            g = out
        ds[l - 1][...] = g
        d = ds[l - 1]
    if lam != 0.0:
        for l in range(L + 1):
            dWs[l][...] = dWs[l] + lam * Ws[l]
    if update:
        lr = hp[1]
        for l in range(L + 1):
            Ws[l][...] -= lr * dWs[l]
            bs[l][...] -= lr * dbs[l]
            if use_bn and l < L:
                gammas[l][...] -= lr * dgammas[l]
                betas[l][...] -= lr * dbetas[l]
    return loss


def multi_layer_predict(x, params, bn, flags, scales, out, scratch, small_work, max_keep, t):
    Ws, bs = params
    gammas, betas, rms, rvs = bn
    sigmoid, use_bn, use_dropout = flags
    T, R = scratch[0].shape[:2]
    n = x.shape[0]
    rows = [i for c in range(t, -(-n // R), T) for i in range(c * R, min(c * R + R, n))]
    h = x[rows].astype(Ws[0].dtype)
    L = len(Ws) - 1
    for l in range(L):
        h = np.dot(h, Ws[l]) + bs[l]
        if use_bn:
            h = gammas[l] * ((h - rms[l]) / np.sqrt(rvs[l] + 10e-7)) + betas[l]
        h = 1 / (1 + np.exp(-h)) if sigmoid else np.where(h <= 0, 0, h)
        if use_dropout:
            h = h * scales[l]
    out[rows] = np.dot(h, Ws[L]) + bs[L]
    return out
