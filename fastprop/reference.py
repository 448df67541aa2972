"""NumPy twins of every kernel in :mod:`fastprop.kernels`: same names, same signatures,
same in-place outputs, written the way the book writes them.

This module is the equivalence oracle (tests compare each kernel with its twin in one
process) and the "book's NumPy path" that benchmarks measure against. It is never chosen
as a backend by an environment variable.
"""
import numpy as np

# ---------------------------------------------------------------- reductions


def column_sum(x, out):
    out[...] = np.sum(x, axis=0)
    return out


# ---------------------------------------------------------------- affine / matmul


def affine_forward(x, W, b, out):
    out[...] = np.dot(x, W) if b is None else np.dot(x, W) + b
    return out


def affine_backward(x, W, dout, dW, db, dx):
    dW[...] = np.dot(x.T, dout)
    if db is not None:
        db[...] = np.sum(dout, axis=0)
    if dx is not None:
        dx[...] = np.dot(dout, W.T)
    return dx


# ---------------------------------------------------------------- activations


def relu_forward(x, out, mask):
    mask[...] = x <= 0
    out[...] = x
    out[mask] = 0
    return out


def relu_backward(dout, mask, dx):
    dx[...] = dout
    dx[mask] = 0
    return dx


def sigmoid_forward(x, out):
    with np.errstate(over="ignore"):  # exp(1000) = inf gives exactly 0, as intended
        out[...] = 1 / (1 + np.exp(-x))
    return out


def sigmoid_backward(dout, out, dx):
    dx[...] = dout * (1.0 - out) * out
    return dx


# ---------------------------------------------------------------- softmax / loss


def softmax(x, out):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    out[...] = e / np.sum(e, axis=-1, keepdims=True)
    return out


def _mean_log_loss(y, labels):
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), labels] + 1e-7)) / n)


def softmax_cross_entropy(x, t, y, dx, dout):
    softmax(x, y)
    if dx is not None:
        softmax_cross_entropy_backward(y, t, dout, dx)
    return _mean_log_loss(y, t)


def softmax_cross_entropy_onehot(x, t, y, dx, dout):
    softmax(x, y)
    if dx is not None:
        softmax_cross_entropy_onehot_backward(y, t, dout, dx)
    return _mean_log_loss(y, t.argmax(axis=1))


def softmax_cross_entropy_backward(y, t, dout, dx):
    n = y.shape[0]
    g = y.copy()
    g[np.arange(n), t] -= 1
    dx[...] = g * dout / n
    return dx


def softmax_cross_entropy_onehot_backward(y, t, dout, dx):
    dx[...] = (y - t) * dout / y.shape[0]
    return dx


# ---------------------------------------------------------------- optimizers (in place)


def sgd_update(p, g, lr):
    p -= lr * g


def momentum_update(p, g, v, lr, momentum):
    v[...] = momentum * v - lr * g
    p += v


def nesterov_update(p, g, v, lr, momentum):
    p += momentum * momentum * v
    p -= (1 + momentum) * lr * g
    v *= momentum
    v -= lr * g


def adagrad_update(p, g, h, lr):
    h += g * g
    p -= lr * g / (np.sqrt(h) + 1e-7)


def rmsprop_update(p, g, h, lr, decay_rate):
    h *= decay_rate
    h += (1 - decay_rate) * g * g
    p -= lr * g / (np.sqrt(h) + 1e-7)


def adam_update(p, g, m, v, lr_t, beta1, beta2):
    m += (1 - beta1) * (g - m)
    v += (1 - beta2) * (g**2 - v)
    p -= lr_t * m / (np.sqrt(v) + 1e-7)


# ---------------------------------------------------------------- fused two-layer step

_UPDATES = (
    lambda p, g, s1, s2, hp, t: sgd_update(p, g, hp[0]),
    lambda p, g, s1, s2, hp, t: momentum_update(p, g, s1, hp[0], hp[1]),
    lambda p, g, s1, s2, hp, t: nesterov_update(p, g, s1, hp[0], hp[1]),
    lambda p, g, s1, s2, hp, t: adagrad_update(p, g, s1, hp[0]),
    lambda p, g, s1, s2, hp, t: rmsprop_update(p, g, s1, hp[0], hp[1]),
    lambda p, g, s1, s2, hp, t: adam_update(
        p, g, s1, s2, hp.dtype.type(hp[0] * np.sqrt(1.0 - hp[2] ** t) / (1.0 - hp[1] ** t)),
        hp[1], hp[2]),
)


