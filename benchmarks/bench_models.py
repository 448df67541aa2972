"""Steps beyond ch. 5 that no other file times: the MultiLayerNetExtend training step
(784-100x5-10, BatchNorm + Dropout 0.2, batch 100), the ch04 CBOW negative-sampling step
(V 10000, H 100, window 5, batch 100, Adam), the ch07 Seq2seq step (V 13, D 16, H 128,
batch 128, Adam) and its generation of 50 questions, ch07's RnnlmGen.generate of 100 words
(V 10000, D = H = 100), each beside the book's classes.

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
SEQ2SEQ = {"book": (steps_vol2.book_seq2seq, "float32"), "dropin": (steps_vol2.dropin_seq2seq, "float32"),
           "fast": (steps_vol2.fast_seq2seq, "float32")}
GENERATE = {"book": (steps_vol2.book_generate, "float32"), "dropin": (steps_vol2.dropin_generate, "float32"),
            "fast": (steps_vol2.fast_generate, "float32"), "fast_batch": (steps_vol2.fast_generate_batch, "float32")}
RNNLMGEN = {"book": (steps_vol2.book_rnnlmgen, "float32"), "dropin": (steps_vol2.dropin_rnnlmgen, "float32"),
            "fast": (steps_vol2.fast_rnnlmgen, "float32")}
TABLES = {"multilayer": MULTILAYER, "cbow": CBOW, "seq2seq": SEQ2SEQ, "generate": GENERATE, "rnnlmgen": RNNLMGEN}


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


class Seq2seqStep:
    """ch07's Trainer step (forward, backward, remove_duplicate, clip_grads 5.0, Adam): the
    book's class on the book's layers, on fastprop's layers, and ``fastprop.nets.Seq2seq``."""

    params = list(SEQ2SEQ)
    param_names = ["path"]
    timeout = 120

    def setup(self, path):
        self.step = _ready("seq2seq", path)

    def time_step(self, path):
        self.step()


class Seq2seqGenerate:
    """``generate`` of 50 questions one at a time (``eval_seq2seq``'s calls), and fastprop's
    ``generate_batch`` of all of them in one call."""

    params = list(GENERATE)
    param_names = ["path"]
    timeout = 120

    def setup(self, path):
        self.step = _ready("generate", path)

    def time_generate(self, path):
        self.step()


class RnnlmGenerate:
    """ch07's ``RnnlmGen.generate`` of 100 words from a zero state (V 10000, D = H = 100): the
    book's class on the book's layers, on fastprop's layers, and ``fastprop.nets.RnnlmGen``
    (one compiled call; the same words)."""

    params = list(RNNLMGEN)
    param_names = ["path"]
    timeout = 120

    def setup(self, path):
        self.step = _ready("rnnlmgen", path)

    def time_generate(self, path):
        self.step()
