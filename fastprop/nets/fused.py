"""Python side of the fused two-layer training step (:mod:`fastprop.kernels.fused_two_layer`
and, for layers of a few dozen weights, :mod:`fastprop.kernels.fused_two_layer_lanes`).

Every call checks, right before the kernel, every array the kernel will read or write as it
is at that moment: the parameters are read from the net's layers (the arrays ``predict`` and
``loss`` use; ``net.params[key] = W`` rebinds the layer, see :mod:`.params`), their shapes
against each other, dtypes, layout and writability; the gradient and optimizer-state arrays;
the data, labels and row indices. Buffers are kept between calls (a warmed-up step allocates
no array).
"""
from __future__ import annotations

import numpy as np

from .. import optimizers, threads, validate
from ..kernels import fused_two_layer, fused_two_layer_lanes
from ..kernels import optim as rules

KEYS = ("W1", "b1", "W2", "b2")
#: optimizers the fused steps run: fastprop's own six, exactly (a subclass may change the rule)
SUPPORTED = frozenset(optimizers.OPTIMIZERS.values())

# Layers this small take the batch-in-lanes kernel (no BLAS). H * (D + O) is the step's
# multiply-adds per row; the crossover with the BLAS kernel was measured (asv
# SmallFusedStep, README "Going faster").
LANES_MAX_WORK = 500


def uses_lanes_kernel(D: int, H: int, O: int) -> bool:
    """True when the fused step of a D-H-O net runs the batch-in-lanes kernel."""
    return H * (D + O) <= LANES_MAX_WORK


def padded_batch(B: int) -> int:
    """Columns the lanes kernel works on for a batch of ``B``: ``B`` rounded up to a
    multiple of 8 (one AVX-512 register of float64)."""
    return (B + 7) // 8 * 8


def _exactly_onehot(t: np.ndarray) -> bool:
    """Every row of the 2-D ``t`` is 0 everywhere but one entry equal to 1."""
    if t.dtype == np.bool_:
        return bool((t.sum(axis=1) == 1).all())
    return bool(((t == 0) | (t == 1)).all() and (np.count_nonzero(t, axis=1) == 1).all())


def _pruned(targets, onehot, opt):
    """None for what this call does not read (the targets of a labels batch, the state of
    SGD): the BLAS kernel then compiles without those paths (see its module docstring)."""
    if not onehot:
        targets = None
    if opt[0] == rules.SGD:
        opt = (opt[0], opt[1], None, None, opt[4])
    return targets, opt