def two_layer_train_steps(X, labels, targets, onehot, idx, W1, b1, W2, b2, dW1, db1, dW2, db2,
                          xb, a, y, dy, dh, sigmoid, opt, hp, S1, S2, t0, losses):
    B = xb.shape[0]
    P = (W1.reshape(-1), b1, W2.reshape(-1), b2)
    for step in range(losses.shape[0]):
        rows = idx[step * B:(step + 1) * B]
        x = X[rows].astype(xb.dtype)
        h = np.dot(x, W1) + b1
        if sigmoid:
            act = np.empty_like(h)
            sigmoid_forward(h, act)
        else:
            act = np.maximum(h, 0) * (h > 0)  # the book's mask: 0 wherever h <= 0
        a[...] = act
        s = np.dot(a, W2) + b2
        if not onehot:
            t = np.asarray(labels)[rows]
            losses[step] = softmax_cross_entropy(s, t.astype(np.intp), y, dy, 1.0)
        else:
            t = np.asarray(targets)[rows].astype(y.dtype)
            losses[step] = softmax_cross_entropy_onehot(s, t, y, dy, 1.0)
        # SGD folds its update into the kernel's weight GEMMs and leaves dW1/dW2 alone
        fold = opt == 0 and hp[0] > 0
        gW1, gW2 = (np.empty_like(dW1), np.empty_like(dW2)) if fold else (dW1, dW2)
        affine_backward(a, W2, dy, gW2, db2, dh)
        if sigmoid:
            sigmoid_backward(dh.copy(), a, dh)
        else:
            dh[a <= 0] = 0
        affine_backward(x, W1, dh, gW1, db1, None)
        grads = (gW1.reshape(-1), db1, gW2.reshape(-1), db2)
        for k in range(4):
            _UPDATES[opt](P[k], grads[k], S1[k], S2[k], hp, t0 + step + 1)
    return losses


def two_layer_train_step(x, labels, targets, onehot, rows, W1, b1, W2, b2, dW1, db1, dW2, db2,
                         a, y, dy, dh, sigmoid, opt, hp, S1, S2, t0):
    losses = np.zeros(1)
    two_layer_train_steps(x, labels, targets, onehot, rows, W1, b1, W2, b2,
                          dW1, db1, dW2, db2, np.empty_like(x), a, y, dy, dh, sigmoid, opt, hp,
                          S1, S2, t0, losses)
    return float(losses[0])



def two_layer_train_steps_small(X, labels, targets, onehot, idx, W1, b1, W2, b2, dW1, db1, dW2,
                                db2, xb, a, y, dy, dh, sigmoid, opt, hp, S1, S2, t0, losses):
    # the kernel's scratch is padded and transposed; the results are the BLAS kernel's
    B = len(idx) // len(losses)
    D, H, O = W1.shape[0], W1.shape[1], W2.shape[1]
    bufs = [np.empty(s, xb.dtype) for s in ((B, D), (B, H), (B, O), (B, O), (B, H))]
    return two_layer_train_steps(X, labels, targets, onehot, idx, W1, b1, W2, b2, dW1, db1, dW2,
                                 db2, *bufs, sigmoid, opt, hp, S1, S2, t0, losses)


# ---------------------------------------------------------------- the book's shuffle


def book_shuffles(key, pos, order, out):
    rs = np.random.RandomState()
    rs.set_state(("MT19937", key, int(pos[0])))
    cur = order
    for e in range(out.shape[0]):
        cur = cur[rs.permutation(len(cur))]
        out[e] = cur
    _, k, p = rs.get_state()[:3]
    key[:] = k
    pos[0] = p
    return out


# ---------------------------------------------------------------- the Trainer's loss log


def average_losses(losses, max_iters, eval_interval, state, averages, epoch_means):
    total, count, n_avg = state[0], state[1], 0
    for e in range(len(epoch_means)):
        chunk = [float(v) for v in losses[e * max_iters:(e + 1) * max_iters]]
        s = 0.0
        for it, loss in enumerate(chunk):
            total += loss
            count += 1
            s += loss
            if eval_interval and it % eval_interval == 0:
                averages[n_avg] = total / count
                n_avg += 1
                total, count = 0.0, 0
        epoch_means[e] = s / max_iters
    state[0], state[1] = total, count
    return n_avg

# ---------------------------------------------------------------- conversion


def cast_into(x, out):
    new = x.astype(out.dtype)
    changed = not np.array_equal(out, new)
    out[...] = new
    return changed
