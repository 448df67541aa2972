"""Cases of vol. 2's models, which follow the layer protocol with a loss on top (see
:mod:`cases`): ``forward(x, t)`` returns the loss, ``backward(dout=1)`` fills the ``grads``
list in place and returns None (the inputs are word ids).

The models draw their weights from NumPy's global RNG as the book does, so ``make`` seeds it
from the case's generator; the language models are stateful (reset in the ``forward`` hook,
so every forward of the gradient check starts from the same state), and dropout masks and
negative samples come from the global RNG too (re-seeded there, so every forward draws the
same ones). Vol. 1's nets are not here: see ``NOT_LAYERS`` in ``test_registry.py``.
"""
import numpy as np
from cases import LayerCase

from fastprop import nets

N, T, V, D = 2, 3, 10, 4


def _seeded(make):
    def seeded(rng, dt):
        np.random.seed(int(rng.integers(2**31)))
        return make(rng, dt)
    return seeded


def _language_forward(model, args):
    model.reset_state()
    np.random.seed(3)  # BetterRnnlm's dropout masks
    return model.forward(*args)


def _sampled_forward(model, args):
    np.random.seed(5)  # the negative samples
    return model.forward(*args)


def _sequences(rng, dt):
    return rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))


def _corpus(rng):
    """Every id at least once (the sampler's rule), then random words."""
    return np.concatenate([np.arange(V), rng.integers(0, V, 20)])


def _contexts(n_context):
    def inputs(rng, dt):
        return rng.integers(0, V, (N + 1, n_context)), rng.integers(0, V, N + 1)
    return inputs


MODEL = dict(grad_inputs=(), loss=True)

CASES = [
    LayerCase("Rnnlm", _seeded(lambda rng, dt: nets.Rnnlm(V, D, D, dtype=dt)), _sequences,
              forward=_language_forward, attributes=("layers", "loss_layer", "lstm_layer"), **MODEL),
    LayerCase("BetterRnnlm", _seeded(lambda rng, dt: nets.BetterRnnlm(V, D, D, 0.3, dtype=dt)), _sequences,
              forward=_language_forward, attributes=("layers", "lstm_layers", "drop_layers"),
              tied=True, **MODEL),  # the output weight is embed_W.T
    # ch07's generators: the ch06 models with generate/get_state/set_state (tests/nets/test_rnnlm_gen.py)
    LayerCase("RnnlmGen", _seeded(lambda rng, dt: nets.RnnlmGen(V, D, D, dtype=dt)), _sequences,
              forward=_language_forward, attributes=("layers", "loss_layer", "lstm_layer"), **MODEL),
    LayerCase("BetterRnnlmGen", _seeded(lambda rng, dt: nets.BetterRnnlmGen(V, D, D, 0.3, dtype=dt)), _sequences,
              forward=_language_forward, attributes=("layers", "lstm_layers", "drop_layers"),
              tied=True, **MODEL),
    LayerCase("CBOW", _seeded(lambda rng, dt: nets.CBOW(V, 3, 1, _corpus(rng), dtype=dt)), _contexts(2),
              forward=_sampled_forward, attributes=("in_layers", "ns_loss", "word_vecs"), tied=True, **MODEL),
    LayerCase("SkipGram", _seeded(lambda rng, dt: nets.SkipGram(V, 3, 1, _corpus(rng), dtype=dt)),
              _contexts(2),
              forward=_sampled_forward, attributes=("in_layer", "loss_layers", "word_vecs"), tied=True,
              **MODEL),
]
