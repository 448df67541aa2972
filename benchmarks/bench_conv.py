"""The ConvNets of vol. 1 ch. 7-8: one training step (``gradient`` + the book's SGD loop)
and inference (``predict``), small batches so the smoke run stays quick.

Paths: ``dropin`` runs the nets as the book's code calls them, in float64;
``dropin_float32`` the same with ``dtype=np.float32``. The side-by-side comparison with the
book's NumPy classes and PyTorch is in the README (one process, interleaved rounds).
"""
import numpy as np

from fastprop.nets import DeepConvNet, SimpleConvNet

from ._memo import memo

NETS = {"SimpleConvNet": SimpleConvNet, "DeepConvNet": DeepConvNet}
PATHS = {"dropin": np.float64, "dropin_float32": np.float32}


def _ready(net_name, batch, path):
    def build():
        np.random.seed(0)
        net = NETS[net_name](dtype=PATHS[path])
        rng = np.random.default_rng(0)
        x = rng.random((batch, 1, 28, 28)).astype(np.float32)
        t = rng.integers(0, 10, batch)
        net.gradient(x, t)  # compile (or load from Numba's cache) here, never while timed
        net.predict(x)
        return net, x, t
    return memo(("conv", net_name, batch, path), build)


class ConvNets:
    params = (list(NETS), [10, 100], list(PATHS))
    param_names = ["net", "batch", "path"]
    timeout = 120

    def setup(self, net_name, batch, path):
        self.net, self.x, self.t = _ready(net_name, batch, path)

    def time_train_step(self, *_):
        grads = self.net.gradient(self.x, self.t)
        for key, g in grads.items():
            self.net.params[key] -= 0.01 * g

    def time_predict(self, *_):
        self.net.predict(self.x)
