"""vol. 1 Batch Normalization (ch. 6): compiled forward (statistics, then normalisation)
and a fused backward, with the book's attributes, eps and running averages."""
from __future__ import annotations

import numpy as np

from .. import validate
from ..kernels import batchnorm
from .base import Layer


def _vector(v, name: str, size=None, dtype=None) -> np.ndarray:
    """A 1-D float32/float64 array of length ``size`` (when given) in ``dtype`` (when given),
    C-contiguous (a copy only when it is not)."""
    dt = validate.param_dtype(v, name)
    if v.ndim != 1 or (size is not None and v.shape[0] != size):
        want = f"({size},)" if size is not None else "1-D (D,)"
        raise ValueError(f"{name} must have shape {want}, got {v.shape}")
    if dtype is not None and dt != dtype:
        raise ValueError(f"{name} has dtype {dt} but the computation is {np.dtype(dtype)} "
                         "(gamma's dtype decides it)")
    return np.ascontiguousarray(v)


def _saved(a, name: str, shape, dtype) -> np.ndarray:
    """An attribute the training forward stored, checked as it is now."""
    if a is None:
        raise ValueError(f"the saved {name} is None; backward needs a training forward "
                         "(forward(x, train_flg=True)) first")
    a = validate.as_real(a, name)
    if a.shape != tuple(shape) or a.dtype != dtype:
        raise ValueError(f"the saved {name} must be a {np.dtype(dtype)} array of shape "
                         f"{tuple(shape)}, got {validate.describe(a)} (replaced since forward? "
                         "run forward again)")
    return a


