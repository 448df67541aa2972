"""Layer cases of vol. 2 ch. 4 (see :mod:`cases`): embeddings, the sigmoid loss, the
inverted Dropout and the negative-sampling loss (which draw from the global RNG: their
``forward`` hook re-seeds it, so every forward of the gradient check draws the same)."""
import numpy as np
from cases import LayerCase

from fastprop import layers

V, D, N = 12, 4, 7


def _normal(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def _ids(rng, shape, v=V):
    ids = rng.integers(0, v, shape)
    ids.flat[:2] = ids.flat[0]  # a repeated id: the scatter-add must sum both rows
    return ids


def _corpus(rng):
    return np.concatenate([np.arange(V), rng.integers(0, V, 60)])


def _seeded(seed):
    def forward(layer, args):
        np.random.seed(seed)
        return layer.forward(*args)
    return forward


CASES = [
    LayerCase("Embedding", lambda rng, dt: layers.Embedding(_normal(rng, (V, D), dt)),
              lambda rng, dt: (_ids(rng, N),), grad_inputs=(), attributes=("idx", "W"), saved=("idx",)),
    LayerCase("Embedding-2d-ids", lambda rng, dt: layers.Embedding(_normal(rng, (V, D), dt)),
              lambda rng, dt: (_ids(rng, (3, 5)),), grad_inputs=(), attributes=("idx",), saved=("idx",)),
    LayerCase("EmbeddingDot", lambda rng, dt: layers.EmbeddingDot(_normal(rng, (V, D), dt)),
              lambda rng, dt: (_normal(rng, (N, D), dt), _ids(rng, N)),
              attributes=("cache", "idx"), saved=("cache", "idx")),
    LayerCase("SigmoidWithLoss", lambda rng, dt: layers.SigmoidWithLoss(),
              lambda rng, dt: (_normal(rng, N, dt, 2.0), rng.integers(0, 2, N)),
              loss=True, attributes=("loss", "y", "t"), saved=("y", "t"), grad_atol=5e-6),
    LayerCase("InvertedDropout", lambda rng, dt: layers.InvertedDropout(0.3),
              lambda rng, dt: (_normal(rng, (5, 6), dt),), attributes=("mask",), saved=("mask",),
              forward=_seeded(3)),
    LayerCase("NegativeSamplingLoss",
              lambda rng, dt: layers.NegativeSamplingLoss(_normal(rng, (V, D), dt), _corpus(rng),
                                                          power=0.75, sample_size=3),
              lambda rng, dt: (_normal(rng, (N, D), dt), _ids(rng, N)),
              loss=True, attributes=("sampler", "loss_layers", "embed_dot_layers"),
              grad_atol=2e-5, tied=True, forward=_seeded(5)),
    LayerCase("NegativeSamplingLoss-fast-draws",
              lambda rng, dt: layers.NegativeSamplingLoss(_normal(rng, (V, D), dt), _corpus(rng),
                                                          power=0.75, sample_size=3, draws="fast"),
              lambda rng, dt: (_normal(rng, (N, D), dt), _ids(rng, N)),
              loss=True, attributes=("sampler", "loss_layers", "embed_dot_layers"),
              grad_atol=2e-5, tied=True, forward=_seeded(5)),
]
