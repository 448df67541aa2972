"""Vol. 2's ``Trainer`` (``common/trainer.py``) with optional extras.

:meth:`Trainer.fit` draws exactly what the book draws from the global RNG (one
``np.random.permutation`` per epoch) and averages and prints the loss at the same
iterations, so a seeded run reproduces the book's loss curve. The extras (a progress bar,
per-epoch accuracy, compiled train steps when the model offers them) draw nothing.
"""
import numbers
import time
import warnings
from collections.abc import Mapping

import numpy as np
from tqdm import tqdm

from .kernels import loss_average as _loss_average
from .kernels import shuffle as _shuffle

__all__ = ["Trainer", "accuracy", "book_permutations", "clip_grads", "remove_duplicate"]

#: rows per model.predict call when measuring accuracy (bounds the activations' memory)
ACCURACY_CHUNK = 10000


def book_permutations(order, epochs):
    """``epochs`` rounds of the book's ``x = x[np.random.permutation(len(x))]`` on row
    indices: row ``e`` of the result is ``order`` after ``e + 1`` shuffles.

    Draws from NumPy's global generator exactly what the book's loop draws, and leaves it
    where the loop would (compiled, :func:`fastprop.kernels.shuffle.book_shuffles`, when
    the global generator is the usual MT19937 state; else NumPy's own calls).
    """
    order = np.asarray(order)
    if order.dtype.kind not in "iu":
        raise TypeError(f"order must hold integer row indices, got dtype {order.dtype}")
    order = np.ascontiguousarray(order, dtype=np.int64)
    epochs = _check_int(epochs, "epochs", 0)
    if order.ndim != 1:
        raise ValueError(f"order must be 1-D row indices, got shape {order.shape}")
    n = len(order)
    out = np.empty((epochs, n), np.int64)
    state = np.random.get_state()
    if isinstance(state, tuple) and state[0] == "MT19937" and n < 2**32:
        key = np.array(state[1], dtype=np.uint32)
        pos = np.array([state[2]], dtype=np.int64)
        _shuffle.book_shuffles(key, pos, order, out)
        np.random.set_state((state[0], key, int(pos[0])) + tuple(state[3:]))
    else:
        for e in range(epochs):
            order = order[np.random.permutation(n)]
            out[e] = order
    return out


def clip_grads(grads, max_norm):
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
    if isinstance(grads, Mapping):
        grads = list(grads.values())
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


def remove_duplicate(params, grads):
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


def _labels(t):
    t = np.asarray(t)
    return t if t.ndim == 1 else np.argmax(t, axis=1)


def accuracy(model, x, t, chunk=ACCURACY_CHUNK):
    """Fraction of rows whose argmax score equals the label (``t`` labels or one-hot), with
    ``model.predict`` run on ``chunk`` rows at a time (the same number as the book's
    ``accuracy``, without a whole-set temporary); None when ``model.predict`` does not return
    one score row per sample (e.g. time-series models)."""
    labels = _labels(t)
    correct = 0
    for start in range(0, len(x), chunk):
        score = np.asarray(model.predict(x[start:start + chunk]))
        n = min(chunk, len(x) - start)
        if score.ndim != 2 or score.shape[0] != n:
            warnings.warn(f"model.predict returned shape {score.shape} for {n} rows; "
                          "accuracy is not recorded", RuntimeWarning, stacklevel=3)
            return None
        correct += int(np.sum(np.argmax(score, axis=1) == labels[start:start + n]))
    return correct / len(x)


def _check_int(v, name, low):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(v).__name__} {v!r}")
    if v < low:
        raise ValueError(f"{name} must be >= {low}, got {v!r}")
    return int(v)


class _LossLog:
    """The book's loss bookkeeping (sum, count, average at ``iters % eval_interval == 0``,
    print, reset) plus the epoch's mean loss and the progress bar."""

    def __init__(self, trainer, max_iters, eval_interval, total, progress, verbose):
        self.trainer, self.max_iters, self.eval_interval = trainer, max_iters, eval_interval
        self.verbose, self.progress = verbose, progress
        self.say = tqdm.write if progress else print  # tqdm.write keeps the bar intact
        self.total_loss, self.loss_count, self.epoch_loss = 0, 0, 0.0
        self.bar = tqdm(total=total, disable=not progress, mininterval=0.5, unit="it",
                        dynamic_ncols=True)
        self.last_postfix, self.last_loss = 0.0, None
        self.start_time = time.time()

    def add(self, iters, loss):
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

    def tick(self, n, loss):
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

    def close(self):
        if self.progress and self.last_loss is not None:
            self._postfix()  # the final bar shows the last loss, not a stale one
        self.bar.close()


