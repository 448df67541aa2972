"""Twins of :mod:`fastprop.kernels.vmath`: NumPy's own exp and log (float64), and float64
``exp`` rounded once to float32 for ``exp32``."""
import numpy as np


def exp(x):
    with np.errstate(over="ignore"):
        return float(np.exp(np.float64(x)))


def log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log(np.float64(x)))


def exp32(x):
    with np.errstate(over="ignore"):
        return np.float32(np.exp(np.float64(np.float32(x))))
