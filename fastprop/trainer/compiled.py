"""The Trainer's compiled paths, both through ``model.train_steps(x, t, idx, batch_size,
optimizer)`` (many steps in one call, batches gathered as ``x[idx[k*B:(k+1)*B]]``):

* :func:`epoch_through_train_steps`: one epoch in calls cut at the book's evaluation
  points, so the book's lines print when the book prints them;
* :func:`bulk_epochs`: the later epochs of a quiet fit, permutations drawn up front and the
  loss averages kept by a compiled copy of the book's bookkeeping.

Neither draws random numbers beyond the book's permutations, so a seeded run stays the
book's run bit for bit.
"""
import numpy as np

from ..kernels import loss_average as loss_average_kernels
from .bookkeeping import LossLog, book_permutations

__all__ = ["bulk_epochs", "epoch_through_train_steps"]

#: rows gathered per bulk call (bounds the memory of the up-front permutations)
BULK_ROWS = 2_000_000


def epoch_through_train_steps(trainer, x, t, order, batch_size: int, max_iters: int,
                              log: LossLog) -> tuple:
    """Run one epoch through ``trainer.model.train_steps``.

    Parameters
    ----------
    trainer : Trainer
    x, t : ndarray
        The whole training set, unshuffled.
    order : ndarray of int, shape (N,)
        The book's cumulatively shuffled row order for this epoch.
    batch_size, max_iters : int
    log : LossLog

    Returns
    -------
    (int, bool)
        Iterations done, and whether to keep using ``train_steps`` (False when it
        answered None: the caller finishes the epoch step by step).
    """
    ei = log.eval_interval
    iters = 0
    while iters < max_iters:
        # next evaluation point at or after iters (inclusive), or the epoch's end
        end = max_iters if ei is None else min(max_iters, -(-iters // ei) * ei + 1)
        losses = trainer.model.train_steps(x, t, order[iters * batch_size:end * batch_size],
                                           batch_size, trainer.optimizer)
        if losses is None:
            return iters, False
        losses = np.asarray(losses, dtype=np.float64).tolist()
        if len(losses) != end - iters:
            raise RuntimeError(f"model.train_steps returned {len(losses)} losses for "
                               f"{end - iters} batches")
        for k, loss in enumerate(losses):
            log.add(iters + k, loss)
        log.tick(end - iters, losses[-1])
        iters = end
    return iters, True


def bulk_epochs(trainer, x, t, order, batch_size: int, max_iters: int, n_epochs: int,
                log: LossLog) -> np.ndarray:
    """``n_epochs`` more epochs through one ``model.train_steps`` call per chunk of epochs.

    The permutations are drawn up front, in the book's order, from NumPy's global generator
    (:func:`~fastprop.trainer.bookkeeping.book_permutations`); the steps draw no random
    numbers, so the RNG ends where the book's loop leaves it. The loss bookkeeping is the
    book's, compiled (:func:`fastprop.kernels.loss_average.average_losses`); the trainer's
    ``loss_list``, ``history`` and ``current_epoch`` are updated as the epoch loop would.

    Returns
    -------
    ndarray of int64, shape (N,)
        The row order after the last epoch.
    """
    per_chunk = max(1, BULK_ROWS // max(1, max_iters * batch_size))
    ei = log.eval_interval or 0
    state = np.array([log.total_loss, log.loss_count], dtype=np.float64)
    while n_epochs > 0:
        k = min(per_chunk, n_epochs)
        orders = book_permutations(order, k)
        order = orders[-1]
        rows = np.ascontiguousarray(orders[:, :max_iters * batch_size]).reshape(-1)
        losses = trainer.model.train_steps(x, t, rows, batch_size, trainer.optimizer)
        if losses is None or len(losses) != k * max_iters:
            raise RuntimeError("model.train_steps worked for the first epoch, then returned "
                               f"{'None' if losses is None else len(losses)} for {k * max_iters} "
                               "batches; it must answer the same way within one fit")
        losses = np.ascontiguousarray(losses, dtype=np.float64)
        averages = np.empty(k * max_iters)
        means = np.empty(k)
        n_avg = loss_average_kernels.average_losses(losses, max_iters, ei, state, averages, means)
        trainer.loss_list.extend(averages[:n_avg].tolist())
        h = trainer.history
        h["epoch"].extend(range(trainer.current_epoch + 1, trainer.current_epoch + k + 1))
        h["loss"].extend(means.tolist())
        h["train_acc"].extend([None] * k)
        h["val_acc"].extend([None] * k)
        trainer.current_epoch += k
        log.epoch_loss = float(means[-1]) * max_iters
        n_epochs -= k
    log.total_loss, log.loss_count = float(state[0]), int(state[1])
    return order
