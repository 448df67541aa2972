"""The book's trial (vol. 1 ch. 6 ``hyperparameter_optimization.py``) and its data.

An objective is any picklable callable ``objective(params, seed, data) -> dict`` whose dict
holds at least ``'val_acc'`` (the number the sweep ranks by); ``'train_acc'`` and the
per-epoch curves ``'train_acc_curve'``/``'val_acc_curve'`` are recorded and plotted when
present. The sweep seeds the global NumPy RNG with ``seed`` just before the call (the
book's nets draw their weights and batches from it), so an objective that draws from
``np.random`` gives the same numbers on any worker.

The default, :class:`BookObjective`, is the book's trial: ``MultiLayerNet(784, [100] * 6,
10, weight_decay_lambda=weight_decay)`` (:class:`fastprop.nets.MultiLayerNet`: ReLU, He
initialisation ``sqrt(2 / fan_in)`` drawn W1, W2, ... from the global RNG, loss
``+ 0.5 * wd * sum(W ** 2)``, gradient ``+ wd * W``) trained by vol. 1's Trainer
(:class:`fastprop.trainer.vol1.Trainer`, ``mini_batch_size=100``, ``optimizer='sgd'``,
``optimizer_param={'lr': lr}``, quiet): mini-batches drawn with
``np.random.choice(train_size, batch_size)``, ``iter_per_epoch = max(train_size /
batch_size, 1)``, accuracy on the whole training and validation sets whenever
``iter % iter_per_epoch == 0``.
"""
from __future__ import annotations

import collections
import dataclasses
import importlib
import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import validate

__all__ = ["DataSpec", "BookObjective", "load_split", "synthetic_mnist", "describe_objective"]

_DATASETS = ("mnist", "fashion-mnist", "synthetic")




@dataclass(frozen=True)
class DataSpec:
    """Which data a sweep trains on; the key of the per-worker data cache.

    Parameters
    ----------
    dataset : str
        ``'mnist'`` (default, :func:`fastprop.datasets.load_mnist`), ``'fashion-mnist'``,
        ``'synthetic'`` (:func:`synthetic_mnist`: MNIST-shaped, learnable, no download), or
        ``'package.module:function'``, a function ``f(n, seed)`` returning
        ``(x, t)`` with at least ``n`` rows.
    train_size : int
        Rows taken from the start of the training set (the book: 500).
    validation_rate : float
        Share of those rows held out for validation after shuffling (the book: 0.2).
    seed : int
        Seed of the shuffle (``np.random.RandomState(seed).permutation``) and of the
        synthetic data: every worker makes the same split.
    """

    dataset: str = "mnist"
    train_size: int = 500
    validation_rate: float = 0.2
    seed: int = 0

    def __post_init__(self):
        names = f"one of {list(_DATASETS)} or 'module:function'"
        validate.check_type(self.dataset, str, "dataset", names)
        if self.dataset not in _DATASETS and ":" not in self.dataset:
            raise ValueError(f"dataset must be {names}, got {self.dataset!r}")
        object.__setattr__(self, "train_size", validate.positive_int(self.train_size, "train_size"))
        rate = validate.check_scalar(self.validation_rate, "validation_rate", float, low=0, high=1,
                                     low_open=True, high_open=True, expected="a number in (0, 1)")
        n_val = int(self.train_size * rate)
        if n_val < 1 or n_val >= self.train_size:
            raise ValueError(f"train_size {self.train_size} with validation_rate {rate} leaves "
                             f"{n_val} validation and {self.train_size - n_val} training rows; "
                             "both must be at least 1")
        from .space import check_seed  # the split seeds np.random.RandomState: [0, 2**32)

        object.__setattr__(self, "seed", check_seed(self.seed, "data seed"))


