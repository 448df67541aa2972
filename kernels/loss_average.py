"""The book Trainer's loss bookkeeping for many steps at once.

vol. 2's ``Trainer.fit`` adds every step's loss to a running sum and, at iterations
``0, eval_interval, 2 * eval_interval, ...`` of each epoch, stores the average since the
last such point and resets; the sum carries over epoch ends. When a compiled fit has
already produced thousands of losses, doing that in Python costs more than the steps
(asv: AverageLosses); this is the same arithmetic, in the same order, so the averages are
bit for bit the ones the Python loop gives.
"""
from ._jit import jit


@jit
def average_losses(losses, max_iters, eval_interval, state, averages, epoch_means):
    """Book-keep ``len(losses) // max_iters`` epochs of per-step losses.

    Parameters
    ----------
    losses : (epochs * max_iters,) float64, in step order
    max_iters : int >= 1, steps per epoch
    eval_interval : int, 0 for "never average" (the book's ``None``)
    state : (2,) float64, ``[running sum, running count]``; read and written back
    averages : (>= number of evaluation points,) float64, written from the start
    epoch_means : (epochs,) float64, written with each epoch's mean loss

    Returns
    -------
    int, how many averages were written
    """
    total = state[0]
    count = state[1]
    n_avg = 0
    pos = 0
    for e in range(epoch_means.shape[0]):
        s = 0.0
        for it in range(max_iters):
            loss = losses[pos]
            pos += 1
            total += loss
            count += 1.0
            s += loss
            if eval_interval > 0 and it % eval_interval == 0:
                averages[n_avg] = total / count
                n_avg += 1
                total = 0.0
                count = 0.0
        epoch_means[e] = s / max_iters
    state[0] = total
    state[1] = count
    return n_avg
