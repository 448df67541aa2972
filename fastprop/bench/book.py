"""The book's ch05 network in plain NumPy, as the book prints it: the baseline.

Every ratio ``fastprop bench`` and the asv suite report ("vs book") is taken against this
code, and the tests compare fastprop's layers and nets with it. It is not a backend:
nothing in fastprop runs on it, nothing here is compiled, and nothing is validated; it is
the code a reader of the book runs.

What it holds: vol. 1 ``common/functions.py`` (softmax, cross-entropy), ``common/layers.py``
(Relu, Sigmoid, Affine, SoftmaxWithLoss), ``common/optimizer.py`` (SGD) and
``ch05/two_layer_net.py``, plus vol. 2's forward/backward/grads protocol and the Sigmoid of
its spiral model, so the same class can drive fastprop's Trainer the book's way, and
:func:`book_step`, one iteration of ``ch05/train_neuralnet.py``.
"""
from collections import OrderedDict

import numpy as np

LR = 0.1  # ch05/train_neuralnet.py's learning rate


def book_softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)  # guard against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def book_cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:  # one-hot targets -> label indices
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class BookRelu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout
        return dx


class BookSigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        self.out = out
        return out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class BookAffine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class BookSoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = book_softmax(x)
        self.loss = book_cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


class BookTwoLayerNet:
    """ch05/two_layer_net.py in plain NumPy (``activation='sigmoid'``: vol. 2's spiral net)."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01,
                 activation="relu"):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = BookAffine(self.params["W1"], self.params["b1"])
        self.layers["Relu1" if activation == "relu" else "Sigmoid1"] = (
            BookRelu() if activation == "relu" else BookSigmoid())
        self.layers["Affine2"] = BookAffine(self.params["W2"], self.params["b2"])
        self.lastLayer = BookSoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def gradient(self, x, t):
        self.loss(x, t)
        self.backward(1)
        return self.grads

    # vol. 2 protocol
    def forward(self, x, t):
        return self.loss(x, t)

    def backward(self, dout=1):
        dout = self.lastLayer.backward(dout)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return dout

    @property
    def grads(self):
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        return {"W1": a1.dW, "b1": a1.db, "W2": a2.dW, "b2": a2.db}


class BookSGD:
    """vol. 1 common/optimizer.py ``SGD``."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


def book_step(net, x, t, lr=LR):
    """One iteration of ch05/train_neuralnet.py: gradient, in-place SGD, loss."""
    grad = net.gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= lr * grad[key]
    return net.loss(x, t)
