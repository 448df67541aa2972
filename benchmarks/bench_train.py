"""Training: one step at three sizes, its peak memory, vol. 2's spiral fit, and one epoch
of MNIST-shaped data (synthetic: no download needed).

Paths (``fastprop.bench`` builds the steps and ``fastprop.runs`` the spiral fit, so
``fastprop bench``, ``fastprop train`` and this suite time the same code):

* ``book``: the book's ch05 loop on its NumPy ``TwoLayerNet`` (``fastprop.bench.book``):
  ``grad = net.gradient(x, t)``, ``params[k] -= lr * grad[k]``, ``net.loss(x, t)``;
* ``dropin``: the same loop on ``fastprop.TwoLayerNet``;
* ``fused``: ``net.fused_step(x, t, SGD(lr))``, and ``net.train_steps`` for whole epochs.
"""
import importlib.util

import numpy as np

from fastprop.datasets import spiral
from fastprop.nets import TwoLayerNet
from fastprop.optimizers import SGD

from ._memo import memo

if importlib.util.find_spec("fastprop.bench") is not None:
    from fastprop import bench  # a broken fastprop.bench fails the suite, as it should

    if hasattr(bench, "__path__"):  # the package: the baseline lives in fastprop.bench.book
        from fastprop.bench.book import BookTwoLayerNet, book_step
    else:  # history runs of commits where fastprop.bench was one module
        BookTwoLayerNet, book_step = bench.BookTwoLayerNet, bench.book_step
else:  # history runs of commits from before fastprop.bench: skipped below
    bench = None
if importlib.util.find_spec("fastprop.runs") is not None:
    from fastprop.runs import fit_spiral  # the run `fastprop train --dataset spiral` makes
else:
    fit_spiral = None


def _need_bench():
    if bench is None:
        raise NotImplementedError("this fastprop has no fastprop.bench")  # asv: skipped


SIZES = {"784-50-10/b100": (784, 50, 10, 100), "784-1000-10/b1000": (784, 1000, 10, 1000),
         "784-4096-10/b4096": (784, 4096, 10, 4096)}
PATHS = ["book", "dropin", "fused", "fused_float32"]


def _step(size, path):
    _need_bench()

    def build():
        impl, _, dtype = path.partition("_")
        step, _ = bench.make_step(impl, SIZES[size], dtype or "float64")
        step()  # compile / load kernels, touch every buffer
        return step
    return memo(("step", size, path), build)


class TrainStep:
    """One training step on one batch (784-H-10, ReLU, SGD lr 0.1, integer labels);
    float64 except ``fused_float32``."""

    params = (list(SIZES), PATHS)
    param_names = ["size", "path"]
    timeout = 300

    def setup(self, size, path):
        self.step = _step(size, path)

    def time_step(self, size, path):
        self.step()


class TrainStepMemory:
    """Peak resident memory of a process that has run the step."""

    params = (list(SIZES), PATHS)
    param_names = ["size", "path"]
    timeout = 300

    def setup(self, size, path):
        self.step = _step(size, path)

    def peakmem_step(self, size, path):
        self.step()


class SpiralFit:
    """vol. 2 ch. 1: spiral data, TwoLayerNet(2, 10, 3, sigmoid), SGD(lr=1.0),
    ``Trainer.fit(x, t, max_epoch=300, batch_size=30, eval_interval=10)``.

    ``fastprop``: fastprop's net (the Trainer takes its compiled path); ``book``: the
    book's NumPy net and SGD driven by the same Trainer (its forward/backward/update path).
    """

    params = ["fastprop", "book"]
    param_names = ["impl"]
    timeout = 300

    def setup(self, impl):
        _need_bench()

        def build():
            x, t = spiral.load_data()
            state = np.random.get_state()  # where the book's script draws the weights from
            self._fit(impl, x, t, state, max_epoch=1)  # compile outside the timed region
            return x, t, state
        self.x, self.t, self.state = memo(("spiral", impl), build)

    @staticmethod
    def _fit(impl, x, t, state, max_epoch=300):
        if fit_spiral is None:  # history runs of commits from before fastprop.runs
            return bench.spiral_fit(impl, x, t, state, max_epoch)
        return fit_spiral((x, t), implementation=impl, rng_state=state, epochs=max_epoch,
                          apply_thread_policy=False).trainer

    def time_fit(self, impl):
        self._fit(impl, self.x, self.t, self.state)

    def track_last_loss(self, impl):
        """The last averaged loss (the book's run: about 0.1087)."""
        return float(self._fit(impl, self.x, self.t, self.state).loss_list[-1])

    track_last_loss.unit = "loss"


class MnistEpoch:
    """One epoch (600 steps of batch 100) of TwoLayerNet(784, 50, 10) on synthetic data of
    MNIST's shape: 60000 x 784 float32 in [0, 1] (``load_mnist(normalize=True)``) or raw
    uint8, uint8 labels, batches drawn as the book draws them.

    ``book``/``dropin``: the ch05 loop, ``x_train[batch_mask]`` per step; ``fused*``: one
    ``net.train_steps`` call (batches gathered and cast inside the kernel).
    """

    params = ["book", "dropin", "fused", "fused_float32", "fused_uint8"]
    param_names = ["path"]
    timeout = 300
    steps, batch = 600, 100

    def setup(self, path):
        _need_bench()

        def build():
            rng = np.random.default_rng(0)
            x = rng.integers(0, 256, (60000, 784), dtype=np.uint8)
            if path != "fused_uint8":
                x = x.astype(np.float32) / np.float32(255.0)
            t = rng.integers(0, 10, 60000).astype(np.uint8)
            np.random.seed(0)
            idx = np.random.choice(60000, self.steps * self.batch)
            run = self._runner(path, x, t, idx)
            run(2)  # compile, allocate
            return run
        self.run = memo(("mnist", path), build)

    def _runner(self, path, x, t, idx):
        B = self.batch
        if path == "book" or path == "dropin":
            net = BookTwoLayerNet(784, 50, 10) if path == "book" else TwoLayerNet(784, 50, 10)

            def run(steps=self.steps):
                for i in range(steps):
                    mask = idx[i * B:(i + 1) * B]
                    book_step(net, x[mask], t[mask])
            return run
        net = TwoLayerNet(784, 50, 10, dtype=np.float32 if path == "fused_float32" else np.float64)
        opt = SGD(lr=0.1 / 255 if path == "fused_uint8" else 0.1)  # raw pixels: same scale of step

        def run(steps=self.steps):
            net.train_steps(x, t, idx[:steps * B], B, opt)
        return run

    def time_epoch(self, path):
        self.run()
