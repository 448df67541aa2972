"""What the book's training loop draws and records: its permutations
(:func:`book_permutations`, compiled) and its loss bookkeeping (:class:`LossLog`: sum,
count, average at the evaluation points, the printed line, plus the epoch's mean loss
and the progress bar)."""
import time

import numpy as np
from tqdm.auto import tqdm

from .. import validate
from ..kernels import shuffle as shuffle_kernels

__all__ = ["LossLog", "book_permutations"]


def book_permutations(order, epochs: int) -> np.ndarray:
    """``epochs`` rounds of the book's ``x = x[np.random.permutation(len(x))]`` on row indices.

    Parameters
    ----------
    order : ndarray of int, shape (N,)
        Row indices before the first shuffle.
    epochs : int >= 0

    Returns
    -------
    ndarray of int64, shape (epochs, N)
        Row ``e`` is ``order`` after ``e + 1`` shuffles.

    Notes
    -----
    Draws from NumPy's global generator exactly what the book's loop draws, and leaves it
    where the loop would (compiled, :func:`fastprop.kernels.shuffle.book_shuffles`, when
    the global generator is the usual MT19937 state; else NumPy's own calls).
    """
    order = validate.indices(order, "order", ndim=1, low=None, what="integer row indices",
                             allow_empty=True).astype(np.int64, copy=False)
    epochs = validate.check_scalar(epochs, "epochs", int, low=0)
    n = len(order)
    out = np.empty((epochs, n), np.int64)
    state = np.random.get_state()
    if isinstance(state, tuple) and state[0] == "MT19937" and n < 2**32:
        key = np.array(state[1], dtype=np.uint32)
        pos = np.array([state[2]], dtype=np.int64)
        shuffle_kernels.book_shuffles(key, pos, order, out)
        np.random.set_state((state[0], key, int(pos[0])) + tuple(state[3:]))
    else:
        for e in range(epochs):
            order = order[np.random.permutation(n)]
            out[e] = order
    return out


class LossLog:
    """The book's loss bookkeeping (sum, count, average at ``iters % eval_interval == 0``,
    print, reset) plus the epoch's mean loss and the progress bar.

    Parameters
    ----------
    trainer : Trainer
        Whose ``loss_list`` receives the averages and whose ``current_epoch`` the lines show.
    max_iters : int
        Iterations per epoch.
    eval_interval : int or None
        None: no averages, no lines.
    total : int
        Iterations of the whole fit (the bar's length).
    progress, verbose : bool
        Show the bar; print the book's lines.
    """

    def __init__(self, trainer, max_iters: int, eval_interval, total: int, progress: bool,
                 verbose: bool) -> None:
        self.trainer, self.max_iters, self.eval_interval = trainer, max_iters, eval_interval
        self.verbose, self.progress = verbose, progress
        self.say = tqdm.write if progress else print  # tqdm.write keeps the bar intact
        self.total_loss, self.loss_count, self.epoch_loss = 0, 0, 0.0
        self.bar = tqdm(total=total, disable=not progress, mininterval=0.5, unit="it",
                        dynamic_ncols=True)
        self.last_postfix, self.last_loss = 0.0, None
        self.start_time = time.time()

    def add(self, iters: int, loss) -> None:
        """Record the loss of iteration ``iters`` of the epoch (the book's bookkeeping)."""
        self.total_loss += loss
        self.loss_count += 1
        self.epoch_loss += float(loss)
        if self.eval_interval is not None and iters % self.eval_interval == 0:
            avg_loss = self.total_loss / self.loss_count
            if self.verbose:
                elapsed_time = time.time() - self.start_time
                self.say('| epoch %d |  iter %d / %d | time %d[s] | loss %.2f'
                         % (self.trainer.current_epoch + 1, iters + 1, self.max_iters,
                            elapsed_time, avg_loss))
            self.trainer.loss_list.append(float(avg_loss))
            self.total_loss, self.loss_count = 0, 0

    def tick(self, n: int, loss) -> None:
        """Advance the bar by ``n`` iterations, the last of which had ``loss``."""
        if not self.progress:
            return
        self.last_loss, self.last_epoch = loss, self.trainer.current_epoch + 1
        now = time.monotonic()
        if now - self.last_postfix >= 0.5:  # formatting every step would cost more than a step
            self._postfix()
            self.last_postfix = now
        self.bar.update(n)

    def _postfix(self):
        self.bar.set_postfix_str(
            f"epoch={self.last_epoch} loss={float(self.last_loss):.4f}", refresh=False)

    def close(self) -> None:
        """Close the bar, showing the last loss (not a stale one)."""
        if self.progress and self.last_loss is not None:
            self._postfix()
        self.bar.close()
