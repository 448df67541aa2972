"""vol. 2's ``RnnlmTrainer`` (``common/trainer.py``) and ``eval_perplexity`` (``common/util.py``).

:meth:`RnnlmTrainer.fit` reads the corpus the book's way: ``batch_size`` read positions
``i * (len(xs) // batch_size)``, each advanced by ``time_size`` per iteration and wrapping at
the end, so a seeded run sees the book's batches in the book's order; it prints the book's
lines and keeps ``ppl_list``. Gradients are merged (:func:`fastprop.trainer.remove_duplicate`,
weight tying) and clipped (:func:`fastprop.trainer.clip_grads`) as in the book.
"""
from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

from .. import validate
from ..util_vol2 import eval_perplexity  # noqa: F401  (re-exported: the book's trainer module has it too)
from .grads import fit_step
from .trainer import _check_protocol

__all__ = ["RnnlmTrainer", "eval_perplexity"]


def _corpus(a, name):
    return validate.indices(a, name, ndim=1, low=None, what="integer word ids")


def _windows(corpus, offsets, start, length, size):
    """``out[i, t] = corpus[(offsets[i] + start + t) % size]`` as int32 (the book's ``'i'``)."""
    pos = (np.asarray(offsets, dtype=np.int64)[:, None] + start + np.arange(length)) % size
    return corpus[pos].astype(np.int32)


class RnnlmTrainer:
    """Truncated-BPTT training of a language model over one long corpus.

    Parameters
    ----------
    model : ``forward(xs, ts)`` returns the loss, ``backward()`` fills ``grads``
    optimizer : anything with ``update(params, grads)``

    Attributes
    ----------
    ppl_list : list of float, the perplexity at every evaluation point of the last fit
    time_idx : int, how far the read positions have advanced
    current_epoch, eval_interval : as the book
    """

    def __init__(self, model, optimizer):
        _check_protocol(model, optimizer)  # a TypeError now, not an AttributeError inside fit
        self.model = model
        self.optimizer = optimizer
        self.time_idx = None
        self.ppl_list = None
        self.eval_interval = None
        self.current_epoch = 0

    def get_batch(self, x, t, batch_size, time_size):
        """The next (batch_size, time_size) windows of ``x`` and ``t``; advances ``time_idx``."""
        data_size = len(x)
        jump = data_size // batch_size
        offsets = [i * jump for i in range(batch_size)]
        bx = _windows(x, offsets, self.time_idx, time_size, data_size)
        bt = _windows(t, offsets, self.time_idx, time_size, data_size)
        self.time_idx += time_size
        return bx, bt

    def fit(self, xs, ts, max_epoch=10, batch_size=20, time_size=35, max_grad=None, eval_interval=20,
            *, progress: bool = False):
        """Train for ``max_epoch`` passes of ``len(xs) // (batch_size * time_size)`` iterations.

        ``progress=True`` (not in the book) shows a progress bar over all iterations, with the
        book's perplexity lines printed above it.

        Raises
        ------
        TypeError, ValueError
            Non-integer corpora, ``ts`` of another shape than ``xs``, sizes that are not
            positive integers, a corpus too short for one (batch_size, time_size) batch,
            ``max_grad`` not a positive number, ``eval_interval`` not None or >= 1.
        """
        xs, ts = _corpus(xs, "xs"), _corpus(ts, "ts")
        if xs.shape != ts.shape:
            raise ValueError(f"ts must have the shape of xs {xs.shape}, got {ts.shape}")
        max_epoch = validate.check_scalar(max_epoch, "max_epoch", int, low=0)
        batch_size = validate.positive_int(batch_size, "batch_size")
        time_size = validate.positive_int(time_size, "time_size")
        if max_grad is not None:
            max_grad = validate.check_scalar(max_grad, "max_grad", low=0.0, low_open=True)
        if eval_interval is not None:
            eval_interval = validate.positive_int(eval_interval, "eval_interval")
        progress = validate.flag(progress, "progress")
        data_size = len(xs)
        max_iters = data_size // (batch_size * time_size)
        if max_iters == 0:
            raise ValueError(f"the corpus has {data_size} words, fewer than one batch of batch_size * "
                             f"time_size = {batch_size * time_size}; use smaller sizes")
        self.time_idx = 0
        self.ppl_list = []
        self.eval_interval = eval_interval
        model, optimizer = self.model, self.optimizer
        total_loss, loss_count = 0.0, 0
        bar = tqdm(total=max_epoch * max_iters, disable=not progress, mininterval=0.5, unit="it",
                   leave=False)
        say = tqdm.write if progress else print  # tqdm.write keeps the bar intact
        start_time = time.time()
        for _ in range(max_epoch):
            for iters in range(max_iters):
                batch_x, batch_t = self.get_batch(xs, ts, batch_size, time_size)
                loss = fit_step(model, optimizer, batch_x, batch_t, max_grad)
                total_loss += loss
                loss_count += 1
                if eval_interval is not None and iters % eval_interval == 0:
                    ppl = np.exp(total_loss / loss_count)
                    elapsed_time = time.time() - start_time
                    say('| epoch %d |  iter %d / %d | time %d[s] | perplexity %.2f'
                        % (self.current_epoch + 1, iters + 1, max_iters, elapsed_time, ppl))
                    self.ppl_list.append(float(ppl))
                    total_loss, loss_count = 0.0, 0
                bar.update(1)
            self.current_epoch += 1
        bar.close()

    def plot(self, ylim=None, path=None):
        """Plot ``ppl_list`` (the book's figure); ``path`` saves a PNG instead of showing it."""
        try:
            import matplotlib  # noqa: F401  (optional dependency)
        except ImportError as exc:
            raise ImportError("RnnlmTrainer.plot needs matplotlib: pip install -e '.[plot]' in fastprop's "
                              "checkout, or pip install matplotlib") from exc
        if path is not None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            fig = Figure()
            FigureCanvasAgg(fig)
        else:
            import matplotlib.pyplot as plt
            fig = plt.figure()
        ax = fig.subplots()
        ax.plot(np.arange(len(self.ppl_list or [])), self.ppl_list or [], label="train")
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_xlabel(f"iterations (x{self.eval_interval})")
        ax.set_ylabel("perplexity")
        if path is not None:
            fig.savefig(path, format="png")
            return path
        plt.show()
        return None
