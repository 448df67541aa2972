"""The book's fully connected nets of vol. 1 ch. 6: ``MultiLayerNet`` (weight decay) and
``MultiLayerNetExtend`` (weight decay, Dropout, Batch Normalization).

Names, layer order, parameter order and the RNG draws are the book's: ``W1, b1, ...,
W{L+1}, b{L+1}`` (weights drawn in that order from the global RNG) and then
``gamma1, beta1, ...``; layers ``Affine1, [BatchNorm1,] Activation_function1, [Dropout1,]
..., Affine{L+1}`` and ``last_layer``. ``params`` is bound to the layers
(:mod:`.params`): assigning ``params['W1'] = W`` rebinds the layer.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import validate
from ..gradient import numerical_gradient as _numerical_gradient
from ..layers import Affine, BatchNormalization, Dropout, SoftmaxWithLoss
from ..layers.dropout import check_ratio
from ..layers.softmax import as_2d_scores
from .fused_multi import ACTIVATIONS as _ACTIVATIONS
from .fused_multi import FusedMultiLayer
from .params import BoundParams, ParamDict

_HE = ("relu", "he")
_XAVIER = ("sigmoid", "xavier")
#: weights one net may hold (2**31: 16 GiB of float64) -- refused before allocating
MAX_PARAMETERS = 2**31


def init_scale(weight_init_std, fan_in: int) -> float:
    """The standard deviation of a weight with ``fan_in`` inputs, as the book picks it.

    ``'relu'``/``'he'``: ``sqrt(2 / fan_in)``; ``'sigmoid'``/``'xavier'``:
    ``sqrt(1 / fan_in)`` (case-insensitive); a finite number: that number.
    """
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key in _HE:
            return float(np.sqrt(2.0 / fan_in))
        if key in _XAVIER:
            return float(np.sqrt(1.0 / fan_in))
        raise ValueError(f"weight_init_std must be 'relu'/'he', 'sigmoid'/'xavier' or a number, "
                         f"got {weight_init_std!r}")
    validate.check_scalar(weight_init_std, "weight_init_std", float,
                          expected="'relu'/'he', 'sigmoid'/'xavier' or a finite number")
    return float(weight_init_std)


def _sizes(input_size, hidden_size_list, output_size):
    input_size = validate.positive_int(input_size, "input_size")
    output_size = validate.positive_int(output_size, "output_size")
    validate.check_type(hidden_size_list, (list, tuple), "hidden_size_list",
                        "a list of layer sizes (e.g. [100, 100])")
    hidden = [validate.positive_int(h, f"hidden_size_list[{i}]") for i, h in enumerate(hidden_size_list)]
    sizes = [input_size] + hidden + [output_size]
    n = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if n > MAX_PARAMETERS:
        raise ValueError(f"a {'-'.join(map(str, sizes))} net would hold {n} weights, more than the "
                         f"{MAX_PARAMETERS} this library allows in one net")
    return input_size, hidden, output_size


class MultiLayerNetExtend(BoundParams):
    """The book's ``MultiLayerNetExtend``: Affine [-> BatchNorm] -> activation [-> Dropout],
    repeated per hidden layer, then Affine -> SoftmaxWithLoss.

    Parameters
    ----------
    input_size : int
    hidden_size_list : list of int (may be empty)
    output_size : int
    activation : {'relu', 'sigmoid'}
    weight_init_std : 'relu'/'he' (sqrt(2/n)), 'sigmoid'/'xavier' (sqrt(1/n)) or a number
    weight_decay_lambda : float >= 0, the L2 strength (``0.5 * lambda * sum(W**2)`` per weight)
    use_dropout : bool; dropout_ration : float in [0, 1) (the book's spelling)
    use_batchnorm : bool
    dtype : float64 (default) or float32, for every parameter, activation and gradient

    Attributes
    ----------
    params : dict, bound to the layers; layers : OrderedDict; last_layer : SoftmaxWithLoss;
    input_size, output_size, hidden_size_list, hidden_layer_num, use_dropout,
    weight_decay_lambda, use_batchnorm (as the book keeps them)
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, use_dropout=False,
                 dropout_ration=0.5, use_batchnorm=False, *, dtype=np.float64):
        self._build(input_size, hidden_size_list, output_size, activation, weight_init_std,
                    weight_decay_lambda, use_dropout, dropout_ration, use_batchnorm, dtype)

    def _build(self, input_size, hidden_size_list, output_size, activation, weight_init_std,
               weight_decay_lambda, use_dropout, dropout_ration, use_batchnorm, dtype):
        input_size, hidden, output_size = _sizes(input_size, hidden_size_list, output_size)
        validate.choice(activation, _ACTIVATIONS, "activation")
        lam = validate.check_scalar(weight_decay_lambda, "weight_decay_lambda", low=0.0)
        use_dropout = validate.flag(use_dropout, "use_dropout")
        use_batchnorm = validate.flag(use_batchnorm, "use_batchnorm")
        ratio = check_ratio(dropout_ration, "dropout_ration")
        dt = validate.float_dtype(dtype)
        sizes = [input_size] + hidden + [output_size]
        scales = [init_scale(weight_init_std, n) for n in sizes[:-1]]  # all checked before drawing
        self.input_size, self.output_size = input_size, output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(hidden)
        self.use_dropout, self.use_batchnorm = use_dropout, use_batchnorm
        self.weight_decay_lambda = lam
        self.activation = activation
        self.dtype = dt

        params = {}
        for idx in range(1, len(sizes)):  # W1, W2, ... drawn in the book's order
            W = scales[idx - 1] * np.random.randn(sizes[idx - 1], sizes[idx])
            params[f"W{idx}"] = W.astype(dt, copy=False)
            params[f"b{idx}"] = np.zeros(sizes[idx], dtype=dt)
        bindings = {}
        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            affine = self.layers[f"Affine{idx}"] = Affine(params[f"W{idx}"], params[f"b{idx}"])
            bindings[f"W{idx}"], bindings[f"b{idx}"] = (affine, 0), (affine, 1)
            if use_batchnorm:
                params[f"gamma{idx}"] = np.ones(hidden[idx - 1], dtype=dt)
                params[f"beta{idx}"] = np.zeros(hidden[idx - 1], dtype=dt)
                bn = self.layers[f"BatchNorm{idx}"] = BatchNormalization(params[f"gamma{idx}"],
                                                                        params[f"beta{idx}"])
                bindings[f"gamma{idx}"], bindings[f"beta{idx}"] = (bn, 0), (bn, 1)
            self.layers[f"Activation_function{idx}"] = _ACTIVATIONS[activation]()
            if use_dropout:
                self.layers[f"Dropout{idx}"] = Dropout(ratio)
        idx = self.hidden_layer_num + 1
        affine = self.layers[f"Affine{idx}"] = Affine(params[f"W{idx}"], params[f"b{idx}"])
        bindings[f"W{idx}"], bindings[f"b{idx}"] = (affine, 0), (affine, 1)
        self.last_layer = SoftmaxWithLoss()
        self._bindings = bindings
        self._params = ParamDict(params, bindings)
        self._decayed = {}
        self._fused = FusedMultiLayer(self)

    # ------------------------------------------------------------------ the book's API

    def predict(self, x, train_flg: bool = False):
        """Scores of ``x``; Dropout and BatchNorm layers get ``train_flg`` (by name, like the book)."""
        train_flg = validate.flag(train_flg, "train_flg")
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def _weight_decay(self) -> float:
        """``sum over W of 0.5 * lambda * sum(W**2)``, the book's L2 term (0 when lambda is 0)."""
        lam = self.weight_decay_lambda
        if lam == 0:
            return 0.0
        total = 0.0
        for idx in range(1, self.hidden_layer_num + 2):
            W = np.asarray(self.params[f"W{idx}"])
            total += 0.5 * lam * float(np.sum(W ** 2))
        return total

    def loss(self, x, t, train_flg: bool = False) -> float:
        """Cross-entropy of ``predict(x, train_flg)`` plus the weight-decay term."""
        y = self.predict(x, train_flg)
        return self.last_layer.forward(y, t) + self._weight_decay()

    def accuracy(self, x, t) -> float:
        """Fraction of rows whose argmax score (inference mode) is the label (labels or one-hot).

        The scores are ``predict(x, train_flg=False)``'s, computed in one compiled pass a
        cache-sized chunk of rows at a time when the net is as it was built
        (:meth:`FusedMultiLayer.scores`); the layers' saved attributes then stay as the last
        ``predict``/``gradient`` left them."""
        scores = self._fused.scores(x)
        if scores is None:
            scores = self.predict(x, train_flg=False)
        scores = as_2d_scores(scores, "the scores")
        y = np.argmax(scores, axis=1)
        t, onehot = validate.targets(t, scores.shape, scores.dtype)
        if onehot:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(y.shape[0])

    def _structure(self) -> tuple[bool, bool]:
        """``(batchnorm, dropout)``: whether the hidden layers have BatchNorm / Dropout layers.

        The layers decide, as in the book, whose ``predict`` runs whatever ``layers`` holds
        and reads ``use_dropout`` only when building the net. ``use_batchnorm`` is read again
        by ``gradient`` (it says whether gamma/beta gradients exist), so it must still match
        the layers: changed after construction it is a ValueError here, where the book stops
        with a KeyError or leaves gamma/beta out of the gradients.
        """
        L = self.hidden_layer_num
        found = {}
        for kind in ("BatchNorm", "Dropout"):
            present = [f"{kind}{i}" in self.layers for i in range(1, L + 1)]
            if any(present) and not all(present):
                raise ValueError(f"the net has {kind} layers after some hidden layers only "
                                 f"({[f'{kind}{i}' for i in range(1, L + 1) if f'{kind}{i}' in self.layers]}); "
                                 f"layers must be as MultiLayerNetExtend built them")
            found[kind] = L > 0 and all(present)
        flag = validate.flag(self.use_batchnorm, "use_batchnorm")
        if L > 0 and flag != found["BatchNorm"]:
            raise ValueError(
                f"use_batchnorm is {flag} but the net was built {'without' if flag else 'with'} BatchNorm "
                "layers: use_batchnorm is read when the net is built (it makes the BatchNorm layers and "
                f"the gamma/beta parameters); build a new MultiLayerNetExtend(..., use_batchnorm={flag})")
        return found["BatchNorm"], found["Dropout"]

    def _keys(self):
        """Parameter names in the order the book's gradient dicts list them."""
        use_bn = self._structure()[0]
        for idx in range(1, self.hidden_layer_num + 2):
            yield f"W{idx}"
            yield f"b{idx}"
            if use_bn and idx != self.hidden_layer_num + 1:
                yield f"gamma{idx}"
                yield f"beta{idx}"

    def _numerical_loss(self, x, t) -> float:
        return self.loss(x, t, train_flg=True)

    def numerical_gradient(self, x, t) -> dict:
        """Central differences of the training-mode loss for every parameter (a check only:
        with dropout every evaluation draws new masks, as in the book)."""
        def loss_w(_):
            return self._numerical_loss(x, t)

        return {k: _numerical_gradient(loss_w, self.params[k]) for k in self._keys()}

    def gradient(self, x, t) -> dict:
        """Backprop gradients of the training-mode loss: ``dW + lambda * W`` for the weights
        (the book's weight decay), ``db``, ``dgamma``, ``dbeta``.

        The loss gradient comes out of the loss's own pass and the first layer's unused
        input gradient is skipped; the numbers are the book's.
        """
        return self._gradient(x, t)[1]

    def _gradient(self, x, t):
        y = self.predict(x, train_flg=True)
        loss, dout = self.last_layer.forward_backward(y, t)
        layers = list(self.layers.values())
        for layer in reversed(layers[1:]):
            dout = layer.backward(dout)
        layers[0].backward(dout, need_dx=False)
        return loss, self._collect()

    def fused_step(self, x, t, optimizer) -> float:
        """:meth:`gradient` and ``optimizer.update(params, grads)`` of one batch in one
        compiled call (the update inside it for fastprop's SGD); returns the training-mode
        cross-entropy of this forward (without the weight-decay term).

        The numbers are the layer path's (the same masks from the global RNG, the same
        running averages). The layers' saved attributes (``x``, ``mask``, ``xc``, ``xn``,
        ``std``, ``dW``, ...) are not updated, only the parameters and the running
        statistics. Integer labels only; one-hot targets, a net without hidden layers or
        non-contiguous parameters take the layer path (same results, slower).
        """
        if not callable(getattr(optimizer, "update", None)):
            raise TypeError(f"optimizer must have an update(params, grads) method (e.g. "
                            f"fastprop.optimizers.SGD()), got {type(optimizer).__name__}")
        if self._fused.supports(t):
            return self._fused.step(x, t, optimizer)[0]
        loss, grads = self._gradient(x, t)
        optimizer.update(self.params, grads)
        return loss

    def _collect(self) -> dict:
        lam = self.weight_decay_lambda
        use_bn = self._structure()[0]
        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{idx}"]
            dW = affine.dW
            if lam != 0:
                buf = self._decayed.get(idx)
                if buf is None or buf.shape != dW.shape or buf.dtype != dW.dtype:
                    buf = self._decayed[idx] = np.empty_like(dW)
                np.multiply(affine.W, lam, out=buf, casting="unsafe")
                np.add(dW, buf, out=buf)  # dW + (lambda * W), the book's rounding
                dW = buf
            grads[f"W{idx}"] = dW
            grads[f"b{idx}"] = affine.db
            if use_bn and idx != self.hidden_layer_num + 1:
                bn = self.layers[f"BatchNorm{idx}"]
                grads[f"gamma{idx}"] = bn.dgamma
                grads[f"beta{idx}"] = bn.dbeta
        return grads


class MultiLayerNet(MultiLayerNetExtend):
    """The book's ``MultiLayerNet``: (Affine -> activation) per hidden layer, then Affine ->
    SoftmaxWithLoss, with weight decay; :class:`MultiLayerNetExtend` without Dropout or
    BatchNorm. ``predict(x)``/``loss(x, t)`` as in the book (``train_flg`` is accepted and
    changes nothing here)."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, *, dtype=np.float64):
        self._build(input_size, hidden_size_list, output_size, activation, weight_init_std,
                    weight_decay_lambda, False, 0.5, False, dtype)

    def _numerical_loss(self, x, t) -> float:
        return self.loss(x, t)


__all__ = ["MultiLayerNet", "MultiLayerNetExtend", "init_scale"]
