"""Vol. 2's Trainer and the helpers around it.

===============  ========================================================================================
``trainer``      :class:`Trainer` (``fit``, ``plot``, its argument checks)
``compiled``     the compiled paths through ``model.train_steps``
``bookkeeping``  the book's permutations and loss bookkeeping
``grads``        :func:`clip_grads`, :func:`remove_duplicate` (vol. 2 helpers)
``metrics``      :func:`accuracy`
``plotting``     :func:`plot_curves`: the one plot of a training run
``vol1``         vol. 1's ``Trainer`` (``common/trainer.py`` of vol. 1): ``fastprop.trainer.vol1.Trainer``
``rnnlm``        vol. 2's :class:`RnnlmTrainer` (ch. 5-6 language models)
===============  ========================================================================================
"""
from .bookkeeping import book_permutations
from .grads import clip_grads, remove_duplicate
from .metrics import ACCURACY_CHUNK, accuracy
from .plotting import plot_curves
from .rnnlm import RnnlmTrainer, eval_perplexity  # noqa: I001  (after grads: rnnlm -> util_vol2 -> grads)
from .trainer import Trainer

__all__ = ["ACCURACY_CHUNK", "RnnlmTrainer", "Trainer", "accuracy", "book_permutations", "clip_grads",
           "eval_perplexity", "plot_curves", "remove_duplicate"]
