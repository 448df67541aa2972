"""Every kernel of ``fastprop.kernels`` against its NumPy twin in ``fastprop.reference``.

Parameters: ``batch`` rows, ``width`` columns (the affine layer maps 784 inputs to
``width`` outputs; softmax and the loss see ``width`` classes; the fused step is
784-``width``-10), ``dtype``, ``impl`` (``fastprop``: the compiled kernel; ``reference``:
the NumPy twin with the same signature). Optimizer updates work on one (784, ``width``)
weight matrix, so they have no ``batch``.
"""
import numpy as np

from fastprop import reference
from fastprop._fused import padded_batch
from fastprop.kernels import activations, affine, loss_average, optim, reductions, shuffle, softmax, step

from ._memo import memo

IMPLS = ["fastprop", "reference"]
DTYPES = ["float64", "float32"]
D = 784          # input features of the affine layer and of the fused step
CLASSES = 10     # outputs of the fused step
_MODULES = (activations, affine, loss_average, optim, reductions, shuffle, softmax, step)


def kernel(name, impl):
    """The compiled kernel ``name`` or its NumPy twin."""
    if impl == "reference":
        return getattr(reference, name)
    for mod in _MODULES:
        fn = getattr(mod, name, None)
        if fn is not None:
            return fn
    raise LookupError(name)


class _KernelBench:
    """Base: ``cases`` maps a benchmark (method suffix) to ``(kernel name, build)``;
    ``build(batch, width, dtype, rng)`` returns the argument tuple."""

    params = ([100, 1000], [50, 1000], DTYPES, IMPLS)
    param_names = ["batch", "width", "dtype", "impl"]
    cases = {}

    def setup(self, *p):
        impl = p[-1]
        shape = p[:-1]

        def build():
            rng = np.random.default_rng(0)
            ready = {}
            for case, (name, make) in self.cases.items():
                fn = kernel(name, impl)
                args = make(*shape, rng)
                fn(*args)  # compile (or load from Numba's cache) here, never while timed
                ready[case] = (fn, args)
            return ready

        self.ready = memo((type(self).__name__,) + p, build)

    def _run(self, case):
        fn, args = self.ready[case]
        fn(*args)