class FusedTwoLayer:
    """Buffers and argument checks for one :class:`~fastprop.nets.TwoLayerNet`."""

    def __init__(self, net):
        self.net = net
        self._bufs = {}
        self._aranges = {}
        self._empty = {}
        self._opt_cache = None
        self._no_labels = np.empty(0, np.intp)  # the kernel's unused labels with one-hot t

    # ---------------------------------------------------------------- checks

    def _layer_params(self):
        """``(W1, b1, W2, b2)`` as the layers hold them now, checked: one float dtype,
        consistent shapes, C-contiguous and writeable (the kernel updates them in place)."""
        a1, a2 = self.net.layers["Affine1"], self.net.layers["Affine2"]
        P = (a1.params[0], a1.params[1], a2.params[0], a2.params[1])
        for k, p in zip(KEYS, P):
            validate.param_dtype(p, f"params[{k!r}]")
        dt = P[0].dtype
        for k, p in zip(KEYS, P):
            if p.dtype != dt:
                raise ValueError(f"params[{k!r}] has dtype {p.dtype} but W1 has {dt}; the fused "
                                 "step runs one dtype")
            if not p.flags.writeable:
                raise ValueError(f"params[{k!r}] is read-only; the fused step updates it in place")
            if not p.flags.c_contiguous:
                raise ValueError(f"params[{k!r}] is not C-contiguous; the fused step needs "
                                 "C-contiguous parameters (fused_step returns None for these)")
        W1, b1, W2, b2 = P
        if W1.ndim != 2 or W2.ndim != 2:
            raise ValueError(f"W1 and W2 must be 2-D, got shapes {W1.shape} and {W2.shape}")
        D, H = W1.shape
        O = W2.shape[1]
        for k, p, shape in zip(KEYS, P, ((D, H), (H,), (H, O), (O,))):
            if p.shape != shape:
                raise ValueError(f"params[{k!r}] has shape {p.shape}, but W1 of shape {W1.shape} "
                                 f"and W2 of shape {W2.shape} need {shape}")
        return P

    def _start_call(self):
        """What every call starts with: the thread policy polled, then the checked layer
        params ``P``, their dtype and the sizes ``D, H, O`` of the D-H-O net."""
        threads.poll()
        P = self._layer_params()
        (D, H), O = P[0].shape, P[2].shape[1]
        return P, P[0].dtype, D, H, O

    def supports(self, optimizer) -> bool:
        """True when ``optimizer`` is one of fastprop's own six and every parameter is
        C-contiguous (a tied ``W.T`` or a strided view takes the layer-by-layer path)."""
        if type(optimizer) not in SUPPORTED:
            return False
        a1, a2 = self.net.layers["Affine1"], self.net.layers["Affine2"]
        return all(isinstance(p, np.ndarray) and p.flags.c_contiguous
                   for p in (*a1.params, *a2.params))

    def _grads(self, P):
        """The layers' stable gradient arrays, re-made if a parameter was replaced by one of
        another shape or dtype (or the gradient by one a kernel cannot write)."""
        a1, a2 = self.net.layers["Affine1"], self.net.layers["Affine2"]
        return (a1._grad(0), a1._grad(1), a2._grad(0), a2._grad(1))

    def _buffers(self, B, dt, D, H, O, lanes=False):
        """Scratch: (B, D), (B, H), (B, O), (B, O), (B, H), B padded for the lanes kernel."""
        if lanes:
            B = padded_batch(B)
        shapes = ((B, D), (B, H), (B, O), (B, O), (B, H))
        bufs = self._bufs.get((B, dt))
        if bufs is None or tuple(b.shape for b in bufs) != shapes:
            bufs = tuple(np.empty(s, dt) for s in shapes)
            self._bufs = {(B, dt): bufs}  # one batch size at a time; the last one wins
        return bufs

    def _empty_of(self, shape, dt):
        e = self._empty.get((shape, dt))
        if e is None:
            e = self._empty[(shape, dt)] = np.empty(shape, dt)
        return e

    def _targets(self, t, n, O, dt, to_labels=False):
        """``(labels, targets, onehot)`` for the kernel, checked as they are now (no index
        can go out of bounds inside the kernel)."""
        t = np.asarray(t)
        if t.ndim == 2:
            if t.shape != (n, O):
                raise ValueError(f"one-hot t must have shape ({n}, {O}), got {t.shape}")
            if t.dtype.kind not in "fiub" or t.dtype.fields is not None:
                raise TypeError(f"t must be real one-hot rows, got dtype {t.dtype}")
            if to_labels and _exactly_onehot(t):
                # the same numbers through the labels path (y - 1 and y - 0 are what the
                # one-hot rows give), which skips reading a row of targets per sample
                return t.argmax(axis=1), self._empty_of((0, 0), dt), False
            return self._no_labels, np.ascontiguousarray(t), True
        if t.dtype.kind not in "iu":
            raise TypeError(f"t must hold integer labels (or one-hot rows), got {validate.describe(t)}")
        if t.ndim != 1 or t.shape[0] != n:
            raise ValueError(f"t must have shape ({n},) (one label per row of x), got {t.shape}")
        lo, hi = t.min(), t.max()
        if lo < 0 or hi >= O:
            raise ValueError(f"t holds label {lo if lo < 0 else hi}, expected labels in [0, {O})")
        return np.ascontiguousarray(t), self._empty_of((0, 0), dt), False

    def _optimizer(self, optimizer, P, dt):
        """``(rule, hp, S1, S2, t0)`` for the kernel. The state tuples are kept between calls
        and rebuilt only when the optimizer, the dtype, a parameter or a state array
        changed; the hyper-parameters are re-read into ``hp`` in place every call (a
        learning-rate schedule that assigns ``opt.lr`` works)."""
        c = self._opt_cache
        if not (c is not None and c[0] is optimizer and c[1] == dt and self._same(c[3], optimizer, P)):
            states = [optimizer.kernel_state(k, p) for k, p in zip(KEYS, P)]
            empty = self._empty_of((0,), dt)
            S1 = tuple(s[0].reshape(-1) if len(s) > 0 else empty for s in states)
            S2 = tuple(s[1].reshape(-1) if len(s) > 1 else empty for s in states)
            seen = list(P) + [s for st in states for s in st]
            c = self._opt_cache = (optimizer, dt, (S1, S2, np.zeros(3)), seen)
        else:  # the same arrays: their shapes, layout and writability as they are now
            for k, p in zip(KEYS, P):
                optimizer._check_state(k, p)
        S1, S2, hp = c[2]
        hp[:] = optimizer.hyper()
        return (optimizer.rule, hp, S1, S2, optimizer.step_count())

    @staticmethod
    def _same(seen, optimizer, P):
        i = 0
        for p in P:
            if p is not seen[i]:
                return False
            i += 1
        for k in KEYS:
            for name in optimizer.state_names:
                if i >= len(seen) or getattr(optimizer, name).get(k) is not seen[i]:
                    return False
                i += 1
        return i == len(seen)

    # ---------------------------------------------------------------- calls

    def steps(self, x, t, idx, batch_size, optimizer) -> np.ndarray:
        """``len(idx) // batch_size`` fused steps over batches ``x[idx[k*B:(k+1)*B]]``.

        Returns the per-step losses (float64 array)."""
        P, dt, D, H, O = self._start_call()
        x = np.asarray(x)
        validate.real_dtype(x, "x")
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != D:
            raise ValueError(f"x must have shape (N, {D}) (or (N, ...) with {D} values a row), got {x.shape}")
        x = np.ascontiguousarray(x).reshape(x.shape[0], D)
        B = validate.positive_int(batch_size, "batch_size")
        idx = validate.indices(idx, "idx", ndim=1, low=None, what="row indices of x", allow_empty=True)
        n_steps = idx.shape[0] // B
        if n_steps == 0:
            raise ValueError(f"idx holds {idx.shape[0]} rows, fewer than one batch of {B}")
        idx = np.ascontiguousarray(idx[:n_steps * B], dtype=np.intp)
        if idx.min() < 0 or idx.max() >= x.shape[0]:
            raise ValueError(f"idx must index rows of x in [0, {x.shape[0]}), got [{idx.min()}, {idx.max()}]")
        labels, targets, onehot = self._targets(t, x.shape[0], O, dt, to_labels=True)
        lanes = uses_lanes_kernel(D, H, O)
        scratch = self._buffers(B, dt, D, H, O, lanes)
        grads = self._grads(P)
        opt = self._optimizer(optimizer, P, dt)
        losses = np.empty(n_steps)
        if lanes:
            kernel = fused_two_layer_lanes.two_layer_train_steps_lanes
        else:
            kernel = fused_two_layer.two_layer_train_steps
            targets, opt = _pruned(targets, onehot, opt)
        kernel((x, labels, targets, onehot, idx), P, grads, opt, scratch,
               self.net.activation == "sigmoid", losses)
        if opt[0] == rules.ADAM:
            optimizer.iter = opt[4] + n_steps
        return losses

    def step(self, x, t, optimizer) -> float:
        """One fused step on the batch ``x, t``; returns its loss (a float)."""
        P, dt, D, H, O = self._start_call()
        x = validate.batch(np.asarray(x), "x")
        n = x.shape[0]
        ar = self._aranges.get(n)
        if ar is None:
            ar = self._aranges[n] = np.arange(n, dtype=np.intp)
        if x.dtype != dt or not x.flags.c_contiguous or x.ndim != 2 or uses_lanes_kernel(D, H, O):
            # gather through the identity index: casts/copies into a kept buffer (and the
            # lanes kernel only comes in the gathering form)
            return float(self.steps(x, t, ar, n, optimizer)[0])
        if x.shape[1] != D:
            raise ValueError(f"x has {x.shape[1]} features per sample, but W1 expects {D}")
        labels, targets, onehot = self._targets(t, n, O, dt)
        scratch = self._buffers(n, dt, D, H, O)
        grads = self._grads(P)
        opt = self._optimizer(optimizer, P, dt)
        targets, opt = _pruned(targets, onehot, opt)
        loss = fused_two_layer.two_layer_train_step(
            (x, labels, targets, onehot, ar), P, grads, opt, scratch,
            self.net.activation == "sigmoid")
        if opt[0] == rules.ADAM:
            optimizer.iter = opt[4] + 1
        return loss