class Trainer:
    """Mini-batch training of a vol. 2 model (``params``, ``grads``, ``forward``, ``backward``).

    Parameters
    ----------
    model : object
        ``forward(x, t)`` returns the loss, ``backward()`` fills ``grads`` in place;
        ``params``/``grads`` are lists (or dicts) of arrays. Optional: ``predict(x)``
        (per-epoch accuracy) and ``fused_step(x, t, optimizer)`` (see :meth:`fit`).
    optimizer : fastprop optimizer (or any object with ``update(params, grads)``)

    Attributes
    ----------
    loss_list : list of float
        Averaged loss at every evaluation point, across all :meth:`fit` calls.
    current_epoch : int
        Epochs trained so far (persists across :meth:`fit` calls).
    eval_interval : int or None
        That of the last :meth:`fit` (the x unit of :meth:`plot`).
    history : dict of lists
        One entry per epoch: ``'epoch'``, ``'loss'`` (mean batch loss of the epoch),
        ``'train_acc'``, ``'val_acc'`` (None when not measured).
    """

    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer
        self.loss_list = []
        self.eval_interval = None
        self.current_epoch = 0
        self.history = {"epoch": [], "loss": [], "train_acc": [], "val_acc": []}

    def fit(self, x, t, max_epoch=10, batch_size=32, max_grad=None, eval_interval=20, *,
            x_val=None, t_val=None, eval_train=False, progress=True, verbose=True):
        """Train for ``max_epoch`` epochs of ``len(x) // batch_size`` mini-batches.

        Parameters
        ----------
        x, t : ndarray
            Inputs and targets (labels or one-hot), same length.
        max_epoch : int >= 0
        batch_size : int, 1 <= batch_size <= len(x)
            The ``len(x) % batch_size`` rows left over after shuffling are skipped
            for that epoch, as in the book.
        max_grad : float > 0 or None
            Clip the total gradient norm to this (:func:`clip_grads`).
        eval_interval : int > 0 or None
            Average, store (:attr:`loss_list`) and print the loss at iterations
            ``0, eval_interval, 2 * eval_interval, ...`` of every epoch (the book's
            ``iters % eval_interval == 0``; the sum is not reset between epochs).
        x_val, t_val : ndarray, optional
            Validation data: accuracy recorded after every epoch in :attr:`history`.
        eval_train : bool
            Also record training-set accuracy each epoch (needs ``model.predict``;
            computed in chunks of :data:`ACCURACY_CHUNK` rows). Off by default: the
            book's Trainer does not do it, and on small sets it costs more than the epoch.
        progress : bool
            Show a tqdm bar over iterations.
        verbose : bool
            Print the book's ``| epoch ... | loss ...`` lines.

        Notes
        -----
        Compiled fast paths, used only when ``max_grad`` is None (clipping needs the
        gradients between backward and update); neither draws random numbers, and each
        returns None for "not supported", after which this fit stops asking. Tried in order:

        1. ``model.train_steps(x, t, idx, batch_size, optimizer)``: the steps on batches
           ``x[idx[k*B:(k+1)*B]]`` in one call, returning their losses. ``idx`` is the
           book's cumulative shuffle, so the batches are the book's; calls are cut at the
           evaluation points.
        2. ``model.fused_step(bx, bt, optimizer)``: one batch's forward, backward and
           update in one call, returning its loss.
        3. ``model.forward``, ``model.backward``, :func:`remove_duplicate`,
           :func:`clip_grads`, ``optimizer.update`` (the book's step).
        """
        x, t = np.asarray(x), np.asarray(t)
        max_epoch, batch_size, max_grad, eval_interval = self._check_args(
            x, t, max_epoch, batch_size, max_grad, eval_interval)
        has_val = x_val is not None or t_val is not None
        if has_val:
            x_val, t_val = self._check_val(x_val, t_val)
        has_predict = callable(getattr(self.model, "predict", None))
        if has_val and not has_predict:
            raise TypeError("validation accuracy needs model.predict(x), which this model lacks")
        eval_train = bool(eval_train) and has_predict

        data_size = len(x)
        max_iters = data_size // batch_size
        self.eval_interval = eval_interval
        model, optimizer = self.model, self.optimizer
        fused = max_grad is None and callable(getattr(model, "fused_step", None))
        many = max_grad is None and callable(getattr(model, "train_steps", None))
        log = _LossLog(self, max_iters, eval_interval, max_epoch * max_iters, progress, verbose)
        # Rows of the original x that the book's repeatedly shuffled ``x = x[idx]`` holds:
        # compiled multi-step training gathers batches through it without copying x.
        order = np.arange(data_size)
        # Nothing to do between epochs (no lines, bar, or accuracies): after one epoch has
        # shown that train_steps works, the remaining epochs run as one compiled call.
        bulk = not (verbose or progress or has_val or eval_train)
        try:
            for epoch in range(max_epoch):
                if bulk and many and epoch > 0:
                    self._bulk_epochs(x, t, order, batch_size, max_iters, max_epoch - epoch, log)
                    break
                # the book's shuffle, and the only random draw of the epoch
                idx = np.random.permutation(data_size)  # == permutation(arange(n)), same draws
                order = order[idx]
                log.epoch_loss = 0.0
                start = 0
                if many:
                    start, many = self._train_steps(x, t, order, batch_size, max_iters, log)
                if start < max_iters:
                    xe, te = x[order], t[order]  # == the book's x, t this epoch
                for iters in range(start, max_iters):
                    batch_x = xe[iters * batch_size:(iters + 1) * batch_size]
                    batch_t = te[iters * batch_size:(iters + 1) * batch_size]

                    loss = model.fused_step(batch_x, batch_t, optimizer) if fused else None
                    if loss is None:
                        fused = False
                        loss = model.forward(batch_x, batch_t)
                        model.backward()
                        params, grads = model.params, model.grads
                        if not isinstance(params, Mapping):
                            params, grads = remove_duplicate(params, grads)
                        if max_grad is not None:
                            clip_grads(grads, max_grad)
                        optimizer.update(params, grads)
                    log.add(iters, loss)
                    log.tick(1, loss)

                self.current_epoch += 1
                self._record_epoch(log.epoch_loss / max_iters, x, t, x_val, t_val, eval_train, has_val)
        finally:
            log.close()

    def _train_steps(self, x, t, order, batch_size, max_iters, log):
        """Run the epoch through ``model.train_steps`` in chunks that end at the book's
        evaluation points (so lines print when the book prints them).

        Returns ``(iterations done, keep using train_steps)``.
        """
        ei = log.eval_interval
        iters = 0
        while iters < max_iters:
            # next evaluation point at or after iters (inclusive), or the epoch's end
            end = max_iters if ei is None else min(max_iters, -(-iters // ei) * ei + 1)
            losses = self.model.train_steps(x, t, order[iters * batch_size:end * batch_size],
                                            batch_size, self.optimizer)
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

    def _bulk_epochs(self, x, t, order, batch_size, max_iters, n_epochs, log):
        """``n_epochs`` more epochs through one ``model.train_steps`` call per chunk of
        epochs. The permutations are drawn up front, in the book's order, from NumPy's
        global generator (:func:`book_permutations`); the steps draw no random numbers, so
        the RNG ends where the book's loop leaves it. The loss bookkeeping is the book's,
        compiled (:func:`fastprop.kernels.loss_average.average_losses`)."""
        per_chunk = max(1, 2_000_000 // max(1, max_iters * batch_size))
        ei = log.eval_interval or 0
        state = np.array([log.total_loss, log.loss_count], dtype=np.float64)
        while n_epochs > 0:
            k = min(per_chunk, n_epochs)
            orders = book_permutations(order, k)
            order = orders[-1]
            rows = np.ascontiguousarray(orders[:, :max_iters * batch_size]).reshape(-1)
            losses = self.model.train_steps(x, t, rows, batch_size, self.optimizer)
            if losses is None or len(losses) != k * max_iters:
                raise RuntimeError("model.train_steps worked for the first epoch, then returned "
                                   f"{'None' if losses is None else len(losses)} for {k * max_iters} "
                                   "batches; it must answer the same way within one fit")
            losses = np.ascontiguousarray(losses, dtype=np.float64)
            averages = np.empty(k * max_iters)
            means = np.empty(k)
            n_avg = _loss_average.average_losses(losses, max_iters, ei, state, averages, means)
            self.loss_list.extend(averages[:n_avg].tolist())
            h = self.history
            h["epoch"].extend(range(self.current_epoch + 1, self.current_epoch + k + 1))
            h["loss"].extend(means.tolist())
            h["train_acc"].extend([None] * k)
            h["val_acc"].extend([None] * k)
            self.current_epoch += k
            log.epoch_loss = float(means[-1]) * max_iters
            n_epochs -= k
        log.total_loss, log.loss_count = float(state[0]), int(state[1])
        return order

    def _record_epoch(self, mean_loss, x, t, x_val, t_val, eval_train, has_val):
        h = self.history
        h["epoch"].append(self.current_epoch)
        h["loss"].append(mean_loss)
        h["train_acc"].append(accuracy(self.model, x, t) if eval_train else None)
        h["val_acc"].append(accuracy(self.model, x_val, t_val) if has_val else None)

    @staticmethod
    def _check_args(x, t, max_epoch, batch_size, max_grad, eval_interval):
        if x.ndim == 0 or t.ndim == 0:
            raise ValueError("x and t must be arrays with one row per sample, got a 0-d array")
        if len(x) != len(t):
            raise ValueError(f"x and t must have the same length, got {len(x)} and {len(t)}")
        max_epoch = _check_int(max_epoch, "max_epoch", 0)
        batch_size = _check_int(batch_size, "batch_size", 1)
        if batch_size > len(x):
            raise ValueError(f"batch_size must be <= len(x) = {len(x)}, got {batch_size}")
        if eval_interval is not None:
            eval_interval = _check_int(eval_interval, "eval_interval", 1)
        if max_grad is not None:
            if isinstance(max_grad, bool) or not isinstance(max_grad, numbers.Real):
                raise TypeError(f"max_grad must be a number or None, got {type(max_grad).__name__}")
            if not max_grad > 0:
                raise ValueError(f"max_grad must be > 0 (or None for no clipping), got {max_grad!r}")
        return max_epoch, batch_size, max_grad, eval_interval

    @staticmethod
    def _check_val(x_val, t_val):
        if x_val is None or t_val is None:
            raise ValueError("pass both x_val and t_val (or neither)")
        x_val, t_val = np.asarray(x_val), np.asarray(t_val)
        if x_val.ndim == 0 or len(x_val) == 0 or len(x_val) != len(t_val):
            raise ValueError(f"x_val and t_val must be non-empty and of the same length, "
                             f"got shapes {x_val.shape} and {t_val.shape}")
        return x_val, t_val

    def plot(self, path=None, ylim=None):
        """Plot the loss curve (and per-epoch accuracy, when recorded).

        Parameters
        ----------
        path : str or path-like, optional
            Save a PNG there (Agg backend, no window) and return ``path``; otherwise
            show the figure with pyplot.
        ylim : (float, float), optional
            Limits of the loss axis.
        """
        try:
            import matplotlib  # noqa: F401  (optional dependency)
        except ImportError as exc:
            raise ImportError("Trainer.plot needs matplotlib: pip install 'fastprop[plot]'") from exc
        acc = self.history
        has_acc = any(v is not None for v in acc["train_acc"] + acc["val_acc"])
        size = (10, 4) if has_acc else (6, 4)
        if path is not None:
            # an Agg canvas of our own: never touches pyplot's global backend or opens a window
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            fig = Figure(figsize=size)
            FigureCanvasAgg(fig)
        else:
            import matplotlib.pyplot as plt
            fig = plt.figure(figsize=size)
        axes = fig.subplots(1, 2 if has_acc else 1, squeeze=False)[0]

        ax = axes[0]
        ax.plot(np.arange(len(self.loss_list)), self.loss_list, label="train")
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_xlabel(f"iterations (x{self.eval_interval})")
        ax.set_ylabel("loss")
        if has_acc:
            ax = axes[1]
            for name, label in (("train_acc", "train"), ("val_acc", "val")):
                pts = [(e, a) for e, a in zip(acc["epoch"], acc[name]) if a is not None]
                if pts:
                    ax.plot(*zip(*pts), marker="o", markersize=3, label=label)
            ax.set_xlabel("epoch")
            ax.set_ylabel("accuracy")
            ax.legend(loc="lower right")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, format="png")
            return path
        plt.show()
        return None
