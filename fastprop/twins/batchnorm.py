"""Twins of :mod:`fastprop.kernels.batchnorm`: the book's BatchNormalization expressions."""
import numpy as np

EPS = 10e-7


def batchnorm_forward_train(x, gamma, beta, momentum, running_mean, running_var,
                            xc, xn, std, out, mean_out, var_out):
    mu = x.mean(axis=0)
    xc[...] = x - mu
    var = np.mean(xc ** 2, axis=0)
    std[...] = np.sqrt(var + EPS)
    xn[...] = xc / std
    mean_out[...] = momentum * running_mean + (1 - momentum) * mu
    var_out[...] = momentum * running_var + (1 - momentum) * var
    out[...] = gamma * xn + beta
    return out


def batchnorm_forward_test(x, gamma, beta, running_mean, running_var, out):
    xc = x - running_mean
    xn = xc / np.sqrt(running_var + EPS)
    out[...] = gamma * xn + beta
    return out


def batchnorm_backward(dout, gamma, xc, xn, std, dgamma, dbeta, dx):
    n = dout.shape[0]
    dbeta[...] = dout.sum(axis=0)
    dgamma[...] = np.sum(xn * dout, axis=0)
    dxn = gamma * dout
    dxc = dxn / std
    dstd = -np.sum((dxn * xc) / (std * std), axis=0)
    dvar = 0.5 * dstd / std
    dxc += (2.0 / n) * xc * dvar
    dmu = np.sum(dxc, axis=0)
    dx[...] = dxc - dmu / n
    return dx
