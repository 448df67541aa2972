"""vol. 1's ``common/trainer.py``: the ch. 6/7 Trainer, with the book's constructor, loop,
lists and printed lines.

(This module is meant to move into the ``fastprop.trainer`` package, next to vol. 2's
Trainer, when the two are merged.)
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import optimizers, validate
from ..nets.multi_layer import MultiLayerNetExtend

#: the book's optimizer names (``optimizer.lower()`` picks one) -> fastprop's rule names
BOOK_OPTIMIZERS = {"sgd": "sgd", "momentum": "momentum", "nesterov": "nesterov",
                   "adagrad": "adagrad", "rmsprop": "rmsprop", "adam": "adam"}


def _optimizer(name, optimizer_param):
    validate.check_type(name, str, "optimizer", f"one of the names {sorted(BOOK_OPTIMIZERS)} (any case)")
    key = name.lower()
    if key not in BOOK_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(BOOK_OPTIMIZERS)} "
                         "(any case)")
    validate.check_type(optimizer_param, Mapping, "optimizer_param",
                        "a dict of hyper-parameters (e.g. {'lr': 0.01})")
    try:
        return optimizers.by_name(BOOK_OPTIMIZERS[key], **optimizer_param)
    except TypeError as exc:  # an unknown keyword such as {'learning_rate': 0.1}
        if "unexpected keyword" not in str(exc):
            raise
        raise TypeError(f"optimizer_param {dict(optimizer_param)!r} does not fit {name!r}: {exc}") from None


def _data(x, t, name):
    if not hasattr(x, "shape") or not hasattr(t, "shape"):
        raise TypeError(f"x_{name} and t_{name} must be NumPy arrays, got "
                        f"{validate.describe(x)} and {validate.describe(t)}")
    if len(x.shape) == 0 or len(t.shape) == 0 or x.shape[0] != t.shape[0]:
        raise ValueError(f"x_{name} and t_{name} must have the same number of rows, got shapes "
                         f"{x.shape} and {t.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"x_{name} is empty (shape {x.shape})")


class Trainer:
    """Train ``network`` by mini-batch ``optimizer`` steps, evaluating once an epoch.

    Parameters
    ----------
    network : a net with ``params``, ``gradient(x, t)``, ``loss(x, t)`` and ``accuracy(x, t)``
        (the book's nets, fastprop's or the book's own)
    x_train, t_train, x_test, t_test : arrays, rows are samples
    epochs : int >= 0
    mini_batch_size : int >= 1
    optimizer : str, one of 'sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam' (any case)
    optimizer_param : dict of the optimizer's hyper-parameters; None (the default) is the
        book's default ``{'lr': 0.01}``
    evaluate_sample_num_per_epoch : int or None, evaluate on the first that many rows only
    verbose : bool, print the book's lines

    Attributes
    ----------
    train_loss_list, train_acc_list, test_acc_list : lists, as the book fills them;
    iter_per_epoch : float (``max(train_size / mini_batch_size, 1)``, not rounded: an epoch
    is counted when ``current_iter % iter_per_epoch == 0``, as in the book); max_iter,
    current_iter, current_epoch, optimizer (a :mod:`fastprop.optimizers` instance)

    Notes
    -----
    Each step draws ``np.random.choice(train_size, batch_size)`` (with replacement), like the
    book, so a seeded run samples the book's batches. With fastprop's MultiLayerNet(Extend)
    the gradient and the update of a step run as one compiled call
    (:meth:`~fastprop.nets.MultiLayerNetExtend.fused_step`, the same numbers); any other
    net goes through its ``gradient`` and the optimizer's ``update``, as in the book.
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param=None, evaluate_sample_num_per_epoch=None,
                 verbose=True):
        for attr in ("params", "gradient", "loss", "accuracy"):
            if not hasattr(network, attr):
                raise TypeError(f"network must have params, gradient, loss and accuracy (a net "
                                f"such as MultiLayerNet), got {type(network).__name__} without {attr}")
        _data(x_train, t_train, "train")
        _data(x_test, t_test, "test")
        self.epochs = validate.check_scalar(epochs, "epochs", int, low=0)
        self.batch_size = validate.positive_int(mini_batch_size, "mini_batch_size")
        if evaluate_sample_num_per_epoch is not None:
            evaluate_sample_num_per_epoch = validate.positive_int(
                evaluate_sample_num_per_epoch, "evaluate_sample_num_per_epoch")
        self.verbose = validate.flag(verbose, "verbose")
        self.optimizer = _optimizer(optimizer, {"lr": 0.01} if optimizer_param is None
                                    else optimizer_param)
        self.network = network
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch

        # fastprop's MultiLayerNet(Extend) runs gradient + update as one compiled step
        self._fused = isinstance(network, MultiLayerNetExtend)
        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / self.batch_size, 1)
        self.max_iter = int(self.epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []

    def train_step(self) -> None:
        """One mini-batch step; at an epoch boundary also the accuracies (and their line)."""
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]

        if self._fused:  # the same numbers (and RNG draws), one compiled call
            self.network.fused_step(x_batch, t_batch, self.optimizer)
        else:
            grads = self.network.gradient(x_batch, t_batch)
            self.optimizer.update(self.network.params, grads)

        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        if self.verbose:
            print("train loss:" + str(loss))

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            x_tr, t_tr, x_te, t_te = self.x_train, self.t_train, self.x_test, self.t_test
            n = self.evaluate_sample_num_per_epoch
            if n is not None:
                x_tr, t_tr, x_te, t_te = x_tr[:n], t_tr[:n], x_te[:n], t_te[:n]
            train_acc = self.network.accuracy(x_tr, t_tr)
            test_acc = self.network.accuracy(x_te, t_te)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print("=== epoch:" + str(self.current_epoch) + ", train acc:" + str(train_acc)
                      + ", test acc:" + str(test_acc) + " ===")
        self.current_iter += 1

    def train(self) -> None:
        """``max_iter`` steps, then the final test accuracy on the whole test set."""
        for _ in range(self.max_iter):
            self.train_step()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
