"""Twin of :mod:`fastprop.kernels.fused_two_layer_lanes`: the same step as the BLAS kernel's
twin (the lanes kernel's scratch is padded and transposed; its results are the BLAS kernel's)."""
import numpy as np

from .fused_two_layer import two_layer_train_steps


def two_layer_train_steps_lanes(batch, params, grads, optimizer, scratch, sigmoid, losses):
    idx = batch[4]
    B = len(idx) // len(losses)
    W1, _, W2, _ = params
    D, H, O = W1.shape[0], W1.shape[1], W2.shape[1]
    dt = scratch[0].dtype
    bufs = tuple(np.empty(s, dt) for s in ((B, D), (B, H), (B, O), (B, O), (B, H)))
    return two_layer_train_steps(batch, params, grads, optimizer, bufs, sigmoid, losses)
