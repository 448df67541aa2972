"""Vol. 1's nets in plain NumPy, as the book writes them: ch05's ``TwoLayerNet``,
``common/multi_layer_net_extend.py``, ch07's ``SimpleConvNet``, ch08's ``DeepConvNet``,
and :func:`book_step`, one iteration of ``ch05/train_neuralnet.py``.

Each net takes ``layers``: where ``Affine``, ``Relu``, ``Convolution``, ... come from (this
transcription's :mod:`.vol1` by default; a checkout's own ``common.layers`` module, as the
book's ``from common.layers import *`` would find it, for ``fastprop bench --book-root``).
"""
from collections import OrderedDict

import numpy as np

from . import vol1

LR = 0.1  # ch05/train_neuralnet.py's learning rate


class TwoLayerNet:
    """ch05/two_layer_net.py. Two additions the book's class lacks, for vol. 2 ch. 1's spiral
    run on the same class (``fastprop.runs``): ``activation='sigmoid'`` (its hidden layer),
    and vol. 2's model protocol (``forward(x, t)``, ``backward(dout)``, ``grads``)."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01,
                 activation="relu", layers=vol1):
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

        self.layers = OrderedDict()
        self.layers["Affine1"] = layers.Affine(self.params["W1"], self.params["b1"])
        if activation == "relu":
            self.layers["Relu1"] = layers.Relu()
        else:
            self.layers["Sigmoid1"] = layers.Sigmoid()
        self.layers["Affine2"] = layers.Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = layers.SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def accuracy(self, x, t):
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        accuracy = np.sum(y == t) / float(x.shape[0])
        return accuracy

    def gradient(self, x, t):
        self.loss(x, t)
        self.backward(1)
        return self.grads

    # vol. 2's protocol
    def forward(self, x, t):
        return self.loss(x, t)

    def backward(self, dout=1):
        dout = self.lastLayer.backward(dout)
        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)
        return dout

    @property
    def grads(self):
        grads = {}
        grads["W1"], grads["b1"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W2"], grads["b2"] = self.layers["Affine2"].dW, self.layers["Affine2"].db
        return grads


def book_step(net, x, t, lr=LR):
    """One iteration of ch05/train_neuralnet.py: gradient, in-place SGD, loss."""
    grad = net.gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= lr * grad[key]
    return net.loss(x, t)


class MultiLayerNetExtend:
    """common/multi_layer_net_extend.py (with the defaults, common/multi_layer_net.py's
    numbers too)."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, use_dropout=False,
                 dropout_ration=0.5, use_batchnorm=False, layers=vol1):
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.use_dropout = use_dropout
        self.weight_decay_lambda = weight_decay_lambda
        self.use_batchnorm = use_batchnorm
        self.params = {}

        self._init_weight(weight_init_std)

        activation_layer = {"sigmoid": layers.Sigmoid, "relu": layers.Relu}
        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers["Affine" + str(idx)] = layers.Affine(self.params["W" + str(idx)],
                                                             self.params["b" + str(idx)])
            if self.use_batchnorm:
                self.params["gamma" + str(idx)] = np.ones(hidden_size_list[idx - 1])
                self.params["beta" + str(idx)] = np.zeros(hidden_size_list[idx - 1])
                self.layers["BatchNorm" + str(idx)] = layers.BatchNormalization(
                    self.params["gamma" + str(idx)], self.params["beta" + str(idx)])
            self.layers["Activation_function" + str(idx)] = activation_layer[activation]()
            if self.use_dropout:
                self.layers["Dropout" + str(idx)] = layers.Dropout(dropout_ration)

        idx = self.hidden_layer_num + 1
        self.layers["Affine" + str(idx)] = layers.Affine(self.params["W" + str(idx)],
                                                         self.params["b" + str(idx)])
        self.last_layer = layers.SoftmaxWithLoss()

    def _init_weight(self, weight_init_std):
        all_size_list = [self.input_size] + list(self.hidden_size_list) + [self.output_size]
        for idx in range(1, len(all_size_list)):
            scale = weight_init_std
            if str(weight_init_std).lower() in ("relu", "he"):
                scale = np.sqrt(2.0 / all_size_list[idx - 1])
            elif str(weight_init_std).lower() in ("sigmoid", "xavier"):
                scale = np.sqrt(1.0 / all_size_list[idx - 1])
            self.params["W" + str(idx)] = scale * np.random.randn(all_size_list[idx - 1],
                                                                   all_size_list[idx])
            self.params["b" + str(idx)] = np.zeros(all_size_list[idx])

    def predict(self, x, train_flg=False):
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        y = self.predict(x, train_flg)

        weight_decay = 0
        for idx in range(1, self.hidden_layer_num + 2):
            W = self.params["W" + str(idx)]
            weight_decay += 0.5 * self.weight_decay_lambda * np.sum(W ** 2)

        return self.last_layer.forward(y, t) + weight_decay

    def accuracy(self, x, t):
        y = self.predict(x, train_flg=False)
        y = np.argmax(y, axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        accuracy = np.sum(y == t) / float(x.shape[0])
        return accuracy

    def gradient(self, x, t):
        self.loss(x, t, train_flg=True)

        dout = 1
        dout = self.last_layer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            grads["W" + str(idx)] = (self.layers["Affine" + str(idx)].dW
                                     + self.weight_decay_lambda * self.params["W" + str(idx)])
            grads["b" + str(idx)] = self.layers["Affine" + str(idx)].db

            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                grads["gamma" + str(idx)] = self.layers["BatchNorm" + str(idx)].dgamma
                grads["beta" + str(idx)] = self.layers["BatchNorm" + str(idx)].dbeta
        return grads


def _accuracy(net, x, t, batch_size, **predict):
    """ch07's and ch08's ``accuracy``: the same loop over batches in both."""
    if t.ndim != 1:
        t = np.argmax(t, axis=1)

    acc = 0.0
    for i in range(int(x.shape[0] / batch_size)):
        tx = x[i * batch_size:(i + 1) * batch_size]
        tt = t[i * batch_size:(i + 1) * batch_size]
        y = net.predict(tx, **predict)
        y = np.argmax(y, axis=1)
        acc += np.sum(y == tt)
    return acc / x.shape[0]


#: ch07/simple_convnet.py's default conv_param
SIMPLE_CONV_PARAM = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}


