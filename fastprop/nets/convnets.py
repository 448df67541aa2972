"""The book's ConvNets on the compiled layers: ch. 7's SimpleConvNet and ch. 8's DeepConvNet."""
from __future__ import annotations

import os
import pickle
from collections import OrderedDict

import numpy as np

from .. import files, safe_pickle, validate
from ..gradient import numerical_gradient as _numerical_gradient
from ..layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss
from ..layers.conv import spatial_out
from .params import BoundParams, ParamDict

#: weights one net may hold (2**31: 16 GiB of float64), refused before allocating
MAX_PARAMETERS = 2**31
CONV_KEYS = ("filter_num", "filter_size", "pad", "stride")


def _input_dim(input_dim):
    validate.check_type(input_dim, (tuple, list), "input_dim", "3 integers (C, H, W)")
    if len(input_dim) != 3:  # a sequence of another length: a wrong value
        raise ValueError(f"input_dim must be 3 integers (C, H, W), got {input_dim!r}")
    return tuple(validate.positive_int(v, "input_dim") for v in input_dim)


def _conv_param(param, name):
    """The book's conv_param dict, checked: ints, filter_num/filter_size/stride >= 1, pad >= 0."""
    validate.check_type(param, dict, name, f"a dict with keys {CONV_KEYS}")
    missing = [k for k in CONV_KEYS if k not in param]
    if missing:
        raise ValueError(f"{name} lacks {missing} (expected the keys {CONV_KEYS})")
    return {k: validate.check_scalar(param[k], f"{name}['{k}']", int, low=0 if k == "pad" else 1)
            for k in CONV_KEYS}


def _conv_out(hw, p, name):
    """Spatial size after a convolution of ``p`` (ValueError when the filter does not fit)."""
    fs, pad, stride = p["filter_size"], p["pad"], p["stride"]
    if min(hw) + 2 * pad < fs:
        raise ValueError(f"{name}: a {fs} x {fs} filter with pad {pad} does not fit the "
                         f"{hw[0]} x {hw[1]} input")
    return tuple(spatial_out(s, fs, stride, pad) for s in hw)


def _pool_out(hw, name):
    if min(hw) < 2:
        raise ValueError(f"{name}: the 2 x 2 pooling does not fit the {hw[0]} x {hw[1]} input")
    return tuple(spatial_out(s, 2, 2, 0) for s in hw)


def _check_size(shapes, what):
    total = sum(int(np.prod(s)) for s in shapes)
    if total > MAX_PARAMETERS:
        raise ValueError(f"{what} would hold {total} weights, more than the {MAX_PARAMETERS} this "
                         "library allows in one net")


def _file_name(file_name):
    validate.check_type(file_name, (str, os.PathLike), "file_name", "a path (str or os.PathLike)")
    return os.fspath(file_name)


def _book_pool(layer) -> bool:
    """The nets' own 2x2, stride-2, unpadded max Pooling (what conv2d_relu_pool fuses)."""
    return type(layer) is Pooling and (layer.pool_h, layer.pool_w, layer.stride, layer.pad) == (2, 2, 2, 0)