def synthetic_mnist(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` MNIST-shaped rows (float32 in [0, 1], 784 columns, labels 0-9) where a strip
    of 8 pixels per class gives the label away among noise: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 10, n).astype(np.uint8)
    x = rng.random((n, 784)).astype(np.float32) * 0.3
    x[np.arange(n)[:, None], t.astype(np.intp)[:, None] * 78 + np.arange(8)] += 0.7
    return x, t


def _raw(spec: DataSpec) -> tuple[np.ndarray, np.ndarray]:
    if spec.dataset == "synthetic":
        return synthetic_mnist(spec.train_size, spec.seed)
    if ":" in spec.dataset:
        module, _, name = spec.dataset.partition(":")
        return getattr(importlib.import_module(module), name)(spec.train_size, spec.seed)
    from .. import datasets

    load = datasets.load_mnist if spec.dataset == "mnist" else datasets.load_fashion_mnist
    (x, t), _ = load(normalize=True)
    return x, t


_CACHE: dict[DataSpec, dict] = {}
#: how many times this process loaded each DataSpec (once per worker, not once per trial)
LOADS: collections.Counter = collections.Counter()


def load_split(spec: DataSpec) -> dict[str, np.ndarray]:
    """The book's split, loaded once per process and cached by ``spec``.

    ``x_train[:train_size]``, shuffled (the book's ``shuffle_dataset``, seeded), the first
    ``int(train_size * validation_rate)`` rows as validation, the rest for training:
    ``{'x_train', 't_train', 'x_val', 't_val'}``.
    """
    if spec in _CACHE:
        return _CACHE[spec]
    x, t = _raw(spec)
    x, t = np.asarray(x)[:spec.train_size], np.asarray(t)[:spec.train_size]
    if len(x) < spec.train_size or len(t) != len(x):
        raise ValueError(f"{spec.dataset}: asked for {spec.train_size} rows, got {len(x)} "
                         f"images and {len(t)} labels")
    perm = np.random.RandomState(spec.seed).permutation(x.shape[0])
    x, t = x[perm], t[perm]
    n_val = int(x.shape[0] * spec.validation_rate)
    data = {"x_train": x[n_val:], "t_train": t[n_val:], "x_val": x[:n_val], "t_val": t[:n_val]}
    for a in data.values():
        a.setflags(write=False)
    _CACHE[spec] = data
    LOADS[spec] += 1
    return data


@dataclass(frozen=True)
class BookObjective:
    """vol. 1 ch. 6's trial: ``MultiLayerNet(input, [hidden_size] * hidden_layers, classes,
    weight_decay_lambda=weight_decay)`` trained by vol. 1's Trainer with SGD (see the module
    docstring).

    ``params`` must hold ``lr`` and may hold ``weight_decay`` (default 0). Returns
    ``train_acc``/``val_acc`` after the last step (the net's accuracy on the whole training
    and validation sets), the per-epoch ``train_acc_curve`` and ``val_acc_curve`` (the
    Trainer's ``train_acc_list``/``test_acc_list``, which the book's script returns) and
    ``loss_curve``: the Trainer's ``train_loss_list`` (the loss of each step's batch with the
    weight-decay term, after the step's update) taken at the same per-epoch points, one value
    per entry of the accuracy curves.
    """

    epochs: int = 50
    batch_size: int = 100
    hidden_size: int = 100
    hidden_layers: int = 6

    def __post_init__(self):
        for name in ("epochs", "batch_size", "hidden_size", "hidden_layers"):
            object.__setattr__(self, name, validate.positive_int(getattr(self, name), name))

    def __call__(self, params: dict, seed: int, data: dict) -> dict:
        from ..nets import MultiLayerNet
        from ..trainer.vol1 import Trainer

        unknown = set(params) - {"lr", "weight_decay"}
        if "lr" not in params or unknown:
            raise ValueError("BookObjective takes params lr and weight_decay, "
                             f"got {sorted(params)}")
        lr, wd = float(params["lr"]), float(params.get("weight_decay", 0.0))
        x, t, xv, tv = data["x_train"], data["t_train"], data["x_val"], data["t_val"]
        n_in, n_out = x.shape[1], int(max(t.max(), tv.max())) + 1
        # the net draws its weights from the global RNG (seeded by the sweep), then the
        # Trainer draws its batches from it: the book's order
        net = MultiLayerNet(n_in, [self.hidden_size] * self.hidden_layers, n_out,
                            weight_decay_lambda=wd)
        trainer = Trainer(net, x, t, xv, tv, epochs=self.epochs,
                          mini_batch_size=self.batch_size, optimizer="sgd",
                          optimizer_param={"lr": lr}, verbose=False)
        trainer.train()
        per_epoch = trainer.iter_per_epoch
        loss_curve = [float(loss) for i, loss in enumerate(trainer.train_loss_list)
                      if i % per_epoch == 0]
        return {"train_acc": float(net.accuracy(x, t)), "val_acc": float(net.accuracy(xv, tv)),
                "train_acc_curve": [float(a) for a in trainer.train_acc_list],
                "val_acc_curve": [float(a) for a in trainer.test_acc_list],
                "loss_curve": loss_curve}


def describe_objective(objective: Callable) -> dict:
    """``{'name': 'module.qualname', 'args': {...}}`` for the results file's header: a
    function's or class's name, an instance's class name, and the fields of a dataclass
    instance as ``args`` (``{}`` otherwise)."""
    if not callable(objective):
        raise TypeError(f"objective must be callable as objective(params, seed, data), "
                        f"got {type(objective).__name__}")
    instance = dataclasses.is_dataclass(objective) and not isinstance(objective, type)
    named = isinstance(objective, type) or inspect.isroutine(objective)
    target = objective if named else type(objective)  # an instance: its class (no address)
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    args = dataclasses.asdict(objective) if instance else {}
    return {"name": name, "args": args}
