"""The book's vol. 1 ch. 6-8 classes in plain NumPy: the baseline of ``fastprop bench
--models convnet deepnet deepinfer multilayer im2col``.

As :mod:`fastprop.bench.book` does for ch. 5, every class here is the book's code, nothing
compiled, nothing validated. Where a NumPy twin of fastprop's kernels *is* the book's
expression (``fastprop.twins.batchnorm``, ``fastprop.twins.dropout``: the same arithmetic,
outputs written into arrays allocated here as the book allocates them) the layer calls the
twin; ``im2col``/``col2im`` are written out, because the twins' versions copy the result
once more into a caller's array (their kernel signature), which the book does not pay.

What it holds: ``common/util.py`` (im2col, col2im), ``common/layers.py`` (Convolution,
Pooling, BatchNormalization, Dropout), ``common/optimizer.py`` (Adam, for dicts and vol. 2's
lists), ``ch06``'s ``MultiLayerNetExtend``, ``ch07/simple_convnet.py`` and
``ch08/deep_convnet.py``.
"""
from collections import OrderedDict

import numpy as np

from ..twins import batchnorm as twin_bn
from ..twins import dropout as twin_dropout
from .book import BookAffine, BookRelu, BookSoftmaxWithLoss


def book_im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def book_col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


class BookConvolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)
        col = book_im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x, self.col, self.col_W = x, col, col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout)
        self.dW = self.dW.transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(dout, self.col_W.T)
        return book_col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class BookPooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)
        col = book_im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
        self.x, self.arg_max = x, arg_max
        return out

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return book_col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class BookDropout:
    """vol. 1's Dropout: ``np.random.rand(*x.shape) > ratio``, no scaling in training."""

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.empty(x.shape, dtype=bool)
            return twin_dropout.dropout_forward(x, np.random.rand(*x.shape), self.dropout_ratio,
                                                np.empty_like(x), self.mask)
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        return twin_dropout.dropout_backward(dout, self.mask, np.empty_like(dout))


class BookBatchNormalization:
    """2-D input only (the ``MultiLayerNetExtend`` case); the running averages start at 0."""

    def __init__(self, gamma, beta, momentum=0.9):
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.running_mean = self.running_var = None

    def forward(self, x, train_flg=True):
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1])
            self.running_var = np.zeros(x.shape[1])
        out = np.empty_like(x)
        if not train_flg:
            return twin_bn.batchnorm_forward_test(x, self.gamma, self.beta, self.running_mean,
                                                  self.running_var, out)
        self.xc, self.xn = np.empty_like(x), np.empty_like(x)
        self.std = np.empty(x.shape[1])
        twin_bn.batchnorm_forward_train(x, self.gamma, self.beta, self.momentum,
                                        self.running_mean, self.running_var, self.xc, self.xn,
                                        self.std, out, self.running_mean, self.running_var)
        return out

    def backward(self, dout):
        self.dgamma, self.dbeta = np.empty_like(self.gamma), np.empty_like(self.beta)
        return twin_bn.batchnorm_backward(dout, self.gamma, self.xc, self.xn, self.std,
                                          self.dgamma, self.dbeta, np.empty_like(dout))


class BookAdam:
    """vol. 1 (dict) and vol. 2 (list) ``Adam``, one class: the same update rule."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        keys = list(params.keys()) if isinstance(params, dict) else range(len(params))
        if self.m is None:
            self.m = {k: np.zeros_like(params[k]) for k in keys}
            self.v = {k: np.zeros_like(params[k]) for k in keys}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for k in keys:
            self.m[k] += (1 - self.beta1) * (grads[k] - self.m[k])
            self.v[k] += (1 - self.beta2) * (grads[k] ** 2 - self.v[k])
            params[k] -= lr_t * self.m[k] / (np.sqrt(self.v[k]) + 1e-7)


class _BookNet:
    """What the book's three nets share: predict with ``train_flg``, loss, gradient."""

    def predict(self, x, train_flg=False):
        for layer in self.layers.values():
            if isinstance(layer, (BookDropout, BookBatchNormalization)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        return self.last_layer.forward(self.predict(x, train_flg), t)

    def accuracy(self, x, t, batch_size=100):
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        acc = 0.0
        for i in range(int(x.shape[0] / batch_size)):
            tx = x[i * batch_size:(i + 1) * batch_size]
            tt = t[i * batch_size:(i + 1) * batch_size]
            y = np.argmax(self.predict(tx, train_flg=False), axis=1)
            acc += np.sum(y == tt)
        return acc / x.shape[0]

    def gradient(self, x, t):
        self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return self._grads()


class BookSimpleConvNet(_BookNet):
    """ch07/simple_convnet.py (its defaults: 30 5x5 filters, hidden 100)."""

    def __init__(self, input_dim=(1, 28, 28), filter_num=30, filter_size=5, pad=0, stride=1,
                 hidden_size=100, output_size=10, weight_init_std=0.01):
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2 * pad) / stride + 1
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))
        rn = np.random.randn
        self.params = {
            "W1": weight_init_std * rn(filter_num, input_dim[0], filter_size, filter_size),
            "b1": np.zeros(filter_num),
            "W2": weight_init_std * rn(pool_output_size, hidden_size), "b2": np.zeros(hidden_size),
            "W3": weight_init_std * rn(hidden_size, output_size), "b3": np.zeros(output_size)}
        p = self.params
        self.layers = OrderedDict([
            ("Conv1", BookConvolution(p["W1"], p["b1"], stride, pad)), ("Relu1", BookRelu()),
            ("Pool1", BookPooling(pool_h=2, pool_w=2, stride=2)),
            ("Affine1", BookAffine(p["W2"], p["b2"])), ("Relu2", BookRelu()),
            ("Affine2", BookAffine(p["W3"], p["b3"]))])
        self.last_layer = BookSoftmaxWithLoss()

    def _grads(self):
        L = self.layers
        return {"W1": L["Conv1"].dW, "b1": L["Conv1"].db, "W2": L["Affine1"].dW,
                "b2": L["Affine1"].db, "W3": L["Affine2"].dW, "b3": L["Affine2"].db}