def _rand(rng, shape, dtype, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(dtype)


def _labels(rng, n, c):
    return rng.integers(0, c, n).astype(np.intp)


def _onehot(rng, n, c, dtype):
    t = np.zeros((n, c), dtype)
    t[np.arange(n), rng.integers(0, c, n)] = 1
    return t


class ColumnSum(_KernelBench):
    cases = {"column_sum": ("column_sum", lambda n, m, dt, r: (
        _rand(r, (n, m), dt), np.empty(m, dt)))}

    def time_column_sum(self, *p):
        self._run("column_sum")


class Affine(_KernelBench):
    cases = {
        "forward": ("affine_forward", lambda n, m, dt, r: (
            _rand(r, (n, D), dt), _rand(r, (D, m), dt), _rand(r, m, dt), np.empty((n, m), dt))),
        "backward": ("affine_backward", lambda n, m, dt, r: (
            _rand(r, (n, D), dt), _rand(r, (D, m), dt), _rand(r, (n, m), dt),
            np.empty((D, m), dt), np.empty(m, dt), np.empty((n, D), dt))),
        "backward_no_dx": ("affine_backward", lambda n, m, dt, r: (
            _rand(r, (n, D), dt), _rand(r, (D, m), dt), _rand(r, (n, m), dt),
            np.empty((D, m), dt), np.empty(m, dt), None)),
    }

    def time_forward(self, *p):
        self._run("forward")

    def time_backward(self, *p):
        self._run("backward")

    def time_backward_no_dx(self, *p):
        self._run("backward_no_dx")


def _relu_fwd(n, m, dt, r):
    return _rand(r, n * m, dt), np.empty(n * m, dt), np.empty(n * m, np.bool_)


class Relu(_KernelBench):
    # elementwise kernels take 1-D views, as the layers pass them (reshape(-1))
    cases = {
        "forward": ("relu_forward", _relu_fwd),
        "backward": ("relu_backward", lambda n, m, dt, r: (
            _rand(r, n * m, dt), r.random(n * m) < 0.5, np.empty(n * m, dt))),
    }

    def time_forward(self, *p):
        self._run("forward")

    def time_backward(self, *p):
        self._run("backward")


class Sigmoid(_KernelBench):
    cases = {
        "forward": ("sigmoid_forward", lambda n, m, dt, r: (
            _rand(r, n * m, dt, -5, 5), np.empty(n * m, dt))),
        "backward": ("sigmoid_backward", lambda n, m, dt, r: (
            _rand(r, n * m, dt), _rand(r, n * m, dt, 0, 1), np.empty(n * m, dt))),
    }

    def time_forward(self, *p):
        self._run("forward")

    def time_backward(self, *p):
        self._run("backward")


class Softmax(_KernelBench):
    cases = {"softmax": ("softmax", lambda n, m, dt, r: (
        _rand(r, (n, m), dt, -10, 10), np.empty((n, m), dt)))}

    def time_softmax(self, *p):
        self._run("softmax")


class SoftmaxCrossEntropy(_KernelBench):
    """Loss and gradient in one call (``dx`` given), for labels and for one-hot targets,
    and the backward alone from a saved softmax."""

    cases = {
        "labels": ("softmax_cross_entropy", lambda n, m, dt, r: (
            _rand(r, (n, m), dt, -10, 10), _labels(r, n, m), np.empty((n, m), dt),
            np.empty((n, m), dt), 1.0)),
        "onehot": ("softmax_cross_entropy_onehot", lambda n, m, dt, r: (
            _rand(r, (n, m), dt, -10, 10), _onehot(r, n, m, dt), np.empty((n, m), dt),
            np.empty((n, m), dt), 1.0)),
        "backward_labels": ("softmax_cross_entropy_backward", lambda n, m, dt, r: (
            _rand(r, (n, m), dt, 0, 1), _labels(r, n, m), 1.0, np.empty((n, m), dt))),
        "backward_onehot": ("softmax_cross_entropy_onehot_backward", lambda n, m, dt, r: (
            _rand(r, (n, m), dt, 0, 1), _onehot(r, n, m, dt), 1.0, np.empty((n, m), dt))),
    }

    def time_labels(self, *p):
        self._run("labels")

    def time_onehot(self, *p):
        self._run("onehot")

    def time_backward_labels(self, *p):
        self._run("backward_labels")

    def time_backward_onehot(self, *p):
        self._run("backward_onehot")


def _opt_case(name, n_state, *scalars):
    def make(m, dt, r):
        size = D * m
        p, g = _rand(r, size, dt), _rand(r, size, dt, -1e-3, 1e-3)
        state = [np.abs(_rand(r, size, dt, 0, 1e-3)) for _ in range(n_state)]
        return (p, g, *state, *(np.dtype(dt).type(s) for s in scalars))
    return name, make


class OptimizerUpdate(_KernelBench):
    """In-place update of one flattened (784, ``width``) parameter and its state."""

    params = ([50, 1000], DTYPES, IMPLS)
    param_names = ["width", "dtype", "impl"]
    cases = {
        "sgd": _opt_case("sgd_update", 0, 0.01),
        "momentum": _opt_case("momentum_update", 1, 0.01, 0.9),
        "nesterov": _opt_case("nesterov_update", 1, 0.01, 0.9),
        "adagrad": _opt_case("adagrad_update", 1, 0.01),
        "rmsprop": _opt_case("rmsprop_update", 1, 0.01, 0.99),
        "adam": _opt_case("adam_update", 2, 0.001, 0.9, 0.999),
    }

    def time_sgd(self, *p):
        self._run("sgd")

    def time_momentum(self, *p):
        self._run("momentum")

    def time_nesterov(self, *p):
        self._run("nesterov")

    def time_adagrad(self, *p):
        self._run("adagrad")

    def time_rmsprop(self, *p):
        self._run("rmsprop")

    def time_adam(self, *p):
        self._run("adam")


def _step_args(n, h, dt, r, many):
    """Arguments of ``two_layer_train_step(s)`` for a 784-h-10 ReLU net, SGD, labels."""
    X = _rand(r, (n, D), dt, 0, 1)
    labels = _labels(r, n, CLASSES)
    targets = np.empty((0, 0), dt)
    rows = np.arange(n, dtype=np.intp)
    W1, b1 = _rand(r, (D, h), dt, -0.01, 0.01), np.zeros(h, dt)
    W2, b2 = _rand(r, (h, CLASSES), dt, -0.01, 0.01), np.zeros(CLASSES, dt)
    grads = [np.zeros_like(a) for a in (W1, b1, W2, b2)]
    bufs = [np.empty(s, dt) for s in ((n, h), (n, CLASSES), (n, CLASSES), (n, h))]
    empty = np.empty(0, dt)
    hp = np.array([0.1, 0.0, 0.0], dt)
    tail = (False, step.SGD, hp, (empty,) * 4, (empty,) * 4, 0)
    head = (X, labels, targets, False, rows, W1, b1, W2, b2, *grads)
    if many:   # one step through the multi-step entry point: gather + step + update
        return head + (np.empty((n, D), dt), *bufs) + tail + (np.empty(1),)
    return head + tuple(bufs) + tail


class FusedStep(_KernelBench):
    """The fused forward + backward + SGD kernel of a 784-``width``-10 net, one batch."""

    cases = {
        "train_step": ("two_layer_train_step", lambda n, m, dt, r: _step_args(n, m, dt, r, False)),
        "train_steps": ("two_layer_train_steps", lambda n, m, dt, r: _step_args(n, m, dt, r, True)),
    }
    timeout = 120

    def time_train_step(self, *p):
        self._run("train_step")

    def time_train_steps_gather(self, *p):
        self._run("train_steps")


SMALL_STEPS = 10  # steps per call of the tiny-layer kernel (one step is ~1 us)


def _small_step_args(n, h, dt, r):
    """``two_layer_train_steps_small`` for vol. 2's 2-``h``-3 sigmoid net, SGD, labels:
    ``SMALL_STEPS`` steps over a 300-point set, the scratch padded as fastprop pads it."""
    X = _rand(r, (300, 2), dt)
    labels = _labels(r, 300, 3)
    idx = r.integers(0, 300, SMALL_STEPS * n).astype(np.intp)
    W1, b1 = _rand(r, (2, h), dt), np.zeros(h, dt)
    W2, b2 = _rand(r, (h, 3), dt), np.zeros(3, dt)
    grads = [np.zeros_like(a) for a in (W1, b1, W2, b2)]
    bp = padded_batch(n)
    bufs = [np.empty(s, dt) for s in ((bp, 2), (bp, h), (bp, 3), (bp, 3), (bp, h))]
    empty = np.empty(0, dt)
    return (X, labels, np.empty((0, 0), dt), False, idx, W1, b1, W2, b2, *grads, *bufs, True,
            step.SGD, np.array([0.1, 0.0, 0.0], dt), (empty,) * 4, (empty,) * 4, 0,
            np.empty(SMALL_STEPS))


class SmallFusedStep(_KernelBench):
    """The tiny-layer fused kernel (vol. 2's spiral net, 2-``width``-3, sigmoid):
    ``SMALL_STEPS`` steps of ``batch`` rows a call."""

    params = ([30, 300], [10, 30], DTYPES, IMPLS)
    cases = {"steps": ("two_layer_train_steps_small", _small_step_args)}

    def time_train_steps_small(self, *p):
        self._run("steps")


class BookShuffles(_KernelBench):
    """``epochs`` of the book's ``x = x[np.random.permutation(n)]`` on row indices."""

    params = ([300, 60000], [1, 10], IMPLS)
    param_names = ["n", "epochs", "impl"]
    cases = {"shuffles": ("book_shuffles", lambda n, e, r: (
        np.random.RandomState(0).get_state()[1].copy(), np.array([624], np.int64),
        np.arange(n, dtype=np.int64), np.empty((e, n), np.int64)))}

    def time_book_shuffles(self, *p):
        self._run("shuffles")


class LossLog(_KernelBench):
    """The Trainer's loss bookkeeping over ``epochs`` x 10 steps (eval every 10)."""

    params = ([300, 3000], IMPLS)
    param_names = ["epochs", "impl"]
    cases = {"log": ("average_losses", lambda e, r: (
        r.random(10 * e), 10, 10, np.zeros(2), np.empty(10 * e), np.empty(e)))}

    def time_average_losses(self, *p):
        self._run("log")
