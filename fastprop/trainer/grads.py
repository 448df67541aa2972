"""Gradient helpers of vol. 2's Trainer: :func:`clip_grads` (``common/util.py``) and
:func:`remove_duplicate` (``common/trainer.py``); :func:`fit_step`, the one iteration both
of the book's fit loops (``Trainer`` and ``RnnlmTrainer``) run."""
from collections.abc import Mapping

import numpy as np

from .. import validate

__all__ = ["clip_grads", "remove_duplicate"]


def clip_grads(grads, max_norm) -> None:
    """Scale all gradients in place so that their total L2 norm is at most ``max_norm``.

    Parameters
    ----------
    grads : list of ndarray (or dict of them)
    max_norm : float

    Notes
    -----
    As the book: ``rate = max_norm / (sqrt(sum_i sum(g_i**2)) + 1e-6)``; every gradient is
    multiplied by ``rate`` only when ``rate < 1``.
    """
    max_norm = validate.check_scalar(max_norm, "max_norm", float, low=0.0)
    if isinstance(grads, Mapping):
        grads = list(grads.values())
    if isinstance(grads, np.ndarray) or not hasattr(grads, "__iter__"):
        raise TypeError(f"grads must be a list (or dict) of arrays, got {validate.describe(grads)}")
    grads = list(grads)
    for g in grads:
        validate.param_dtype(g, "each gradient")
    total_norm = 0
    for grad in grads:
        total_norm += np.sum(grad ** 2)
    total_norm = np.sqrt(total_norm)
    rate = max_norm / (total_norm + 1e-6)
    if rate < 1:
        for grad in grads:
            grad *= rate


def _transposed_view(a, b):
    """True when ``b`` is ``a.T`` over the same memory (weight tying, e.g. ``embed_W.T``)."""
    return (a.ndim == 2 and b.ndim == 2 and a.shape == b.shape[::-1]
            and a.strides == b.strides[::-1]
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def remove_duplicate(params, grads) -> tuple:
    """Merge parameters shared between layers; their gradients are summed (in place).

    Parameters
    ----------
    params, grads : list of ndarray
        The model's lists; they are not modified, but the gradient kept for a shared
        parameter is accumulated into in place, as in the book.

    Returns
    -------
    params, grads : list
        New lists with each shared parameter once.

    Notes
    -----
    Vol. 2's rule: ``params[j] is params[i]`` adds ``grads[j]``; a transposed copy of
    ``params[i]`` adds ``grads[j].T``. The book detects the transposed case by comparing
    values (``np.all(params[i].T == params[j])``), which also merges unrelated arrays that
    happen to be equal (e.g. two zero-initialised square weights); here it must be the
    same memory, as with ``Affine(embed_W.T, b)``. Merges happen in the book's order, so
    the summed gradients are bit-identical.
    """
    params, grads = list(params), list(grads)
    i = 0
    while i < len(params):
        j = i + 1
        while j < len(params):
            if params[j] is params[i]:
                grads[i] += grads[j]
            elif _transposed_view(params[i], params[j]):
                grads[i] += grads[j].T
            else:
                j += 1
                continue
            del params[j], grads[j]
        i += 1
    return params, grads


def fit_step(model, optimizer, batch_x, batch_t, max_grad) -> float:
    """One iteration of vol. 2's ``Trainer.fit`` and ``RnnlmTrainer.fit``; returns the loss.

    ``model.forward``, ``model.backward``, :func:`remove_duplicate` (list parameters: a dict
    names each array once, so there is nothing to merge), :func:`clip_grads` when
    ``max_grad`` is not None, ``optimizer.update``. The callers validated everything.
    """
    loss = model.forward(batch_x, batch_t)
    model.backward()
    params, grads = model.params, model.grads
    if not isinstance(params, Mapping):
        params, grads = remove_duplicate(params, grads)
    if max_grad is not None:
        clip_grads(grads, max_grad)
    optimizer.update(params, grads)
    return loss
