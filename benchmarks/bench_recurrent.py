"""The time layers: the TimeLSTM loop (kernel vs its NumPy twin, the book's cell step by step),
the masked softmax-cross-entropy over N*T rows, and one Rnnlm training step.

Small sizes (the issue's TimeLSTM size, a 2000-word vocabulary for the step) so the suite stays
quick; every kernel is compiled in ``setup``, never while timed.
"""
import numpy as np

from fastprop.kernels import recurrent, sequence
from fastprop.nets import Rnnlm
from fastprop.optimizers import SGD
from fastprop.trainer import clip_grads, remove_duplicate
from fastprop.twins import recurrent as twin_recurrent
from fastprop.twins import sequence as twin_sequence

from ._memo import memo

IMPLS = ["fastprop", "twin"]


def _lstm_args(N, T, D, H, dt):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((N, T, D)).astype(dt)
    Wx = (rng.standard_normal((D, 4 * H)) / np.sqrt(D)).astype(dt)
    Wh = (rng.standard_normal((H, 4 * H)) / np.sqrt(H)).astype(dt)
    b = np.zeros(4 * H, dt)
    h0 = np.zeros((N, H), dt)
    fwd = [np.empty((N, T, H), dt), np.empty((T, N, D), dt), np.empty((T + 1, N, H), dt),
           np.empty((T + 1, N, H), dt), np.empty((T, N, 4 * H), dt), np.empty((T, N, H), dt)]
    dhs = rng.standard_normal((N, T, H)).astype(dt)
    bwd = [np.empty((D, 4 * H), dt), np.empty((H, 4 * H), dt), np.empty(4 * H, dt), np.empty((N, T, D), dt),
           np.zeros((N, H), dt), np.zeros((N, H), dt), np.empty((T, N, 4 * H), dt), np.empty((T, N, D), dt)]
    return (xs, Wx, Wh, b, h0, h0.copy(), *fwd), (dhs, Wx, Wh, *fwd[1:], *bwd)


class TimeLSTMLoop:
    """lstm_forward then lstm_backward at N 20, T 35, D = H = 100 (the issue's size)."""

    params = (["float32", "float64"], IMPLS)
    param_names = ["dtype", "impl"]

    def setup(self, dtype, impl):
        mod = recurrent if impl == "fastprop" else twin_recurrent

        def build():
            f, b = _lstm_args(20, 35, 100, 100, np.dtype(dtype))
            mod.lstm_forward(*f)
            mod.lstm_backward(*b)  # compile here
            return f, b

        self.f, self.b = memo(("lstm", dtype, impl), build)
        self.mod = mod

    def time_forward_backward(self, dtype, impl):
        self.mod.lstm_forward(*self.f)
        self.b[-4][...] = 0  # dh, dc are in/out: start every backward from zero
        self.b[-3][...] = 0
        self.mod.lstm_backward(*self.b)


class TimeSoftmaxLoss:
    """The masked softmax-cross-entropy with its gradient over 700 rows of ``vocab`` scores."""

    params = ([1000, 10000], IMPLS)
    param_names = ["vocab", "impl"]

    def setup(self, vocab, impl):
        mod = sequence if impl == "fastprop" else twin_sequence

        def build():
            rng = np.random.default_rng(0)
            x = rng.standard_normal((700, vocab)).astype(np.float32)
            t = rng.integers(0, vocab, 700).astype(np.intp)
            y, dx = np.empty_like(x), np.empty_like(x)
            mod.time_softmax_cross_entropy(x, t, -1, y, dx, 1.0, None)
            return x, t, y, dx

        self.args = memo(("loss", vocab, impl), build)
        self.mod = mod

    def time_loss_and_gradient(self, vocab, impl):
        x, t, y, dx = self.args
        self.mod.time_softmax_cross_entropy(x, t, -1, y, dx, 1.0, None)


class RnnlmStep:
    """forward, backward, remove_duplicate, clip_grads(0.25), SGD: V 2000, D = H = 100, 20 x 35."""

    def setup(self):
        def build():
            np.random.seed(0)
            model = Rnnlm(2000, 100, 100)
            rng = np.random.default_rng(0)
            xs, ts = rng.integers(0, 2000, (2, 20, 35)).astype(np.int32)
            opt = SGD(20.0)
            step = (model, xs, ts, opt)
            self._step(step)
            return step

        self.step = memo("rnnlm", build)

    @staticmethod
    def _step(step):
        model, xs, ts, opt = step
        model.forward(xs, ts)
        model.backward()
        params, grads = remove_duplicate(model.params, model.grads)
        clip_grads(grads, 0.25)
        opt.update(params, grads)

    def time_step(self):
        self._step(self.step)
