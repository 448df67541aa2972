"""Vol. 2's ``Trainer`` (``common/trainer.py``) with optional extras.

:meth:`Trainer.fit` draws exactly what the book draws from the global RNG (one
``np.random.permutation`` per epoch) and averages and prints the loss at the same
iterations, so a seeded run reproduces the book's loss curve. The extras (a progress bar,
per-epoch accuracy, compiled train steps when the model offers them) draw nothing.
"""
import inspect
from collections.abc import Mapping

import numpy as np

from .. import validate
from . import compiled
from .bookkeeping import LossLog
from .grads import fit_step
from .metrics import accuracy
from .plotting import plot_curves

__all__ = ["Trainer"]

#: what the Trainer calls on a model, and on an optimizer
MODEL_PROTOCOL = ("forward", "backward", "params", "grads")
OPTIMIZER_PROTOCOL = ("update",)


def _has(obj, name):
    """Whether ``obj`` has attribute ``name``, without running a property to find out."""
    try:
        inspect.getattr_static(obj, name)
        return True
    except AttributeError:
        return hasattr(obj, name)  # attributes provided by __getattr__


def _check_protocol(model, optimizer):
    for name, obj in (("model", model), ("optimizer", optimizer)):
        if isinstance(obj, type):
            raise TypeError(f"{name} must be an instance, got the class {obj.__name__} "
                            f"(call it: {obj.__name__}(...))")
    missing = [name for name in MODEL_PROTOCOL if not _has(model, name)
               or (name in ("forward", "backward") and not callable(getattr(model, name)))]
    if missing:
        raise TypeError(
            "model must follow vol. 2's model protocol: forward(x, t) returning the loss, "
            "backward(dout=1) filling grads, and the params and grads lists (or dicts); "
            f"{type(model).__name__} lacks {', '.join(missing)}")
    for name in ("params", "grads"):  # checked now, not at the first update deep inside fit
        try:
            value = inspect.getattr_static(model, name)
        except AttributeError:  # provided by __getattr__: known only when used
            continue
        if hasattr(type(value), "__get__"):  # a property: may be valid only after a backward
            continue
        validate.check_type(value, (list, tuple, Mapping), f"model.{name}",
                            "a list (or dict) of arrays, as vol. 2's models set in __init__ "
                            f"({type(model).__name__}.{name})")
    if not callable(getattr(optimizer, "update", None)):
        raise TypeError("optimizer must have update(params, grads) (a fastprop optimizer or "
                        f"the book's), got {type(optimizer).__name__} without it")


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

    def __init__(self, model, optimizer) -> None:
        _check_protocol(model, optimizer)
        self.model = model
        self.optimizer = optimizer
        self.loss_list = []
        self.eval_interval = None
        self.current_epoch = 0
        self.history = {"epoch": [], "loss": [], "train_acc": [], "val_acc": []}

    def fit(self, x, t, max_epoch: int = 10, batch_size: int = 32, max_grad=None,
            eval_interval=20, *, x_val=None, t_val=None, eval_train: bool = False,
            progress: bool = True, verbose: bool = True) -> None:
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
            computed in chunks of
            :data:`~fastprop.trainer.metrics.ACCURACY_CHUNK` rows). Off by default: the
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
           evaluation points. In a quiet fit the epochs after the first run as one call
           with the permutations drawn up front, unless ``model.steps_draw_random`` is
           true (the steps draw from the global RNG, as word2vec's negatives do: the book
           draws each permutation after the previous epoch's negatives).
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
        if eval_train and t.ndim not in (1, 2):
            raise ValueError(f"eval_train needs t as labels (N,) or one-hot rows (N, C), "
                             f"got shape {t.shape}")

        data_size = len(x)
        max_iters = data_size // batch_size
        self.eval_interval = eval_interval
        model, optimizer = self.model, self.optimizer
        fused = max_grad is None and callable(getattr(model, "fused_step", None))
        many = max_grad is None and callable(getattr(model, "train_steps", None))
        log = LossLog(self, max_iters, eval_interval, max_epoch * max_iters, progress, verbose)
        # Rows of the original x that the book's repeatedly shuffled ``x = x[idx]`` holds:
        # compiled multi-step training gathers batches through it without copying x.
        order = np.arange(data_size)
        # Nothing to do between epochs (no lines, bar, or accuracies): after one epoch has
        # shown that train_steps works, the remaining epochs run as one compiled call.
        # A model whose steps draw from the global RNG (word2vec's negatives) must not have
        # the later epochs' permutations drawn ahead of its draws: no bulk for it.
        bulk = not (verbose or progress or has_val or eval_train
                    or getattr(model, "steps_draw_random", False))
        try:
            for epoch in range(max_epoch):
                if bulk and many and epoch > 0:
                    compiled.bulk_epochs(self, x, t, order, batch_size, max_iters,
                                         max_epoch - epoch, log)
                    break
                # the book's shuffle, and the only random draw of the epoch
                idx = np.random.permutation(data_size)  # == permutation(arange(n)), same draws
                order = order[idx]
                log.epoch_loss = 0.0
                start = 0
                if many:
                    start, many = compiled.epoch_through_train_steps(
                        self, x, t, order, batch_size, max_iters, log)
                if start < max_iters:
                    xe, te = x[order], t[order]  # == the book's x, t this epoch
                for iters in range(start, max_iters):
                    batch_x = xe[iters * batch_size:(iters + 1) * batch_size]
                    batch_t = te[iters * batch_size:(iters + 1) * batch_size]

                    loss = model.fused_step(batch_x, batch_t, optimizer) if fused else None
                    if loss is None:
                        fused = False
                        loss = fit_step(model, optimizer, batch_x, batch_t, max_grad)
                    log.add(iters, loss)
                    log.tick(1, loss)

                self.current_epoch += 1
                self._record_epoch(log.epoch_loss / max_iters, x, t, x_val, t_val, eval_train, has_val)
        finally:
            log.close()

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
            raise ValueError(f"x and t must have the same length (one target per sample), "
                             f"got {len(x)} and {len(t)} (shapes {x.shape} and {t.shape})")
        if len(x) == 0:
            raise ValueError(f"x and t are empty (shapes {x.shape} and {t.shape}): "
                             "nothing to train on")
        max_epoch = validate.check_scalar(max_epoch, "max_epoch", int, low=0)
        batch_size = validate.check_scalar(batch_size, "batch_size", int, low=1)
        if batch_size > len(x):
            raise ValueError(f"batch_size must be <= len(x) = {len(x)}, got {batch_size}")
        if eval_interval is not None:
            eval_interval = validate.check_scalar(eval_interval, "eval_interval", int, low=1)
        if max_grad is not None:
            max_grad = validate.check_scalar(max_grad, "max_grad (None for no clipping)", float, low=0, low_open=True)
        return max_epoch, batch_size, max_grad, eval_interval

    @staticmethod
    def _check_val(x_val, t_val):
        if x_val is None or t_val is None:
            raise ValueError("pass both x_val and t_val (or neither)")
        x_val, t_val = np.asarray(x_val), np.asarray(t_val)
        if x_val.ndim == 0 or len(x_val) == 0 or len(x_val) != len(t_val):
            raise ValueError(f"x_val and t_val must be non-empty and of the same length, "
                             f"got shapes {x_val.shape} and {t_val.shape}")
        if t_val.ndim not in (1, 2):
            raise ValueError(f"t_val must be labels (N,) or one-hot rows (N, C), "
                             f"got shape {t_val.shape}")
        return x_val, t_val

    def plot(self, path=None, ylim=None):
        """Plot the loss curve (and per-epoch accuracy, when recorded) with
        :func:`~fastprop.trainer.plotting.plot_curves`.

        Parameters
        ----------
        path : str or path-like, optional
            Save a PNG there (an Agg canvas, no window) and return ``path``; otherwise
            show the figure with pyplot.
        ylim : (float, float), optional
            Limits of the loss axis.
        """
        h = self.history
        return plot_curves(self.loss_list, xlabel=f"iterations (x{self.eval_interval})",
                           epochs=h["epoch"],
                           accuracies={"train": h["train_acc"], "val": h["val_acc"]},
                           ylim=ylim, path=path, who="Trainer.plot")