class _ConvNet(BoundParams):
    """What both nets share: bound params, loss, batched accuracy, gradient, save/load."""

    _param_layers = ()  # ((W key, b key, layer), ...) filled by the subclasses

    def _bind(self, params):
        bindings = {}
        for wkey, bkey, layer in self._param_layers:
            bindings[wkey], bindings[bkey] = (layer, 0), (layer, 1)
        self._bindings = bindings
        self._params = ParamDict(params, bindings)

    def _layer_list(self):
        return list(self.layers.values()) if isinstance(self.layers, dict) else list(self.layers)

    def _forward(self, x, train_flg):
        for layer in self._layer_list():
            x = layer.forward(x, train_flg) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def _infer(self, x):
        """``predict(x)`` at test time with each Convolution - Relu (- 2x2 Pooling) run as
        one compiled pass (:meth:`Convolution.infer`): the same numbers, no activation
        written out and read back, nothing stored for backward. Layers of other types
        (a subclass's, a user's replacement) run their own ``forward``."""
        layers = self._layer_list()
        i = 0
        while i < len(layers):
            layer = layers[i]
            if (type(layer) is Convolution and i + 1 < len(layers) and type(layers[i + 1]) is Relu):
                pool = i + 2 < len(layers) and _book_pool(layers[i + 2])
                x = layer.infer(x, pool=pool)
                i += 3 if pool else 2
                continue
            x = layer.forward(x, False) if isinstance(layer, Dropout) else layer.forward(x)
            i += 1
        return x

    def accuracy(self, x, t, batch_size: int = 100) -> float:
        """Fraction of correct argmax predictions, ``batch_size`` images at a time.

        ``t``: labels (N,) or one-hot rows (N, C). Unlike the book, a last partial batch
        is counted too (the book skips it but still divides by N).
        """
        batch_size = validate.positive_int(batch_size, "batch_size")
        x = np.asarray(x)
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        if x.ndim < 1 or t.shape != (x.shape[0],):
            raise ValueError(f"t must hold one label (or one-hot row) per image: x has shape "
                             f"{x.shape}, t gives {t.shape}")
        # a subclass's own predict is what it means by predicting
        own = type(self).predict in (SimpleConvNet.predict, DeepConvNet.predict)
        predict = self._infer if own else self.predict
        acc = 0
        for i in range(0, x.shape[0], batch_size):
            y = predict(x[i:i + batch_size])
            acc += int(np.sum(np.argmax(y, axis=1) == t[i:i + batch_size]))
        return acc / float(validate.batch(x, "x").shape[0])

    def gradient(self, x, t) -> dict:
        """Backprop gradients of the training loss: the book's numbers, in stable arrays.

        The loss gradient comes from the loss's own pass and the first convolution's
        input gradient (never used) is skipped.
        """
        y = self._forward(x, True)
        _, dout = self.last_layer.forward_backward(y, t)
        layers = self._layer_list()
        for layer in reversed(layers[1:]):
            dout = layer.backward(dout)
        layers[0].backward(dout, need_dx=False)
        grads = {}
        for wkey, bkey, layer in self._param_layers:
            grads[wkey], grads[bkey] = layer.dW, layer.db
        return grads

    def save_params(self, file_name="params.pkl") -> None:
        """Pickle the parameters as the book does: a plain dict of arrays."""
        path = _file_name(file_name)
        params = {key: np.asarray(val) for key, val in self.params.items()}
        # whole or not at all: a failed write leaves the old file as it was
        files.replace_file(path, pickle.dumps(params), "parameter file")

    def load_params(self, file_name="params.pkl") -> None:
        """Load a dict of arrays saved by :meth:`save_params` (or the book's) into the net.

        The file is read with :mod:`fastprop.safe_pickle`: only NumPy arrays and plain
        containers are built and nothing in the file is executed; anything else is a
        ValueError. Every array must have its parameter's shape; it is cast to the net's
        dtype and rebinds the layer, as the book's loop does.
        """
        path = _file_name(file_name)
        limit = 4 * sum(p.size * 8 for p in self.params.values()) + (1 << 20)
        data = files.read_regular(path, limit, "parameter file")  # a FIFO or folder is refused, not opened
        loaded = safe_pickle.load(data, source=path, max_bytes=limit)
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a dict of parameter arrays, got {type(loaded).__name__}")
        new = {}
        for key, val in loaded.items():
            if key not in self.params:
                raise ValueError(f"{path}: unknown parameter {key!r} (this net has {sorted(self.params)})")
            if not isinstance(val, np.ndarray) or val.dtype.kind != "f":
                raise ValueError(f"{path}: {key} must be a float array, got {validate.describe(val)}")
            if val.shape != self.params[key].shape:
                raise ValueError(f"{path}: {key} has shape {val.shape}, the net's is "
                                 f"{self.params[key].shape}")
            new[key] = np.ascontiguousarray(val, dtype=self.dtype)
        for key, val in new.items():
            self.params[key] = val


