"""Python side of the compiled MultiLayerNetExtend step (:mod:`fastprop.kernels.fused_multi_layer`).

Every call reads the parameters from the net's layers as they are now and checks every array
the kernel will read or write (dtype, shapes against each other, layout, writability), the
batch and its labels, the dropout ratios and momenta. Buffers are kept between calls. The
Dropout masks are drawn with one ``np.random.rand`` call for all layers, in layer order:
the legacy generator fills consecutively, so these are the numbers (and the generator
state) of the book's one call per layer.
"""
from __future__ import annotations

import numpy as np

from .. import optimizers, threads, validate
from ..kernels import fused_multi_layer
from ..layers.batchnorm import _vector
from ..layers.dropout import check_ratio


def _writable(p, name, dt):
    validate.param_dtype(p, name)
    if p.dtype != dt:
        raise ValueError(f"{name} has dtype {p.dtype} but W1 has {dt}; the fused step runs one dtype")
    if not p.flags.writeable:
        raise ValueError(f"{name} is read-only; the fused step updates it in place")
    if not p.flags.c_contiguous:
        raise ValueError(f"{name} is not C-contiguous; the fused step needs C-contiguous parameters")
    return p


class FusedMultiLayer:
    """Buffers and argument checks for one :class:`~fastprop.nets.MultiLayerNetExtend`."""

    def __init__(self, net):
        self.net = net
        self._bufs = {}
        self._grads = {}

    def supports(self, t) -> bool:
        """True when the step can run compiled: at least one hidden layer, C-contiguous
        parameters, integer labels (one-hot targets take the layer path)."""
        net = self.net
        if net.hidden_layer_num == 0:
            return False
        for key in net.params:
            p = net._bindings[key][0].params[net._bindings[key][1]]
            if not (isinstance(p, np.ndarray) and p.flags.c_contiguous):
                return False
        return np.asarray(t).dtype.kind in "iu"

    def _params(self):
        net = self.net
        L = net.hidden_layer_num
        affines = [net.layers[f"Affine{i}"] for i in range(1, L + 2)]
        W0 = affines[0].params[0]
        dt = validate.param_dtype(W0, "params['W1']")
        Ws, bs = [], []
        prev = None
        for i, a in enumerate(affines, 1):
            W = _writable(a.params[0], f"params['W{i}']", dt)
            if W.ndim != 2 or (prev is not None and W.shape[0] != prev):
                raise ValueError(f"params['W{i}'] has shape {W.shape}, which does not follow the "
                                 f"previous layer's {prev} outputs")
            b = _writable(a.params[1], f"params['b{i}']", dt)
            if b.shape != (W.shape[1],):
                raise ValueError(f"params['b{i}'] must have shape ({W.shape[1]},), got {b.shape}")
            prev = W.shape[1]
            Ws.append(W)
            bs.append(b)
        return dt, Ws, bs

    def _bn(self, dt, sizes, use_bn):
        net = self.net
        L = net.hidden_layer_num
        empty = np.empty(0, dt)
        if not use_bn:
            e = (empty,) * L
            return (e, e, e, e, e, e), [0.0] * L, None
        gammas, betas, rms, rvs, moms, layers = [], [], [], [], [], []
        for i in range(1, L + 1):
            layer = net.layers[f"BatchNorm{i}"]
            h = sizes[i]
            gammas.append(_writable(_vector(layer.params[0], f"params['gamma{i}']", h), f"params['gamma{i}']", dt))
            betas.append(_writable(_vector(layer.params[1], f"params['beta{i}']", h), f"params['beta{i}']", dt))
            if layer.running_mean is None:
                layer.running_mean, layer.running_var = np.zeros(h, dt), np.zeros(h, dt)
            rms.append(_vector(layer.running_mean, f"BatchNorm{i}.running_mean", h).astype(dt, copy=False))
            rvs.append(_vector(layer.running_var, f"BatchNorm{i}.running_var", h).astype(dt, copy=False))
            moms.append(validate.check_scalar(layer.momentum, f"BatchNorm{i}.momentum", low=0.0, high=1.0))
            layers.append(layer)
        new_m = tuple(np.empty(sizes[i], dt) for i in range(1, L + 1))
        new_v = tuple(np.empty(sizes[i], dt) for i in range(1, L + 1))
        return ((tuple(gammas), tuple(betas), tuple(rms), tuple(rvs), new_m, new_v), moms, layers)

    def _buffers(self, n, dt, sizes, use_bn, use_drop):
        key = (n, dt, tuple(sizes), use_bn, use_drop)
        b = self._bufs.get(key)
        if b is None:
            hidden = sizes[1:-1]
            zs = tuple(np.empty((n, h), dt) for h in hidden)
            ys = zs  # the activation runs in place: its output is all the backward needs
            hs = tuple(np.empty((n, h), dt) for h in hidden) if use_drop else ys
            e2 = np.empty((0, 0), dt)
            xcs = tuple(np.empty((n, h), dt) for h in hidden) if use_bn else (e2,) * len(hidden)
            xns = tuple(np.empty((n, h), dt) for h in hidden) if use_bn else (e2,) * len(hidden)
            stds = tuple(np.empty(h, dt) for h in hidden) if use_bn else (np.empty(0, dt),) * len(hidden)
            ds = tuple(np.empty((n, h), dt) for h in hidden)
            c = sizes[-1]
            masks = (tuple(np.empty((n, h), np.bool_) for h in hidden) if use_drop
                     else (np.empty((0, 0), np.bool_),) * len(hidden))
            b = self._bufs[key] = ((zs, xcs, xns, stds, ys, hs, ds, np.empty((n, c), dt),
                                    np.empty((n, c), dt), np.empty((n, c), dt)), masks)
        return b

    def _grad_arrays(self, dt, Ws, bs, bn_arrays):
        shapes = tuple((W.shape, b.shape) for W, b in zip(Ws, bs)) + tuple(g.shape for g in bn_arrays[0])
        key = (dt, shapes)
        g = self._grads.get(key)
        if g is None:
            g = self._grads[key] = (tuple(np.zeros_like(W) for W in Ws), tuple(np.zeros_like(b) for b in bs),
                                    tuple(np.zeros_like(p) for p in bn_arrays[0]),
                                    tuple(np.zeros_like(p) for p in bn_arrays[1]))
        return g

    def step(self, x, t, optimizer):
        """Forward (training mode) and backward of one batch, then ``optimizer``'s update
        (inside the kernel for fastprop's SGD). Returns ``(loss, grads dict)``."""
        threads.poll()
        net = self.net
        L = net.hidden_layer_num
        dt, Ws, bs = self._params()
        sizes = [Ws[0].shape[0]] + [W.shape[1] for W in Ws]
        x = validate.batch(validate.as_real(x, "x", dt), "x")
        n = x.shape[0]
        x = x.reshape(n, -1)
        if x.shape[1] != sizes[0]:
            raise ValueError(f"x has {x.shape[1]} features per sample, but W1 expects {sizes[0]}")
        labels = validate.labels(t, n, sizes[-1])
        use_bn, use_drop = net._structure()  # the layers decide, as on the layer path
        bn, moms, bn_layers = self._bn(dt, sizes, use_bn)
        ratios = np.zeros(L)
        scratch, masks = self._buffers(n, dt, sizes, use_bn, use_drop)
        if use_drop:
            for i in range(1, L + 1):
                ratios[i - 1] = check_ratio(net.layers[f"Dropout{i}"].dropout_ratio,
                                            f"Dropout{i}.dropout_ratio")
            draws = np.random.rand(n * sum(sizes[1:-1]))  # all layers' masks, in layer order
            rands, start = [], 0
            for h in sizes[1:-1]:
                rands.append(draws[start:start + n * h].reshape(n, h))
                start += n * h
            rands = tuple(rands)
        else:
            rands = (np.empty((0, 0)),) * L
        lam = validate.check_scalar(net.weight_decay_lambda, "weight_decay_lambda", low=0.0)
        in_kernel = type(optimizer) is optimizers.SGD
        lr = optimizer.lr if in_kernel else 0.0
        hp = np.array([lam, lr] + list(moms), dtype=np.float64)
        grads = self._grad_arrays(dt, Ws, bs, bn)
        loss = fused_multi_layer.multi_layer_train_step(
            (x, labels), (tuple(Ws), tuple(bs)), bn, grads, (rands, masks, ratios), scratch,
            (net.activation == "sigmoid", use_bn, use_drop, in_kernel), hp)
        if bn_layers:
            for layer, m, v in zip(bn_layers, bn[4], bn[5]):
                layer.running_mean, layer.running_var = m, v
        out = {}
        for i in range(1, L + 2):
            out[f"W{i}"], out[f"b{i}"] = grads[0][i - 1], grads[1][i - 1]
            if use_bn and i <= L:
                out[f"gamma{i}"], out[f"beta{i}"] = grads[2][i - 1], grads[3][i - 1]
        if not in_kernel:
            optimizer.update(net.params, out)
        return loss, out