class SimpleConvNet:
    """ch07/simple_convnet.py."""

    def __init__(self, input_dim=(1, 28, 28), conv_param=SIMPLE_CONV_PARAM,
                 hidden_size=100, output_size=10, weight_init_std=0.01, layers=vol1):
        filter_num = conv_param["filter_num"]
        filter_size = conv_param["filter_size"]
        filter_pad = conv_param["pad"]
        filter_stride = conv_param["stride"]
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2 * filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))

        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(filter_num, input_dim[0],
                                                              filter_size, filter_size)
        self.params["b1"] = np.zeros(filter_num)
        self.params["W2"] = weight_init_std * np.random.randn(pool_output_size, hidden_size)
        self.params["b2"] = np.zeros(hidden_size)
        self.params["W3"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b3"] = np.zeros(output_size)

        self.layers = OrderedDict()
        self.layers["Conv1"] = layers.Convolution(self.params["W1"], self.params["b1"],
                                                  conv_param["stride"], conv_param["pad"])
        self.layers["Relu1"] = layers.Relu()
        self.layers["Pool1"] = layers.Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = layers.Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = layers.Relu()
        self.layers["Affine2"] = layers.Affine(self.params["W3"], self.params["b3"])
        self.last_layer = layers.SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.last_layer.forward(y, t)

    def accuracy(self, x, t, batch_size=100):
        return _accuracy(self, x, t, batch_size)

    def gradient(self, x, t):
        self.loss(x, t)

        dout = 1
        dout = self.last_layer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        grads = {}
        grads["W1"], grads["b1"] = self.layers["Conv1"].dW, self.layers["Conv1"].db
        grads["W2"], grads["b2"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W3"], grads["b3"] = self.layers["Affine2"].dW, self.layers["Affine2"].db
        return grads


#: ch08/deep_convnet.py's default conv_param_1 ... conv_param_6
DEEP_CONV_PARAMS = tuple({"filter_num": fn, "filter_size": 3, "pad": pad, "stride": 1}
                         for fn, pad in ((16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)))


class DeepConvNet:
    """ch08/deep_convnet.py: six 3x3 convolutions, three poolings, two Affine, Dropout 0.5
    (the six ``conv_param_N`` keywords as one tuple, :data:`DEEP_CONV_PARAMS`)."""

    def __init__(self, input_dim=(1, 28, 28), conv_params=DEEP_CONV_PARAMS,
                 hidden_size=50, output_size=10, layers=vol1):
        pre_node_nums = np.array([1 * 3 * 3, 16 * 3 * 3, 16 * 3 * 3, 32 * 3 * 3, 32 * 3 * 3,
                                  64 * 3 * 3, 64 * 4 * 4, hidden_size])
        weight_init_scales = np.sqrt(2.0 / pre_node_nums)

        self.params = {}
        pre_channel_num = input_dim[0]
        for idx, conv_param in enumerate(conv_params):
            self.params["W" + str(idx + 1)] = weight_init_scales[idx] * np.random.randn(
                conv_param["filter_num"], pre_channel_num, conv_param["filter_size"],
                conv_param["filter_size"])
            self.params["b" + str(idx + 1)] = np.zeros(conv_param["filter_num"])
            pre_channel_num = conv_param["filter_num"]
        self.params["W7"] = weight_init_scales[6] * np.random.randn(64 * 4 * 4, hidden_size)
        self.params["b7"] = np.zeros(hidden_size)
        self.params["W8"] = weight_init_scales[7] * np.random.randn(hidden_size, output_size)
        self.params["b8"] = np.zeros(output_size)

        self.layers = []
        for idx, conv_param in enumerate(conv_params):
            self.layers.append(layers.Convolution(self.params["W" + str(idx + 1)],
                                                  self.params["b" + str(idx + 1)],
                                                  conv_param["stride"], conv_param["pad"]))
            self.layers.append(layers.Relu())
            if idx % 2:
                self.layers.append(layers.Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers.append(layers.Affine(self.params["W7"], self.params["b7"]))
        self.layers.append(layers.Relu())
        self.layers.append(layers.Dropout(0.5))
        self.layers.append(layers.Affine(self.params["W8"], self.params["b8"]))
        self.layers.append(layers.Dropout(0.5))
        self.last_layer = layers.SoftmaxWithLoss()
        self._dropout = layers.Dropout

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            if isinstance(layer, self._dropout):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x, train_flg=True)
        return self.last_layer.forward(y, t)

    def accuracy(self, x, t, batch_size=100):
        return _accuracy(self, x, t, batch_size, train_flg=False)

    def gradient(self, x, t):
        self.loss(x, t)

        dout = 1
        dout = self.last_layer.backward(dout)

        tmp_layers = self.layers.copy()
        tmp_layers.reverse()
        for layer in tmp_layers:
            dout = layer.backward(dout)

        grads = {}
        for i, layer_idx in enumerate((0, 2, 5, 7, 10, 12, 15, 18)):
            grads["W" + str(i + 1)] = self.layers[layer_idx].dW
            grads["b" + str(i + 1)] = self.layers[layer_idx].db
        return grads
