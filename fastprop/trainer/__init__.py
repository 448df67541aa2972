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
from .._lazy import exports

# imported on first use: fastprop.util_vol2 imports .grads while .rnnlm imports util_vol2
__getattr__, __dir__, _names = exports(__name__, {
    ".bookkeeping": ["book_permutations"],
    ".grads": ["clip_grads", "remove_duplicate"],
    ".metrics": ["ACCURACY_CHUNK", "accuracy"],
    ".plotting": ["plot_curves"],
    ".rnnlm": ["RnnlmTrainer", "eval_perplexity"],
    ".trainer": ["Trainer"],
})

__all__ = ["ACCURACY_CHUNK", "RnnlmTrainer", "Trainer", "accuracy", "book_permutations", "clip_grads",
           "eval_perplexity", "plot_curves", "remove_duplicate"]