class BookDeepConvNet(_BookNet):
    """ch08/deep_convnet.py: six 3x3 convolutions, three poolings, two Affine, Dropout 0.5."""

    SPEC = ((16, 1, 1), (16, 16, 1), (32, 16, 1), (32, 32, 2), (64, 32, 1), (64, 64, 1))

    def __init__(self, hidden_size=50, output_size=10):
        pre_node_nums = np.array([1 * 3 * 3, 16 * 3 * 3, 16 * 3 * 3, 32 * 3 * 3, 32 * 3 * 3,
                                  64 * 3 * 3, 64 * 4 * 4, hidden_size])
        scales = np.sqrt(2.0 / pre_node_nums)
        self.params = {}
        for idx, (fn, c, _) in enumerate(self.SPEC):
            self.params[f"W{idx + 1}"] = scales[idx] * np.random.randn(fn, c, 3, 3)
            self.params[f"b{idx + 1}"] = np.zeros(fn)
        p = self.params
        p["W7"], p["b7"] = scales[6] * np.random.randn(64 * 4 * 4, hidden_size), np.zeros(hidden_size)
        p["W8"], p["b8"] = scales[7] * np.random.randn(hidden_size, output_size), np.zeros(output_size)
        self.layers = OrderedDict()
        for idx, (_, _, pad) in enumerate(self.SPEC):
            self.layers[f"Conv{idx + 1}"] = BookConvolution(p[f"W{idx + 1}"], p[f"b{idx + 1}"], 1, pad)
            self.layers[f"Relu{idx + 1}"] = BookRelu()
            if idx % 2:
                self.layers[f"Pool{idx // 2 + 1}"] = BookPooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = BookAffine(p["W7"], p["b7"])
        self.layers["Relu7"] = BookRelu()
        self.layers["Dropout1"] = BookDropout(0.5)
        self.layers["Affine2"] = BookAffine(p["W8"], p["b8"])
        self.layers["Dropout2"] = BookDropout(0.5)
        self.last_layer = BookSoftmaxWithLoss()

    def _grads(self):
        grads = {}
        names = [f"Conv{i}" for i in range(1, 7)] + ["Affine1", "Affine2"]
        for i, name in enumerate(names):
            grads[f"W{i + 1}"], grads[f"b{i + 1}"] = self.layers[name].dW, self.layers[name].db
        return grads


class BookMultiLayerNetExtend(_BookNet):
    """ch06's ``MultiLayerNetExtend`` with ReLU and He initialisation (the book's defaults)."""

    def __init__(self, input_size, hidden_size_list, output_size, weight_decay_lambda=0,
                 use_dropout=False, dropout_ration=0.5, use_batchnorm=False):
        sizes = [input_size] + list(hidden_size_list) + [output_size]
        self.weight_decay_lambda = weight_decay_lambda
        self.hidden_layer_num = len(hidden_size_list)
        self.params = {}
        for idx in range(1, len(sizes)):
            scale = np.sqrt(2.0 / sizes[idx - 1])
            self.params[f"W{idx}"] = scale * np.random.randn(sizes[idx - 1], sizes[idx])
            self.params[f"b{idx}"] = np.zeros(sizes[idx])
        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{idx}"] = BookAffine(self.params[f"W{idx}"], self.params[f"b{idx}"])
            if use_batchnorm:
                self.params[f"gamma{idx}"] = np.ones(hidden_size_list[idx - 1])
                self.params[f"beta{idx}"] = np.zeros(hidden_size_list[idx - 1])
                self.layers[f"BatchNorm{idx}"] = BookBatchNormalization(
                    self.params[f"gamma{idx}"], self.params[f"beta{idx}"])
            self.layers[f"Activation_function{idx}"] = BookRelu()
            if use_dropout:
                self.layers[f"Dropout{idx}"] = BookDropout(dropout_ration)
        idx = self.hidden_layer_num + 1
        self.layers[f"Affine{idx}"] = BookAffine(self.params[f"W{idx}"], self.params[f"b{idx}"])
        self.use_batchnorm = use_batchnorm
        self.last_layer = BookSoftmaxWithLoss()

    def loss(self, x, t, train_flg=False):
        y = self.predict(x, train_flg)
        weight_decay = 0
        for idx in range(1, self.hidden_layer_num + 2):
            W = self.params[f"W{idx}"]
            weight_decay += 0.5 * self.weight_decay_lambda * np.sum(W ** 2)
        return self.last_layer.forward(y, t) + weight_decay

    def _grads(self):
        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            layer = self.layers[f"Affine{idx}"]
            grads[f"W{idx}"] = layer.dW + self.weight_decay_lambda * self.params[f"W{idx}"]
            grads[f"b{idx}"] = layer.db
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                bn = self.layers[f"BatchNorm{idx}"]
                grads[f"gamma{idx}"], grads[f"beta{idx}"] = bn.dgamma, bn.dbeta
        return grads
