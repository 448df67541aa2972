"""Layer cases of vol. 2 ch. 7-8's compiled seq2seq models and their parts (see :mod:`cases`):
every contract test (shapes, float32 vs float64, numerical gradients of every parameter and
of the state a decoder starts from, no mutated inputs, clear errors) runs on them.

The book's constructors draw from the global RNG: the factories seed it from the case's
generator, so a case is reproducible.
"""
import numpy as np
from cases import LayerCase

from fastprop import nets

N, TQ, TA, D, H, V = 3, 5, 4, 4, 4, 7


def _model(cls):
    def make(rng, dt):
        np.random.seed(int(rng.integers(2**31)))
        model = cls(V, D, H, dtype=dt)
        for p in model.params:  # nonzero biases and larger weights: every path carries gradient
            p += (0.3 * np.random.randn(*p.shape)).astype(dt)
        return model
    return make


def _questions(rng, dt):
    return rng.integers(0, V, (N, TQ)), rng.integers(0, V, (N, TA))


def _decoder_inputs(attention):
    def inputs(rng, dt):
        xs = rng.integers(0, V, (N, TA))
        state = rng.standard_normal((N, TQ, H) if attention else (N, H))
        return xs, (0.5 * np.tanh(state)).astype(dt)
    return inputs


MODEL = dict(grad_inputs=(), loss=True, attributes=("encoder", "decoder"))
CASES = [
    LayerCase("Seq2seq", _model(nets.Seq2seq), _questions, **MODEL),
    LayerCase("PeekySeq2seq", _model(nets.PeekySeq2seq), _questions, **MODEL),
    LayerCase("AttentionSeq2seq", _model(nets.AttentionSeq2seq), _questions, **MODEL),
    LayerCase("Encoder", _model(nets.Encoder), lambda rng, dt: _questions(rng, dt)[:1], grad_inputs=()),
    LayerCase("AttentionEncoder", _model(nets.AttentionEncoder), lambda rng, dt: _questions(rng, dt)[:1],
              grad_inputs=()),
    LayerCase("Decoder", _model(nets.Decoder), _decoder_inputs(False), grad_inputs=(1,)),
    LayerCase("PeekyDecoder", _model(nets.PeekyDecoder), _decoder_inputs(False), grad_inputs=(1,)),
    LayerCase("AttentionDecoder", _model(nets.AttentionDecoder), _decoder_inputs(True), grad_inputs=(1,)),
]
