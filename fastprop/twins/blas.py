"""Twin of :mod:`fastprop.kernels.blas`."""
import numpy as np


def gemm_acc(a, b, c, alpha):
    c += alpha * np.dot(a, b)


def gemm(a, b, c):
    c[...] = np.dot(a, b)