class SimpleConvNet(_ConvNet):
    """conv - relu - pool - affine - relu - affine - softmax (the book's ch. 7 net).

    Parameters
    ----------
    input_dim : (C, H, W)
    conv_param : dict ``filter_num, filter_size, pad, stride``
    hidden_size, output_size : int
    weight_init_std : float; ``W1``, ``W2``, ``W3`` are drawn in that order as
        ``weight_init_std * np.random.randn(...)``, so a seeded net starts from the book's weights
    dtype : float64 (default) or float32, end to end

    Attributes
    ----------
    params : dict
        ``W1 b1 W2 b2 W3 b3``
    layers : OrderedDict
        ``Conv1 Relu1 Pool1 Affine1 Relu2 Affine2``
    last_layer : SoftmaxWithLoss
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},  # noqa: B006
                 hidden_size=100, output_size=10, weight_init_std=0.01, *, dtype=np.float64):
        c, h, w = _input_dim(input_dim)
        p = _conv_param(conv_param, "conv_param")
        hidden_size = validate.positive_int(hidden_size, "hidden_size")
        output_size = validate.positive_int(output_size, "output_size")
        std = validate.real_scalar(weight_init_std, "weight_init_std")
        self.dtype = dt = validate.float_dtype(dtype)
        # the book's int(filter_num * (conv_out/2)**2) for the square, even sizes it handles
        ph, pw = _pool_out(_conv_out((h, w), p, "conv_param"), "after the convolution")
        fn, fs = p["filter_num"], p["filter_size"]
        shapes = [(fn, c, fs, fs), (fn * ph * pw, hidden_size), (hidden_size, output_size)]
        _check_size(shapes, "SimpleConvNet")

        def draw(shape):
            return (std * np.random.randn(*shape)).astype(dt, copy=False)

        params = {"W1": draw(shapes[0]), "b1": np.zeros(fn, dt),
                  "W2": draw(shapes[1]), "b2": np.zeros(hidden_size, dt),
                  "W3": draw(shapes[2]), "b3": np.zeros(output_size, dt)}
        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(params["W1"], params["b1"], p["stride"], p["pad"])
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(params["W2"], params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(params["W3"], params["b3"])
        self.last_layer = SoftmaxWithLoss()
        self._param_layers = (("W1", "b1", self.layers["Conv1"]), ("W2", "b2", self.layers["Affine1"]),
                              ("W3", "b3", self.layers["Affine2"]))
        self._bind(params)

    def predict(self, x):
        return self._forward(x, False)

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def numerical_gradient(self, x, t) -> dict:
        """Central differences of :meth:`loss` for every parameter (slow: a check only)."""
        def loss_w(_):
            return self.loss(x, t)

        return {k: _numerical_gradient(loss_w, self.params[k])
                for i in (1, 2, 3) for k in (f"W{i}", f"b{i}")}


class DeepConvNet(_ConvNet):
    """The book's ch. 8 net: three (conv - relu - conv - relu - pool) blocks, then
    affine - relu - dropout - affine - dropout - softmax.

    Parameters
    ----------
    input_dim : (C, H, W)
    conv_param_1 ... conv_param_6 : dicts ``filter_num, filter_size, pad, stride``
    hidden_size, output_size : int
    dtype : float64 (default) or float32, end to end

    Notes
    -----
    He initialisation, ``sqrt(2 / fan_in)`` times ``np.random.randn`` for W1 ... W8 in
    order. The book hard-codes the fan-ins ``[1*3*3, 16*3*3, 16*3*3, 32*3*3, 32*3*3,
    64*3*3, 64*4*4, hidden_size]`` and W7's 64*4*4 rows; here they are computed from the
    arguments, which gives those numbers for the defaults. Dropout is the book's (vol. 1:
    no scaling in training, ``x * (1 - ratio)`` at test); ``loss`` trains, as in the book.
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param_1={"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},  # noqa: B006
                 conv_param_2={"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},  # noqa: B006
                 conv_param_3={"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},  # noqa: B006
                 conv_param_4={"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},  # noqa: B006
                 conv_param_5={"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},  # noqa: B006
                 conv_param_6={"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},  # noqa: B006
                 hidden_size=50, output_size=10, *, dtype=np.float64):
        c, h, w = _input_dim(input_dim)
        convs = [_conv_param(p, f"conv_param_{i + 1}") for i, p in enumerate(
            (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5, conv_param_6))]
        hidden_size = validate.positive_int(hidden_size, "hidden_size")
        output_size = validate.positive_int(output_size, "output_size")
        self.dtype = dt = validate.float_dtype(dtype)
        shapes, hw, pre = [], (h, w), c
        for i, p in enumerate(convs):
            hw = _conv_out(hw, p, f"conv_param_{i + 1}")
            shapes.append((p["filter_num"], pre, p["filter_size"], p["filter_size"]))
            pre = p["filter_num"]
            if i % 2 == 1:
                hw = _pool_out(hw, f"the pooling after conv_param_{i + 1}")
        shapes += [(pre * hw[0] * hw[1], hidden_size), (hidden_size, output_size)]
        _check_size(shapes, "DeepConvNet")
        fan_in = [int(np.prod(s[1:])) if len(s) == 4 else s[0] for s in shapes]
        scales = np.sqrt(2.0 / np.array(fan_in))
        params = {}
        for i, (shape, scale) in enumerate(zip(shapes, scales)):
            params[f"W{i + 1}"] = (scale * np.random.randn(*shape)).astype(dt, copy=False)
            params[f"b{i + 1}"] = np.zeros(shape[0] if len(shape) == 4 else shape[1], dt)
        self.layers = []
        for i, p in enumerate(convs):
            self.layers.append(Convolution(params[f"W{i + 1}"], params[f"b{i + 1}"], p["stride"], p["pad"]))
            self.layers.append(Relu())
            if i % 2 == 1:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers += [Affine(params["W7"], params["b7"]), Relu(), Dropout(0.5),
                        Affine(params["W8"], params["b8"]), Dropout(0.5)]
        self.last_layer = SoftmaxWithLoss()
        self._param_layers = tuple((f"W{i + 1}", f"b{i + 1}", self.layers[j])
                                   for i, j in enumerate((0, 2, 5, 7, 10, 12, 15, 18)))
        self._bind(params)

    def predict(self, x, train_flg: bool = False):
        return self._forward(x, validate.flag(train_flg, "train_flg"))

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x, train_flg=True), t)
