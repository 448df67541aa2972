"""Drop-in layers for the book's ``common/layers.py`` (vol. 1 ch. 5 and vol. 2 ch. 1).

Each ``forward``/``backward`` validates its input in Python, then makes one kernel call.
Layers keep references to the caller's parameter arrays (never a converted copy), so an
in-place update of ``W`` is seen by the next forward, and gradients are written in place
into stable arrays (``grads``), so vol. 2 code can hold on to them.
"""
import numpy as np

from . import _validate as V
from .kernels import activations as _act
from .kernels import affine as _aff
from .kernels import convert as _conv
from .kernels import reductions as _red
from .kernels import softmax as _sm


def _no_forward(layer):
    return ValueError(f"{type(layer).__name__}.backward() called before forward()")


def _grad_like(grads, i, p):
    """Keep ``grads[i]`` a stable array of ``p``'s shape and dtype (re-made only if the
    parameter was replaced by one of another shape or dtype)."""
    g = grads[i]
    if g.shape != p.shape or g.dtype != p.dtype:
        g = grads[i] = np.zeros(p.shape, dtype=p.dtype)
    return g


class MulLayer:
    """``out = x * y`` on Python numbers or arrays (the book's apple example)."""

    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x = x
        self.y = y
        return x * y

    def backward(self, dout):
        if self.x is None:
            raise _no_forward(self)
        return dout * self.y, dout * self.x


class AddLayer:
    """``out = x + y``; the gradient passes through to both inputs."""

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout * 1, dout * 1


class Relu:
    """``out = max(x, 0)``; keeps ``mask = (x <= 0)``, so the gradient at exactly 0 is 0."""

    def __init__(self):
        self.params, self.grads = [], []
        self.mask = None

    def forward(self, x):
        x = V.as_real(x, "x")
        out = np.empty_like(x)
        self.mask = np.empty(x.shape, dtype=np.bool_)
        _act.relu_forward(x.reshape(-1), out.reshape(-1), self.mask.reshape(-1))
        return out

    def backward(self, dout):
        if self.mask is None:
            raise _no_forward(self)
        dout = V.as_real(dout, "dout")
        V.same_shape(dout, self.mask.shape, "dout", "the shape of the forward input")
        dx = np.empty_like(dout)
        _act.relu_backward(dout.reshape(-1), self.mask.reshape(-1), dx.reshape(-1))
        return dx


class Sigmoid:
    """``out = 1 / (1 + exp(-x))``; keeps ``out`` for the backward pass."""

    def __init__(self):
        self.params, self.grads = [], []
        self.out = None

    def forward(self, x):
        x = V.as_real(x, "x")
        out = np.empty_like(x)
        _act.sigmoid_forward(x.reshape(-1), out.reshape(-1))
        self.out = out
        return out

    def backward(self, dout):
        if self.out is None:
            raise _no_forward(self)
        dout = V.as_real(dout, "dout", self.out.dtype)
        V.same_shape(dout, self.out.shape, "dout", "the shape of the forward output")
        dx = np.empty_like(dout)
        _act.sigmoid_backward(dout.reshape(-1), self.out.reshape(-1), dx.reshape(-1))
        return dx


