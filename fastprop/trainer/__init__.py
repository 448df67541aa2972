"""Vol. 2's Trainer and the helpers around it.

==============  ==================================================================
``trainer``      :class:`Trainer` (``fit``, ``plot``, its argument checks)
``compiled``     the compiled paths through ``model.train_steps``
``bookkeeping``  the book's permutations and loss bookkeeping
``grads``        :func:`clip_grads`, :func:`remove_duplicate` (vol. 2 helpers)
``metrics``      :func:`accuracy`
``plotting``     :func:`plot_curves`: the one plot of a training run
==============  ==================================================================
"""
from .bookkeeping import book_permutations
from .grads import clip_grads, remove_duplicate
from .metrics import ACCURACY_CHUNK, accuracy
from .plotting import plot_curves
from .trainer import Trainer

__all__ = ["ACCURACY_CHUNK", "Trainer", "accuracy", "book_permutations", "clip_grads",
           "plot_curves", "remove_duplicate"]
