"""Twins of :mod:`fastprop.kernels.vmath`: NumPy's own exp and log (float64)."""
import numpy as np


def exp(x):
    with np.errstate(over="ignore"):
        return float(np.exp(np.float64(x)))


def log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log(np.float64(x)))
