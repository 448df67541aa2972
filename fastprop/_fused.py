"""Python side of the fused two-layer training step (:mod:`fastprop.kernels.step`).

Validates once per call, keeps every buffer between calls (a warmed-up step allocates
no array), and maps fastprop's optimizers onto the kernel's optimizer codes.
"""
import numpy as np

from . import _validate as V
from . import optimizers as _opt
from .kernels import step as _step

KEYS = ("W1", "b1", "W2", "b2")
_CODES = {
    _opt.SGD: _step.SGD, _opt.Momentum: _step.MOMENTUM, _opt.Nesterov: _step.NESTEROV,
    _opt.AdaGrad: _step.ADAGRAD, _opt.RMSprop: _step.RMSPROP, _opt.Adam: _step.ADAM,
}


# Layers this small take the batch-in-lanes kernel (no BLAS). Measured per step, float64,
# SGD, sigmoid/ReLU, that kernel against the BLAS one (H * (D + O) in brackets): 2-10-3
# b30 (50) 2.4-3.0x faster, b300 2.7-3.3x; 20-8-4 b25 (192) 1.25x; 10-30-5 b50 (450)
# 1.1-1.2x; 2-100-3 b30 (500) 1.3x; 20-20-10 b100 (600) 1.0x; 64-16-10 b64 (1184) 0.8x;
# 20-50-10 b100 (1500) 0.95x; 784-4-10 b100 (3176) 0.87x.
SMALL_LAYERS = 500


def uses_small_kernel(D, H, O):
    """True when the fused step of a D-H-O net runs :func:`~fastprop.kernels.step.two_layer_train_steps_small`."""
    return H * (D + O) <= SMALL_LAYERS


def padded_batch(B):
    """Columns the tiny-layer kernel works on for a batch of ``B``: ``B`` rounded up to a
    multiple of 8 (one AVX-512 register of float64)."""
    return (B + 7) // 8 * 8


def _hyper(opt):
    """``(lr, c1, c2)`` in the kernel's order for optimizer ``opt``."""
    c1 = getattr(opt, "momentum", getattr(opt, "decay_rate", getattr(opt, "beta1", 0.0)))
    return opt.lr, c1, getattr(opt, "beta2", 0.0)


def _exactly_onehot(t):
    """Every row of the 2-D ``t`` is 0 everywhere but one entry equal to 1."""
    if t.dtype == np.bool_:
        return bool((t.sum(axis=1) == 1).all())
    return bool(((t == 0) | (t == 1)).all() and (np.count_nonzero(t, axis=1) == 1).all())


