"""The book's TwoLayerNet (vol. 1 ch. 5), also speaking vol. 2's model protocol."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import validate
from ..gradient import numerical_gradient as _numerical_gradient
from ..layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from ..layers.softmax import as_2d_scores
from .fused import FusedTwoLayer
from .params import ParamDict

_ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}
#: weights one net may hold (2**31: 16 GiB of float64) -- refused before allocating
MAX_PARAMETERS = 2**31


def _check_optimizer(optimizer):
    if not callable(getattr(optimizer, "update", None)):
        raise TypeError(f"optimizer must have an update(params, grads) method (e.g. "
                        f"fastprop.optimizers.SGD()), got {type(optimizer).__name__}")


class TwoLayerNet:
    """Affine -> Relu (or Sigmoid) -> Affine -> SoftmaxWithLoss.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
    weight_init_std : float
        ``W1`` then ``W2`` are drawn as ``weight_init_std * np.random.randn(...)`` from the
        global RNG, so a seeded run draws the book's numbers.
    activation : {'relu', 'sigmoid'}
        ``'sigmoid'`` is vol. 2's spiral model.
    dtype : float64 (default) or float32
        Parameters, activations, gradients and updates all use this dtype.

    Attributes
    ----------
    params : dict ``W1, b1, W2, b2`` (vol. 1); ``grads``: same keys, stable arrays
        filled by :meth:`backward`/:meth:`gradient` (vol. 2 protocol).
    layers : OrderedDict ``Affine1, Relu1 (or Sigmoid1), Affine2``; ``lastLayer``.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, *,
                 activation="relu", dtype=np.float64):
        input_size = validate.positive_int(input_size, "input_size")
        hidden_size = validate.positive_int(hidden_size, "hidden_size")
        output_size = validate.positive_int(output_size, "output_size")
        std = validate.real_scalar(weight_init_std, "weight_init_std")
        dt = validate.float_dtype(dtype)
        if input_size * hidden_size + hidden_size * output_size > MAX_PARAMETERS:
            raise ValueError(f"TwoLayerNet({input_size}, {hidden_size}, {output_size}) would hold "
                             f"{input_size * hidden_size + hidden_size * output_size} weights, more "
                             f"than the {MAX_PARAMETERS} this library allows in one net")
        validate.choice(activation, _ACTIVATIONS, "activation")
        self.activation = activation
        self.dtype = dt
        params = {
            "W1": (std * np.random.randn(input_size, hidden_size)).astype(dt, copy=False),
            "b1": np.zeros(hidden_size, dtype=dt),
            "W2": (std * np.random.randn(hidden_size, output_size)).astype(dt, copy=False),
            "b2": np.zeros(output_size, dtype=dt),
        }
        act = _ACTIVATIONS[self.activation]
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(params["W1"], params["b1"])
        self.layers[act.__name__ + "1"] = act()
        self.layers["Affine2"] = Affine(params["W2"], params["b2"])
        self.lastLayer = SoftmaxWithLoss()
        self.params = params
        self._fused = FusedTwoLayer(self)

    @property
    def params(self) -> ParamDict:
        """``W1, b1, W2, b2``: the layers' own arrays. Assigning ``params[key] = array``
        (or a whole new dict) rebinds the layer too (:class:`~fastprop.nets.params.ParamDict`)."""
        return self._params

    @params.setter
    def params(self, value):
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        self._params = ParamDict(value, {"W1": (a1, 0), "b1": (a1, 1), "W2": (a2, 0), "b2": (a2, 1)})

    @property
    def grads(self):
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        return {"W1": a1.dW, "b1": a1.db, "W2": a2.dW, "b2": a2.db}

    # ------------------------------------------------------------------ vol. 1 API

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x, t) -> float:
        """Fraction of rows whose argmax score equals the label (``t``: labels (N,) or
        one-hot rows of the scores' shape (N, C)); always in [0, 1]."""
        scores = as_2d_scores(self.predict(x), "the scores")
        y = np.argmax(scores, axis=1)
        t, onehot = validate.targets(t, scores.shape, scores.dtype)
        if onehot:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(y.shape[0])

    def numerical_gradient(self, x, t):
        """Central differences of :meth:`loss` for every parameter (slow: a check only)."""
        def loss_w(_):
            return self.loss(x, t)

        return {k: _numerical_gradient(loss_w, self.params[k]) for k in ("W1", "b1", "W2", "b2")}

    def gradient(self, x, t):
        """Backprop gradients of the loss at ``x, t``: a dict of the stable gradient arrays.

        The loss's gradient comes out of the same fused pass as the loss, and the first
        layer's input gradient (``dout @ W1.T``, never used) is not computed.
        """
        self._forward_backward(x, t, need_dx=False)
        return self.grads

    # ------------------------------------------------------------------ vol. 2 protocol

    def forward(self, x, t):
        """The loss at ``x, t`` (vol. 2); keeps what :meth:`backward` needs."""
        return self.loss(x, t)

    def backward(self, dout=1):
        """Fill :attr:`grads` from the last :meth:`forward`; returns ``dL/dx``."""
        dout = self.lastLayer.backward(dout)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        return dout

    # ------------------------------------------------------------------ fused training

    def fused_step(self, x, t, optimizer):
        """Forward, backward and ``optimizer`` update of one batch in one compiled call.

        Returns the batch's loss (of this same forward pass), or None when the optimizer
        is not one of fastprop's own (then use ``gradient`` + ``optimizer.update``).
        Afterwards ``grads`` hold this step's gradients, except that SGD folds its weight
        update into the GEMMs (``W -= lr * x.T @ dout``) and leaves ``grads['W1']`` and
        ``grads['W2']`` unwritten.
        """
        _check_optimizer(optimizer)
        if not self._fused.supports(optimizer):
            return None
        return self._fused.step(x, t, optimizer)

    def train_steps(self, x, t, idx, batch_size, optimizer):
        """Many fused steps in one call: batch ``k`` is ``x[idx[k*B:(k+1)*B]]``.

        ``x`` may be the whole data set in any real dtype (uint8 MNIST too): rows are
        gathered and cast inside the kernel. Returns the per-step losses (float64), or
        None when the optimizer is not supported (see :meth:`fused_step`).
        """
        _check_optimizer(optimizer)
        if not self._fused.supports(optimizer):
            return None
        return self._fused.steps(x, t, idx, batch_size, optimizer)

    # ------------------------------------------------------------------ internals

    def _forward_backward(self, x, t, need_dx):
        scores = self.predict(x)
        loss, dout = self.lastLayer.forward_backward(scores, t)
        layers = list(self.layers.values())
        for layer in reversed(layers[1:]):
            dout = layer.backward(dout)
        dx = layers[0].backward(dout, need_dx=need_dx)
        return loss, dx
