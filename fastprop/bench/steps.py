"""The training steps ``fastprop bench`` times: the book's loop on its NumPy net, the same
loop on fastprop's drop-in ``TwoLayerNet``, fastprop's fused step, and PyTorch's
idiomatic step, all on the same net and the same batches."""
from typing import Callable, Tuple

import numpy as np

from .book import LR, BookTwoLayerNet, book_step

#: (input, hidden, output, batch) timed by default: the book's MNIST net and two wider ones
SIZES = ((784, 50, 10, 100), (784, 1000, 10, 1000), (784, 4096, 10, 4096))
IMPLS = ("book", "dropin", "fused", "torch")


def _batches(size, dtype, fresh: bool, seed: int = 0) -> Callable[[], tuple]:
    """A zero-argument callable giving ``(x, t)``: MNIST-like float32 pixels in [0, 1)
    (``load_mnist(normalize=True)``) cast to ``dtype`` once, integer labels.

    ``fresh=False``: the same batch every call. ``fresh=True``: a new batch each call drawn
    as the book's loop draws it (``x_train[batch_mask]`` from a data set of ``8 B`` rows), so
    every step also pays for the draw and for a newly allocated batch.
    """
    D, H, O, B = size
    rng = np.random.default_rng(seed)
    n = 8 * B if fresh else B
    X = rng.random((n, D), dtype=np.float32).astype(dtype, copy=False)
    T = rng.integers(0, O, n).astype(np.intp)
    if not fresh:
        return lambda: (X, T)

    def draw():
        mask = rng.integers(0, n, B)
        return X[mask], T[mask]
    return draw


def make_step(impl: str, size, dtype, lr: float = LR, book_input="float32",
              fresh: bool = False, layers=None) -> Tuple[Callable[[], object], str]:
    """One training step of ``impl``, ready to call.

    Parameters
    ----------
    impl : {'book', 'dropin', 'fused', 'torch'}
    size : (D, H, O, B)
    dtype : float32 or float64
        The net's dtype.
    lr : float
        SGD learning rate.
    book_input : float32 or float64
        dtype of the batch the book's loop gets (``book``, ``dropin``): float32 is the
        book's MNIST, which its float64 net promotes in every ``np.dot``. The fused step and
        PyTorch get batches in their own ``dtype`` (a data set cast once, as ``fastprop
        train`` does).
    fresh : bool
        A newly drawn batch every step (see :func:`_batches`).
    layers : module or namespace, optional
        Where the ``book`` row's ``Affine``, ``Relu`` and ``SoftmaxWithLoss`` come from: a
        checkout's ``common.layers`` (``fastprop bench --book-root``,
        :mod:`fastprop.bench.baseline`); None: the transcription's.

    Returns
    -------
    step : callable
        Runs one step; returns its loss.
    library : {'numpy', 'scipy', 'torch'}
        Which BLAS the step runs on.
    """
    D, H, O, B = size
    batch = _batches(size, book_input if impl in ("book", "dropin") else dtype, fresh)
    np.random.seed(0)
    if impl == "book":
        net = BookTwoLayerNet(D, H, O) if layers is None else BookTwoLayerNet(D, H, O, layers=layers)
        if np.dtype(dtype) != np.float64:  # the book is float64; a cast net on request
            for k in net.params:
                net.params[k] = net.params[k].astype(dtype)
            for i, layer in (("1", net.layers["Affine1"]), ("2", net.layers["Affine2"])):
                layer.W, layer.b = net.params["W" + i], net.params["b" + i]
        return (lambda: book_step(net, *batch(), lr)), "numpy"
    if impl in ("dropin", "fused"):
        from ..nets import TwoLayerNet
        from ..optimizers import SGD

        net = TwoLayerNet(D, H, O, dtype=dtype)
        if impl == "dropin":
            return (lambda: book_step(net, *batch(), lr)), "scipy"
        opt = SGD(lr=lr)
        return (lambda: net.fused_step(*batch(), opt)), "scipy"
    if impl == "torch":
        return _torch_step(size, dtype, lr, batch), "torch"
    raise ValueError(f"unknown implementation {impl!r}; expected one of {IMPLS}")


def _torch_step(size, dtype, lr, batch):
    """PyTorch's idiomatic step on the same net: forward, cross-entropy, backward, SGD."""
    import torch

    D, H, O, B = size
    tdt = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]
    net = BookTwoLayerNet(D, H, O)  # the same initial weights as the other rows
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, O)).to(tdt)
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(net.params["W1"].T.copy()))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.from_numpy(net.params["W2"].T.copy()))
        model[2].bias.zero_()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    ce = torch.nn.functional.cross_entropy

    def step():
        x, t = batch()
        opt.zero_grad(set_to_none=True)
        loss = ce(model(torch.from_numpy(x)), torch.from_numpy(t))
        loss.backward()
        opt.step()
        return loss.item()

    return step