class FusedTwoLayer:
    """Buffers and argument plumbing for one :class:`~fastprop.nets.TwoLayerNet`."""

    def __init__(self, net):
        self.net = net
        self._bufs = {}
        self._aranges = {}
        self._empty_t = {}
        self._opt_cache = None
        self._no_labels = np.empty(0, np.intp)  # the kernel's unused labels with one-hot t

    def supports(self, optimizer):
        """True when ``optimizer`` is one of fastprop's own six (not a subclass that may
        change the rule) and every parameter is a C-contiguous array of one float dtype."""
        if type(optimizer) not in _CODES:
            return False
        p = self.net.params
        dt = p["W1"].dtype
        return all(isinstance(p[k], np.ndarray) and p[k].dtype == dt and dt in V.FLOAT_DTYPES
                   and p[k].flags.c_contiguous for k in KEYS)

    def _buffers(self, B, dt, small=False):
        """Scratch of the kernels: (B, D), (B, H), (B, O), (B, O), (B, H), with B padded
        for the tiny-layer kernel."""
        if small:
            B = padded_batch(B)
        key = (B, dt)
        bufs = self._bufs.get(key)
        p = self.net.params
        D, H = p["W1"].shape
        O = p["W2"].shape[1]
        if bufs is None or bufs[0].shape != (B, D) or bufs[1].shape != (B, H) or bufs[2].shape != (B, O):
            bufs = tuple(np.empty(s, dt) for s in ((B, D), (B, H), (B, O), (B, O), (B, H)))
            self._bufs = {key: bufs}  # one batch size at a time; the last one wins
        return bufs

    def _grads(self):
        """The layers' stable gradient arrays (``net.grads``), re-made if a parameter
        was replaced by one of another shape."""
        a1, a2 = self.net.layers["Affine1"], self.net.layers["Affine2"]
        out = []
        for layer in (a1, a2):
            for i, p in enumerate(layer.params):
                g = layer.grads[i]
                if g.shape != p.shape or g.dtype != p.dtype:
                    g = layer.grads[i] = np.zeros_like(p)
                out.append(g)
        return out

    def _targets(self, t, n, O, dt, to_labels=False):
        """``(labels, targets, onehot)`` for the kernel; validated (no index can go out of
        bounds inside the kernel)."""
        t = np.asarray(t)
        if t.ndim == 2:
            if t.shape != (n, O):
                raise ValueError(f"one-hot t must have shape ({n}, {O}), got {t.shape}")
            if t.dtype.kind not in "fiub":
                raise TypeError(f"t must be real one-hot rows, got dtype {t.dtype}")
            if not t.flags.c_contiguous:
                t = np.ascontiguousarray(t)
            if to_labels and _exactly_onehot(t):
                # the same numbers through the labels path (y - 1 and y - 0 are what the
                # one-hot rows give), which skips reading a row of targets per sample;
                # many steps only (it allocates the labels)
                return t.argmax(axis=1), self._empty_targets(dt), False
            return self._no_labels, t, True
        if t.dtype.kind not in "iu":
            raise TypeError(f"t must hold integer labels (or one-hot rows), got dtype {t.dtype}")
        if t.ndim != 1 or t.shape[0] != n:
            raise ValueError(f"t must have shape ({n},) (one label per row of x), got {t.shape}")
        lo, hi = t.min(), t.max()
        if lo < 0 or hi >= O:
            raise ValueError(f"t holds label {lo if lo < 0 else hi}, expected labels in [0, {O})")
        if not t.flags.c_contiguous:
            t = np.ascontiguousarray(t)
        return t, self._empty_targets(dt), False

    def _empty_targets(self, dt):
        e = self._empty_t.get(dt)
        if e is None:
            e = self._empty_t[dt] = np.empty((0, 0), dt)
        return e

    def _opt_args(self, optimizer, dt):
        """``(code, hp, S1, S2)`` for the kernel, kept between calls: rebuilt only when the
        optimizer, the dtype, a parameter or a state array changed, so a warm step makes
        no new objects here (hyper-parameters are re-read into ``hp`` in place: a learning
        rate schedule that assigns ``opt.lr`` works)."""
        p = self.net.params
        c = self._opt_cache
        if not (c is not None and c[0] is optimizer and c[1] == dt and self._same(c[4], optimizer)):
            states = [optimizer.kernel_state(k, p[k]) for k in KEYS]
            empty = np.empty(0, dt)
            S1 = tuple(s[0].reshape(-1) if len(s) > 0 else empty for s in states)
            S2 = tuple(s[1].reshape(-1) if len(s) > 1 else empty for s in states)
            hp = np.zeros(3, dtype=dt)
            seen = [p[k] for k in KEYS] + [s for st in states for s in st]
            c = self._opt_cache = (optimizer, dt, (_CODES[type(optimizer)], hp, S1, S2), hp, seen)
        hp = c[3]
        lr, c1, c2 = _hyper(optimizer)
        hp[0] = lr
        hp[1] = c1
        hp[2] = c2
        return c[2]

    def _same(self, seen, optimizer):
        p = self.net.params
        i = 0
        for k in KEYS:
            if p[k] is not seen[i]:
                return False
            i += 1
        for k in KEYS:
            for name in optimizer.state_names:
                if i >= len(seen) or getattr(optimizer, name).get(k) is not seen[i]:
                    return False
                i += 1
        return i == len(seen)

    def steps(self, x, t, idx, batch_size, optimizer):
        """``len(idx) // batch_size`` fused steps over batches ``x[idx[k*B:(k+1)*B]]``.

        Returns the per-step losses (float64 array)."""
        net = self.net
        p = net.params
        dt = p["W1"].dtype
        D, H = p["W1"].shape
        O = p["W2"].shape[1]
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise TypeError(f"x must be a real numeric array, got dtype {x.dtype}")
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != D:
            raise ValueError(f"x must have shape (N, {D}) (or (N, ...) with {D} values a row), got {x.shape}")
        x = np.ascontiguousarray(x).reshape(x.shape[0], D)
        B = V.positive_int(batch_size, "batch_size")
        idx = np.asarray(idx)
        if idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise TypeError(f"idx must be a 1-D integer array, got {idx.dtype} with shape {idx.shape}")
        n_steps = idx.shape[0] // B
        if n_steps == 0:
            raise ValueError(f"idx holds {idx.shape[0]} rows, fewer than one batch of {B}")
        idx = np.ascontiguousarray(idx[:n_steps * B], dtype=np.intp)
        if idx.min() < 0 or idx.max() >= x.shape[0]:
            raise ValueError(f"idx must index rows of x in [0, {x.shape[0]}), got [{idx.min()}, {idx.max()}]")
        labels, targets, onehot = self._targets(t, x.shape[0], O, dt, to_labels=True)
        small = uses_small_kernel(D, H, O)
        xb, a, y, dy, dh = self._buffers(B, dt, small)
        code, hp, S1, S2 = self._opt_args(optimizer, dt)
        losses = np.empty(n_steps)
        t0 = getattr(optimizer, "iter", 0)
        kernel = _step.two_layer_train_steps_small if small else _step.two_layer_train_steps
        kernel(
            x, labels, targets, onehot, idx, p["W1"], p["b1"], p["W2"], p["b2"], *self._grads(),
            xb, a, y, dy, dh, net.activation == "sigmoid", code, hp, S1, S2, t0, losses)
        if code == _step.ADAM:
            optimizer.iter = t0 + n_steps
        return losses

    def step(self, x, t, optimizer):
        """One fused step on the batch ``x, t``; returns its loss (a float)."""
        p = self.net.params
        dt = p["W1"].dtype
        x = np.asarray(x)
        n = V.batch(x, "x").shape[0]
        ar = self._aranges.get(n)
        if ar is None:
            ar = self._aranges[n] = np.arange(n, dtype=np.intp)
        D, H = p["W1"].shape
        O = p["W2"].shape[1]
        if x.dtype != dt or not x.flags.c_contiguous or x.ndim != 2 or uses_small_kernel(D, H, O):
            # gather through the identity index: casts/copies into a kept buffer (and the
            # tiny-layer kernel only comes in the gathering form)
            return float(self.steps(x, t, ar, n, optimizer)[0])
        B = V.batch(x, "x").shape[0]
        if x.shape[1] != D:
            raise ValueError(f"x has {x.shape[1]} features per sample, but W1 expects {D}")
        labels, targets, onehot = self._targets(t, B, O, dt)
        _, a, y, dy, dh = self._buffers(B, dt)
        code, hp, S1, S2 = self._opt_args(optimizer, dt)
        t0 = getattr(optimizer, "iter", 0)
        loss = _step.two_layer_train_step(
            x, labels, targets, onehot, ar, p["W1"], p["b1"], p["W2"], p["b2"], *self._grads(),
            a, y, dy, dh, self.net.activation == "sigmoid", code, hp, S1, S2, t0)
        if code == _step.ADAM:
            optimizer.iter = t0 + 1
        return loss
