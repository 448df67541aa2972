"""Steps beyond ch. 5 that no other file times: the MultiLayerNetExtend training step
(784-100x5-10, BatchNorm + Dropout 0.2, batch 100) and the ch04 CBOW negative-sampling step
(V 10000, H 100, window 5, batch 100, Adam), each beside the book's classes.

The steps are the row factories of ``fastprop bench --models`` (:mod:`fastprop.bench.steps_vol1`,
:mod:`fastprop.bench.steps_vol2`), so asv and the command time one definition. The ConvNets
(step and inference) are in ``bench_conv``, im2col/col2im, the sampler and ppmi in
``bench_kernels``, the Rnnlm step and the TimeLSTM loop in ``bench_recurrent``. Every step
is called once in ``setup`` (compiled there, never while timed).
"""
from fastprop.bench import models, steps_vol1, steps_vol2

from ._memo import memo

#: path -> (factory, dtype)
MULTILAYER = {"book": (steps_vol1.book_multilayer, "float64"),
              "dropin": (steps_vol1.dropin_multilayer, "float64"),
              "fused": (steps_vol1.fused_multilayer, "float64"),
              "fused_float32": (steps_vol1.fused_multilayer, "float32")}
CBOW = {"book": (steps_vol2.book_cbow, "float32"), "dropin": (steps_vol2.dropin_cbow, "float32")}
TABLES = {"multilayer": MULTILAYER, "cbow": CBOW}


def _ready(name, key):
    def build():
        factory, dtype = TABLES[name][key]
        step, _ = factory(models.check_options({}), dtype)
        step()
        return step
    return memo(("models", name, key), build)


class MultiLayerNetExtendStep:
    """gradient + SGD (book, drop-in) or ``fused_step``, batch 100."""

    params = list(MULTILAYER)
    param_names = ["path"]
    timeout = 120

    def setup(self, path):
        self.step = _ready("multilayer", path)

    def time_step(self, path):
        self.step()


class CBOWStep:
    """forward, backward, remove_duplicate, Adam: the book's Trainer step on CBOW."""

    params = list(CBOW)
    param_names = ["path"]
    timeout = 120

    def setup(self, path):
        self.step = _ready("cbow", path)

    def time_step(self, path):
        self.step()