class Affine:
    """``out = x @ W + b`` for (N, ...) input, flattened to (N, D) like the book.

    Attributes: ``W``, ``b`` (the caller's arrays), ``x`` (the 2-D input),
    ``original_x_shape``, ``dW``, ``db``; vol. 2's ``params = [W, b]`` and
    ``grads = [dW, db]`` (stable arrays written in place by every backward).
    The compute dtype is ``W``'s (float32 or float64); integer input is cast to it.
    """

    def __init__(self, W, b):
        V.param_dtype(W, "W")
        V.param_dtype(b, "b")
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"Affine needs W of shape (D, M) and b of shape (M,), got {W.shape} and {b.shape}")
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None
        self.original_x_shape = None
        self._xbuf = None

    def _converted(self, x, dt):
        """``x`` as C-contiguous ``dt``. A cast (float32 MNIST into float64 parameters,
        uint8 pixels) goes into a buffer kept by the layer: a fresh 600 KB array per
        call costs more in page faults than the cast itself, and re-casting the batch
        that is already there (``gradient`` then ``loss`` on one batch) writes nothing
        (see :func:`fastprop.kernels.convert.cast_into`)."""
        arr = np.asarray(x)
        if arr.dtype == dt and arr.flags.c_contiguous:
            return arr
        V.real_dtype(arr, "x")
        buf = self._xbuf
        if buf is None or buf.shape != arr.shape or buf.dtype != dt:
            buf = self._xbuf = np.empty(arr.shape, dtype=dt)
        if arr.flags.c_contiguous and arr.dtype.kind == "f":
            _conv.cast_into(arr.reshape(-1), buf.reshape(-1))  # leaves an unchanged batch clean
        else:
            np.copyto(buf, arr, casting="unsafe")
        return buf

    W = property(lambda self: self.params[0], lambda self, v: self.params.__setitem__(0, v))
    b = property(lambda self: self.params[1], lambda self, v: self.params.__setitem__(1, v))
    dW = property(lambda self: self.grads[0])
    db = property(lambda self: self.grads[1])

    def forward(self, x):
        W, b = self.params
        dt = V.param_dtype(W, "W")
        x = V.batch(self._converted(x, dt), "x")
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != W.shape[0]:
            raise ValueError(
                f"x has {x.shape[1]} features per sample (shape {self.original_x_shape}), "
                f"but W expects {W.shape[0]} (W has shape {W.shape})")
        b = np.ascontiguousarray(b, dtype=dt)
        out = np.empty((x.shape[0], W.shape[1]), dtype=dt)
        _aff.affine_forward(x, np.ascontiguousarray(W), b, out)
        self.x = x
        return out

    def backward(self, dout, need_dx=True):
        """Write ``dW``, ``db`` in place and return ``dx`` in the input's original shape.

        ``need_dx=False`` skips the ``dout @ W.T`` GEMM (a net's first layer) and returns None.
        """
        if self.x is None:
            raise _no_forward(self)
        W = self.params[0]
        dt = self.x.dtype
        dout = V.as_real(dout, "dout", dt)
        V.same_shape(dout, (self.x.shape[0], W.shape[1]), "dout", "the shape of the forward output")
        dW = _grad_like(self.grads, 0, W)
        db = _grad_like(self.grads, 1, self.params[1])
        dx = np.empty_like(self.x) if need_dx else None
        _aff.affine_backward(self.x, np.ascontiguousarray(W, dtype=dt), dout, dW, db, dx)
        return None if dx is None else dx.reshape(self.original_x_shape)


class MatMul:
    """vol. 2's ``out = x @ W`` node: ``params = [W]``, ``grads = [dW]`` written in place."""

    def __init__(self, W):
        V.param_dtype(W, "W")
        if W.ndim != 2:
            raise ValueError(f"MatMul needs a 2-D W, got shape {W.shape}")
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.x = None

    def forward(self, x):
        W = self.params[0]
        dt = V.param_dtype(W, "W")
        x = V.batch(V.as_real(x, "x", dt), "x")
        if x.ndim != 2 or x.shape[1] != W.shape[0]:
            raise ValueError(f"x must have shape (N, {W.shape[0]}) to multiply W of shape {W.shape}, got {x.shape}")
        out = np.empty((x.shape[0], W.shape[1]), dtype=dt)
        _aff.affine_forward(x, np.ascontiguousarray(W), None, out)
        self.x = x
        return out

    def backward(self, dout):
        if self.x is None:
            raise _no_forward(self)
        W = self.params[0]
        dout = V.as_real(dout, "dout", self.x.dtype)
        V.same_shape(dout, (self.x.shape[0], W.shape[1]), "dout", "the shape of the forward output")
        dW = _grad_like(self.grads, 0, W)
        dx = np.empty_like(self.x)
        _aff.affine_backward(self.x, np.ascontiguousarray(W, dtype=self.x.dtype), dout, dW, None, dx)
        return dx


class Repeat:
    """Copy a (1, D) row ``N`` times (vol. 2 ch. 1); backward sums over axis 0."""

    def __init__(self, N):
        self.N = V.positive_int(N, "N")
        self.params, self.grads = [], []
        self.D = None

    def forward(self, x):
        x = V.as_real(x, "x")
        if x.ndim != 2 or x.shape[0] != 1:
            raise ValueError(f"Repeat expects a (1, D) row, got shape {x.shape}")
        self.D = x.shape[1]
        return np.repeat(x, self.N, axis=0)

    def backward(self, dout):
        if self.D is None:
            raise _no_forward(self)
        dout = V.as_real(dout, "dout")
        V.same_shape(dout, (self.N, self.D), "dout", "the shape of the forward output")
        dx = np.empty((1, self.D), dtype=dout.dtype)
        _red.column_sum(dout, dx.reshape(-1))
        return dx