class BatchNormalization(Layer):
    """Normalise each feature over the batch, then scale by ``gamma`` and shift by ``beta``.

    Parameters
    ----------
    gamma, beta : (D,) float32/float64 arrays of one dtype, kept by reference
        (``params = [gamma, beta]``); their dtype is the compute dtype
    momentum : float in [0, 1], weight of the old running averages
    running_mean, running_var : (D,) float arrays or None (both or neither); None creates
        zeros of gamma's dtype at the first forward

    Attributes
    ----------
    gamma, beta, momentum, running_mean, running_var; ``input_shape``; from the last
    training forward ``batch_size``, ``xc``, ``xn`` ((N, D) centred and normalised input),
    ``std`` ((D,)); ``dgamma``, ``dbeta`` (``grads``, stable arrays written in place).

    Notes
    -----
    Input is (N, D) or (N, C, H, W), the latter reshaped to (N, C*H*W) as in the book.
    Training: ``out = gamma * (x - mu) / sqrt(var + 10e-7) + beta`` with the batch mean
    and biased variance; the running averages become new arrays
    ``momentum * running + (1 - momentum) * batch`` (the caller's arrays are never
    written). Inference uses the running averages instead.
    """

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, momentum: float = 0.9,
                 running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None):
        _vector(gamma, "gamma")
        dt = gamma.dtype
        _vector(beta, "beta", gamma.shape[0], dt)
        if (running_mean is None) != (running_var is None):
            raise ValueError("pass both running_mean and running_var, or neither (got only "
                             f"{'running_mean' if running_var is None else 'running_var'})")
        if running_mean is not None:
            _vector(running_mean, "running_mean", gamma.shape[0])
            _vector(running_var, "running_var", gamma.shape[0])
        super().__init__(gamma, beta)
        self.momentum = validate.check_scalar(momentum, "momentum", low=0.0, high=1.0)
        self.input_shape = None
        self.running_mean = running_mean
        self.running_var = running_var
        self.batch_size = None
        self.xc = None
        self.xn = None
        self.std = None
        self._train_shape = None  # input shape of the training forward backward belongs to

    gamma = property(lambda self: self.params[0], lambda self, v: self.params.__setitem__(0, v))
    beta = property(lambda self: self.params[1], lambda self, v: self.params.__setitem__(1, v))
    dgamma = property(lambda self: self.grads[0])
    dbeta = property(lambda self: self.grads[1])

    def _input(self, x, dt) -> np.ndarray:
        x = validate.batch(validate.as_real(x, "x", dt), "x")
        if x.ndim not in (2, 4):
            raise ValueError(f"BatchNormalization takes (N, D) or (N, C, H, W) input, got "
                             f"shape {x.shape}")
        return x

    def forward(self, x, train_flg: bool = True) -> np.ndarray:
        train = validate.flag(train_flg, "train_flg")
        gamma = _vector(self.params[0], "gamma")
        dt = gamma.dtype
        x = self._input(x, dt)
        shape = x.shape
        x = x.reshape(shape[0], -1)
        n, d = x.shape
        if d != gamma.shape[0]:
            raise ValueError(f"x has {d} features per sample (shape {shape}), but gamma has "
                             f"{gamma.shape[0]}")
        beta = _vector(self.params[1], "beta", d, dt)
        momentum = validate.check_scalar(self.momentum, "BatchNormalization.momentum",
                                         low=0.0, high=1.0)
        if self.running_mean is None:  # created lazily at the first forward, like the book
            self.running_mean = np.zeros(d, dtype=dt)
            self.running_var = np.zeros(d, dtype=dt)
        rm = _vector(self.running_mean, "running_mean", d)
        rv = _vector(self.running_var, "running_var", d)
        rm, rv = rm.astype(dt, copy=False), rv.astype(dt, copy=False)
        self.input_shape = shape
        out = np.empty_like(x)
        if train:
            xc, xn = np.empty_like(x), np.empty_like(x)
            std, mean_out, var_out = (np.empty(d, dtype=dt) for _ in range(3))
            batchnorm.batchnorm_forward_train(x, gamma, beta, momentum, rm, rv, xc, xn, std,
                                              out, mean_out, var_out)
            self.batch_size = n
            self.xc, self.xn, self.std = xc, xn, std
            self._train_shape = shape
            self.running_mean, self.running_var = mean_out, var_out
        else:
            batchnorm.batchnorm_forward_test(x, gamma, beta, rm, rv, out)
        return out.reshape(shape)

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.xn)
        xn = validate.as_real(self.xn, "xn")
        if xn.ndim != 2:
            raise ValueError(f"the saved xn must be 2-D (N, D), got shape {xn.shape}")
        n, d = xn.shape
        dt = xn.dtype
        xc = _saved(self.xc, "xc", (n, d), dt)
        std = _saved(self.std, "std", (d,), dt)
        if self.batch_size != n:
            raise ValueError(f"batch_size is {self.batch_size!r} but the saved xn has {n} rows "
                             "(replaced since forward? run forward again)")
        gamma = _vector(self.params[0], "gamma", d, dt)
        _vector(self.params[1], "beta", d, dt)
        shape = self._train_shape
        if shape is None or int(np.prod(shape)) != n * d or shape[0] != n:
            raise ValueError(f"the saved xn has shape {(n, d)}, which the last training forward "
                             f"(input shape {shape}) did not save (replaced since forward? run "
                             "forward again)")
        if self.input_shape != shape:
            raise ValueError(f"input_shape is {self.input_shape!r} but the training forward that "
                             f"backward belongs to had input shape {shape} (changed, or a test-time "
                             "forward ran since? run forward(x, train_flg=True) again)")
        dout = validate.as_real(dout, "dout", dt)
        if dout.shape != (n, d) and dout.shape != shape:
            raise ValueError(f"dout must have shape {shape} (the shape of the forward input), "
                             f"got {dout.shape}")
        dout = dout.reshape(n, d)
        dgamma, dbeta = self._grad(0), self._grad(1)
        dx = np.empty((n, d), dtype=dt)
        batchnorm.batchnorm_backward(dout, gamma, xc, xn, std, dgamma, dbeta, dx)
        return dx.reshape(shape)
