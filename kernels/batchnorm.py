"""vol. 1 Batch Normalization over the rows of an (N, D) block (a 4-D input arrives
reshaped to (N, C*H*W), as the book does it).

The forward computes the statistics in one sweep (the column means, then the centred
values and their mean square: the book's two-step variance, not the one-pass
``E[x^2] - E[x]^2`` that cancels catastrophically) and normalises in a second; the
backward is the book's chain of nine NumPy expressions fused into three sweeps with no
temporary. Columns are summed row after row, in the order NumPy's ``sum(axis=0)`` adds a
C-contiguous block, and every expression keeps the book's operation order, so float64
results match the book's to rounding. Sums accumulate in the array's dtype.
"""
import numpy as np

from ._jit import jit

#: the book's ``10e-7`` (that is 1e-6), added to the variance under the square root
EPS = 10e-7


@jit
def _column_mean(x, mu):
    """``mu = x.mean(axis=0)``: rows added in order, then divided by N."""
    n, d = x.shape
    mu[:] = mu.dtype.type(0)
    for i in range(n):
        for j in range(d):
            mu[j] += x[i, j]
    for j in range(d):
        mu[j] = mu[j] / n


@jit
def batchnorm_forward_train(x, gamma, beta, momentum, running_mean, running_var,
                            xc, xn, std, out, mean_out, var_out):
    """Training-mode forward: batch statistics, normalisation and the running averages.

    Parameters
    ----------
    x : (N, D) float32/float64, C-contiguous
    gamma, beta : (D,) same dtype
    momentum : float, in the dtype's precision as the caller wants it rounded
    running_mean, running_var : (D,) same dtype, read
    xc, xn : (N, D) written with ``x - mu`` and ``xc / std`` (the book keeps both)
    std : (D,) written with ``sqrt(var + 10e-7)``
    out : (N, D) written with ``gamma * xn + beta``
    mean_out, var_out : (D,) written with ``momentum * running + (1 - momentum) * batch``;
        may be ``running_mean``/``running_var`` themselves

    Returns
    -------
    out

    Notes
    -----
    ``var`` is the biased (divide by N) variance, as in the book, for the output and for
    the running average alike.
    """
    n, d = x.shape
    one = x.dtype.type(1)
    m = x.dtype.type(momentum)
    keep = x.dtype.type(one - momentum)
    eps = x.dtype.type(EPS)
    mu = np.empty(d, x.dtype)
    var = np.zeros(d, x.dtype)
    _column_mean(x, mu)
    for i in range(n):
        for j in range(d):
            c = x[i, j] - mu[j]
            xc[i, j] = c
            var[j] += c * c
    for j in range(d):
        var[j] = var[j] / n
        std[j] = np.sqrt(var[j] + eps)
        mean_out[j] = m * running_mean[j] + keep * mu[j]
        var_out[j] = m * running_var[j] + keep * var[j]
    for i in range(n):
        for j in range(d):
            v = xc[i, j] / std[j]
            xn[i, j] = v
            out[i, j] = gamma[j] * v + beta[j]
    return out


@jit
def batchnorm_forward_test(x, gamma, beta, running_mean, running_var, out):
    """Inference forward: ``out = gamma * (x - running_mean) / sqrt(running_var + 10e-7) + beta``.

    Parameters
    ----------
    x, out : (N, D); gamma, beta, running_mean, running_var : (D,); one float dtype

    Returns
    -------
    out
    """
    n, d = x.shape
    eps = x.dtype.type(EPS)
    s = np.empty(d, x.dtype)
    for j in range(d):
        s[j] = np.sqrt(running_var[j] + eps)
    for i in range(n):
        for j in range(d):
            out[i, j] = gamma[j] * ((x[i, j] - running_mean[j]) / s[j]) + beta[j]
    return out


@jit
def batchnorm_backward(dout, gamma, xc, xn, std, dgamma, dbeta, dx):
    """The book's backward in three sweeps: the column sums, the centred gradient, the mean.

    Parameters
    ----------
    dout : (N, D) upstream gradient
    gamma : (D,)
    xc, xn : (N, D), std : (D,): what the training forward saved
    dgamma, dbeta : (D,) written with ``sum(xn * dout, 0)`` and ``sum(dout, 0)``
    dx : (N, D) written with the input gradient

    Returns
    -------
    dx

    Notes
    -----
    With ``dxn = gamma * dout``: ``dvar = -0.5 * sum(dxn * xc / std**2, 0) / std``,
    ``dxc = dxn / std + (2 / N) * xc * dvar``, ``dx = dxc - sum(dxc, 0) / N``. ``dxn`` is
    recomputed in the second sweep instead of stored (one multiply is cheaper than an
    (N, D) round trip through memory).
    """
    n, d = dout.shape
    zero = dout.dtype.type(0)
    half = dout.dtype.type(0.5)
    two_n = dout.dtype.type(2.0 / n)
    dstd = np.zeros(d, dout.dtype)
    dmu = np.zeros(d, dout.dtype)
    dvar = np.empty(d, dout.dtype)
    s2 = np.empty(d, dout.dtype)
    dgamma[:] = zero
    dbeta[:] = zero
    for j in range(d):
        s2[j] = std[j] * std[j]
    for i in range(n):
        for j in range(d):
            g = dout[i, j]
            dbeta[j] += g
            dgamma[j] += xn[i, j] * g
            dstd[j] += (gamma[j] * g * xc[i, j]) / s2[j]
    for j in range(d):
        dvar[j] = half * -dstd[j] / std[j]
    for i in range(n):
        for j in range(d):
            v = (gamma[j] * dout[i, j]) / std[j] + two_n * xc[i, j] * dvar[j]
            dx[i, j] = v
            dmu[j] += v
    for j in range(d):
        dmu[j] = dmu[j] / n
    for i in range(n):
        for j in range(d):
            dx[i, j] = dx[i, j] - dmu[j]
    return dx