class Sum:
    """Sum an (N, D) array over axis 0 keeping dims (vol. 2 ch. 1); backward repeats."""

    def __init__(self):
        self.params, self.grads = [], []
        self.N = None

    def forward(self, x):
        x = V.as_real(x, "x")
        if x.ndim != 2:
            raise ValueError(f"Sum expects a 2-D (N, D) array, got shape {x.shape}")
        self.N = x.shape[0]
        out = np.empty((1, x.shape[1]), dtype=x.dtype)
        _red.column_sum(x, out.reshape(-1))
        return out

    def backward(self, dout):
        if self.N is None:
            raise _no_forward(self)
        dout = V.as_real(dout, "dout")
        if dout.ndim != 2 or dout.shape[0] != 1:
            raise ValueError(f"dout must be a (1, D) row, got shape {dout.shape}")
        return np.repeat(dout, self.N, axis=0)


def _as_2d_scores(x, name="x"):
    x = V.batch(V.as_real(x, name), name)
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 1-D (one sample) or 2-D (N, C) scores, got shape {x.shape}")
    return x


class Softmax:
    """vol. 2's Softmax layer: row-wise softmax forward, its Jacobian-vector product backward."""

    def __init__(self):
        self.params, self.grads = [], []
        self.out = None

    def forward(self, x):
        shape = np.shape(x)
        x = _as_2d_scores(x)
        out = np.empty_like(x)
        _sm.softmax(x, out)
        self.out = out.reshape(shape)
        return self.out

    def backward(self, dout):
        if self.out is None:
            raise _no_forward(self)
        dout = V.as_real(dout, "dout", self.out.dtype)
        V.same_shape(dout, self.out.shape, "dout", "the shape of the forward output")
        dx = self.out * dout
        return dx - self.out * dx.sum(axis=-1, keepdims=True)


class SoftmaxWithLoss:
    """Softmax followed by the mean cross-entropy, fused in one kernel.

    ``t`` holds integer labels (N,) or one-hot rows (N, C) — the book's rule is
    ``t.size == y.size`` means one-hot. Keeps ``loss``, ``y``, ``t``.
    ``backward(dout=1)`` returns ``(y - t) * dout / N`` (vol. 2 scales by ``dout``;
    vol. 1 ignores it, which is the same for the default ``dout=1``).
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.loss = None
        self.y = None
        self.t = None

    def _targets(self, t, x):
        t = np.asarray(t)
        if t.size == x.size and t.size > 0:
            onehot = V.as_real(t, "t", x.dtype).reshape(x.shape)
            return onehot, True
        if x.shape[0] == 1 and t.ndim == 0:
            t = t.reshape(1)
        return V.labels(t, x.shape[0], x.shape[1]), False

    def forward(self, x, t):
        x = _as_2d_scores(x)
        t, onehot = self._targets(t, x)
        y = np.empty_like(x)
        kernel = _sm.softmax_cross_entropy_onehot if onehot else _sm.softmax_cross_entropy
        self.loss = kernel(x, t, y, None, 1.0)
        self.y, self.t, self._onehot = y, t, onehot
        return self.loss

    def forward_backward(self, x, t, dout=1.0):
        """Loss and ``dx`` in one pass (what a training step wants); sets the same attributes."""
        x = _as_2d_scores(x)
        t, onehot = self._targets(t, x)
        y = np.empty_like(x)
        dx = np.empty_like(x)
        kernel = _sm.softmax_cross_entropy_onehot if onehot else _sm.softmax_cross_entropy
        self.loss = kernel(x, t, y, dx, V.real_scalar(dout, "dout"))
        self.y, self.t, self._onehot = y, t, onehot
        return self.loss, dx

    def backward(self, dout=1):
        if self.y is None:
            raise _no_forward(self)
        dout = V.real_scalar(dout, "dout")
        dx = np.empty_like(self.y)
        if self._onehot:
            _sm.softmax_cross_entropy_onehot_backward(self.y, self.t, dout, dx)
        else:
            _sm.softmax_cross_entropy_backward(self.y, self.t, dout, dx)
        return dx
