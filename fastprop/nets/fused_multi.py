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

from .. import gemm_blocks, optimizers, threads, validate
from ..kernels import fused_multi_layer
from ..layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid
from ..layers import affine as affine_layer
from ..layers.batchnorm import _vector
from ..layers.dropout import check_ratio

#: the activation layer classes by the name a net is built with (MultiLayerNetExtend's table)
ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


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
        self._infer_bufs = None

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

    # ------------------------------------------------------------------ inference

    def scores(self, x):
        """``predict(x, train_flg=False)`` in one compiled call
        (:func:`fastprop.kernels.fused_multi_layer.multi_layer_predict`), or None when the
        net or ``x`` is not what that call takes as it is; the layer path then runs (and
        reports what is wrong with them).

        The call takes: the layers in the order the net built them, of fastprop's classes,
        with C-contiguous float parameters of one dtype and the running averages BatchNorm
        layers keep after training; ``x`` a non-empty C-contiguous (N, ...) float or integer
        array with W1's input size per sample. The layers' saved attributes (``x``, ``mask``,
        ...) are left as they were: nothing is kept for a backward.
        """
        net = self.net
        L = net.hidden_layer_num
        layers = net.layers
        if not (isinstance(x, np.ndarray) and (x.dtype in affine_layer._KERNEL_INPUTS or x.dtype.kind in "iu")
                and x.ndim >= 2 and x.shape[0] > 0 and x.flags.c_contiguous):
            return None
        act_type = ACTIVATIONS.get(getattr(net, "activation", None))
        if act_type is None or not isinstance(layers, dict):
            return None
        try:
            use_bn, use_drop = net._structure()
        except ValueError:
            return None
        keys = []
        for i in range(1, L + 1):
            keys += [f"Affine{i}"] + ([f"BatchNorm{i}"] if use_bn else []) + [f"Activation_function{i}"]
            keys += [f"Dropout{i}"] if use_drop else []
        keys.append(f"Affine{L + 1}")
        if list(layers.keys()) != keys:
            return None
        Ws, bs, gammas, betas, rms, rvs = [], [], [], [], [], []
        scales = []
        dt = None
        for i in range(1, L + 2):
            a = layers[f"Affine{i}"]
            if type(a) is not Affine:
                return None
            W, b = a.params
            if not (type(W) is np.ndarray and type(b) is np.ndarray and W.ndim == 2 and W.flags.c_contiguous
                    and b.flags.c_contiguous and W.dtype in affine_layer._KERNEL_INPUTS):
                return None
            dt = W.dtype if dt is None else dt
            if W.dtype != dt or b.dtype != dt or b.shape != (W.shape[1],) or (Ws and W.shape[0] != Ws[-1].shape[1]):
                return None
            Ws.append(W)
            bs.append(b)
            if i > L:
                break
            if type(layers[f"Activation_function{i}"]) is not act_type:
                return None
            h = W.shape[1]
            if use_bn:
                bn = layers[f"BatchNorm{i}"]
                if type(bn) is not BatchNormalization:
                    return None
                arrays = (*bn.params, bn.running_mean, bn.running_var)
                if not all(type(v) is np.ndarray and v.dtype == dt and v.shape == (h,) and v.flags.c_contiguous
                           for v in arrays):
                    return None
                for lst, v in zip((gammas, betas, rms, rvs), arrays):
                    lst.append(v)
            if use_drop:
                d = layers[f"Dropout{i}"]
                if type(d) is not Dropout:
                    return None
                try:
                    scales.append(1.0 - check_ratio(d.dropout_ratio, f"Dropout{i}.dropout_ratio"))
                except (TypeError, ValueError):
                    return None
        n = x.shape[0]
        d_in = Ws[0].shape[0]
        if x.size != n * d_in:
            return None
        x = x.reshape(n, d_in)
        if not use_bn:
            e = (np.empty(0, dt),) * L
            gammas = betas = rms = rvs = e
        scales = np.array(scales if use_drop else [1.0] * L, dtype=dt)
        out = np.empty((n, Ws[-1].shape[1]), dtype=dt)
        small = gemm_blocks.SMALL_KERNEL_WORK if gemm_blocks.has_small_kernels() else 0
        params = (tuple(Ws), tuple(bs))
        bn = (tuple(gammas), tuple(betas), tuple(rms), tuple(rvs))
        flags = (net.activation == "sigmoid", use_bn, use_drop)
        keep = int(d_in * (1 - affine_layer.PACK_SHARE))
        with threads.parallel_region(linger=False) as T:
            T = max(1, min(T, -(-n // affine_layer.PACK_CHUNK_ROWS)))  # no share without a chunk
            scratch = self._infer_scratch(T, dt, d_in, Ws)
            threads.run_split(lambda t: fused_multi_layer.multi_layer_predict(
                x, params, bn, flags, scales, out, scratch, small, keep, t), T)
        return out

    def _infer_scratch(self, T, dt, d_in, Ws):
        """Per-thread chunk buffers of the inference pass, kept while their sizes hold."""
        R = affine_layer.PACK_CHUNK_ROWS
        pack = d_in >= affine_layer.PACK_MIN_WIDTH
        h = max(W.shape[1] for W in Ws)
        key = (T, dt, d_in, Ws[0].shape[1], h, pack)
        if self._infer_bufs is None or self._infer_bufs[0] != key:
            self._infer_bufs = (key, (np.empty((T, R, d_in), dt),
                                      np.empty((T, d_in, 3), np.int64) if pack else None,
                                      np.empty((T, d_in * Ws[0].shape[1]), dt) if pack else None,
                                      np.empty((T, 2, R * h), dt)))
        return self._infer_bufs[1]
