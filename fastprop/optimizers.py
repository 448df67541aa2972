"""The book's optimizers (vol. 1 ``common/optimizer.py``, vol. 2 ``common/optimizer.py``).

``update(params, grads)`` takes a dict of arrays (vol. 1) or a list of arrays (vol. 2) and
updates every array in place with one compiled kernel call (:mod:`fastprop.kernels.optim`).
Hyper-parameter defaults and the ``1e-7`` epsilons are the book's. Nesterov follows
vol. 1's current order, which gives the same trajectory as PyTorch's
``SGD(momentum=m, nesterov=True)``; vol. 2's older order is not used.

Fused train steps can drive the same state: each optimizer names its kernel
(:attr:`Optimizer.kernel_name`), hands out its state arrays per key or list index
(:meth:`Optimizer.kernel_state`) and the scalar kernel arguments of one step
(:meth:`Optimizer.step_scalars`).
"""
import math
import numbers
from collections.abc import Mapping, MutableMapping

import numpy as np

from . import reference as _twins
from .kernels import optim as _kernels

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]

_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class _Hyper:
    """A validated hyper-parameter attribute: checked on every assignment, so
    ``optimizer.lr = -1`` fails as loudly as ``SGD(lr=-1)``; stored as a Python float."""

    def __init__(self, unit_interval=False):
        self.unit_interval = unit_interval

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj.__dict__[self.name]

    def __set__(self, obj, value):
        where = f"{type(obj).__name__}: {self.name}"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where} must be a real number, got {type(value).__name__} {value!r}")
        v = float(value)
        if self.unit_interval:
            if not 0.0 <= v < 1.0:
                raise ValueError(f"{where} must be in [0, 1), got {value!r}")
        elif not (v >= 0.0 and math.isfinite(v)):
            raise ValueError(f"{where} must be a finite number >= 0, got {value!r}")
        obj.__dict__[self.name] = v


def _is_scalar(x):
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.ndarray))


def _entries(params, grads):
    """``[(key, param, grad), ...]`` after checking both containers have the same layout."""
    if isinstance(params, Mapping):
        if not isinstance(grads, Mapping):
            raise TypeError(f"params is a dict, so grads must be a dict too, got {type(grads).__name__}")
        if params.keys() != grads.keys():
            missing = [k for k in params if k not in grads]
            extra = [k for k in grads if k not in params]
            raise ValueError(f"grads must have the keys of params: missing {missing}, unexpected {extra}")
        return [(k, params[k], grads[k]) for k in params]
    if isinstance(params, (list, tuple)):
        if not isinstance(grads, (list, tuple)):
            raise TypeError(f"params is a list, so grads must be a list too, got {type(grads).__name__}")
        if len(params) != len(grads):
            raise ValueError(f"params has {len(params)} entries but grads has {len(grads)}")
        return list(zip(range(len(params)), params, grads))
    raise TypeError("params must be a dict (vol. 1) or a list (vol. 2) of arrays, "
                    f"got {type(params).__name__}")


class Optimizer:
    """Base class: validates, walks dict or list params, owns the per-key state.

    A subclass sets :attr:`kernel_name` (a function of :mod:`fastprop.kernels.optim`,
    whose NumPy twin of the same name in :mod:`fastprop.reference` serves arrays the
    kernel cannot take), :attr:`state_names` (the state dicts, in kernel argument
    order) and :meth:`_scalars` (the kernel's scalar arguments for this step).

    Attributes
    ----------
    kernel_name : str
        Name of the in-place update in :mod:`fastprop.kernels.optim`; it is called as
        ``kernel(p, g, *state, *scalars)`` on 1-D C-contiguous views.
    state_names : tuple of str
        Attributes holding the state dicts (``'v'``, ``'h'``, ``'m'``). Each maps a dict
        key or list index to an array shaped like that parameter, created as
        ``np.zeros_like(param)`` on first use.
    """

    kernel_name = None
    state_names = ()

    def __init__(self):
        for name in self.state_names:
            setattr(self, name, {})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kernel_name is not None:
            # staticmethod: a Numba dispatcher would otherwise bind like a method
            cls.kernel = staticmethod(getattr(_kernels, cls.kernel_name))
            cls.twin = staticmethod(getattr(_twins, cls.kernel_name))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper_items())
        return f"{type(self).__name__}({args})"

    def _hyper_items(self):
        return [(k, v) for k, v in vars(self).items() if isinstance(getattr(type(self), k, None), _Hyper)]

    # ---------------------------------------------------------------- rule hooks

    def _begin_step(self):
        """Advance per-call counters (Adam's ``iter``): once per :meth:`update`."""

    def _scalars(self):
        """The kernel's scalar arguments for the current step, as Python floats: by
        default the hyper-parameters in the order ``__init__`` sets them, which every
        optimizer here keeps equal to its kernel's argument order (Adam overrides it)."""
        return tuple(v for _, v in self._hyper_items())

    # ---------------------------------------------------------------- state for fused steps

    def kernel_state(self, key, param):
        """The state arrays of ``key`` in kernel argument order, created if absent.

        Parameters
        ----------
        key : hashable
            The params dict key (vol. 1) or list index (vol. 2) :meth:`update` uses.
        param : ndarray
            The parameter; new state is ``np.zeros_like(param)``, existing state must
            match its shape and dtype.

        Returns
        -------
        tuple of ndarray
            Live arrays (updating them in place is updating the optimizer).
        """
        self._check_state(key, param)
        state = []
        for name in self.state_names:
            d = getattr(self, name)
            s = d.get(key)
            if s is None:
                s = d[key] = np.zeros_like(param)
            state.append(s)
        return tuple(state)

    def step_scalars(self, dtype=np.float64):
        """Start one step as :meth:`update` does and return the kernel's scalars.

        Call it once per training step (it advances Adam's ``iter``), then call
        :attr:`kernel` for each parameter with :meth:`kernel_state`.

        Returns
        -------
        tuple of numpy scalars of ``dtype``
        """
        self._begin_step()
        t = np.dtype(dtype).type
        return tuple(t(s) for s in self._scalars())

    def reset(self):
        """Forget all state (and Adam's step count)."""
        for name in self.state_names:
            getattr(self, name).clear()

    def _check_state(self, key, param):
        for name in self.state_names:
            s = getattr(self, name).get(key)
            if s is not None and (s.shape != param.shape or s.dtype != param.dtype):
                raise ValueError(
                    f"{type(self).__name__}: state {name}[{key!r}] has shape {s.shape} and dtype "
                    f"{s.dtype} but the parameter now has shape {param.shape} and dtype "
                    f"{param.dtype}; call reset() after replacing parameters")

    # ---------------------------------------------------------------- the walk

    def update(self, params, grads):
        """Update ``params`` in place from ``grads``.

        Parameters
        ----------
        params, grads : dict or list
            Same kind, same keys (or length), matching shapes. Arrays must be floating
            point; a gradient of another real dtype or layout is converted to the
            parameter's. Entries that are Python numbers (the book's 2-D toy function
            demos) are computed in float64 and replaced by Python floats.

        Notes
        -----
        Everything is checked before anything is updated, so a bad entry leaves params
        and state untouched.
        """
        plan = [self._prepare(key, p, g, params) for key, p, g in _entries(params, grads)]
        self._begin_step()
        scalars = self._scalars()
        by_dtype = {}
        for key, p, g, back in plan:
            hyper = by_dtype.get(p.dtype)
            if hyper is None:
                t = p.dtype.type  # float32 params get float32 scalars: no silent upcast
                hyper = by_dtype[p.dtype] = tuple(t(s) for s in scalars)
            state = self.kernel_state(key, p)
            if (p.dtype in _FAST_DTYPES and p.flags.c_contiguous
                    and all(s.flags.c_contiguous for s in state)):
                self.kernel(p.reshape(-1), g.reshape(-1), *[s.reshape(-1) for s in state], *hyper)
            else:
                self.twin(p, g, *state, *hyper)
            if back is not None:
                params[key] = back(p)

    def _prepare(self, key, p, g, params):
        """``(key, param array, grad array, back)``; ``back`` turns a scalar's 0-d array
        into the value to store (None for arrays, updated in place)."""
        back = None
        if _is_scalar(p):
            if not isinstance(params, (MutableMapping, list)):
                raise TypeError(f"params[{key!r}] is a number, which can only be replaced in a "
                                f"dict or list, not a {type(params).__name__}")
            if not (_is_scalar(g) or (isinstance(g, np.ndarray) and g.ndim == 0)):
                raise TypeError(f"grads[{key!r}] must be a number like params[{key!r}], "
                                f"got {type(g).__name__}")
            if isinstance(p, np.floating):
                p, back = np.array(p), (lambda a: a[()])
            else:
                p, back = np.array(float(p)), (lambda a: float(a))
        elif not isinstance(p, np.ndarray):
            raise TypeError(f"params[{key!r}] must be a NumPy array (or a number), "
                            f"got {type(p).__name__}")
        elif p.dtype.kind != "f":
            raise TypeError(f"params[{key!r}] must be a floating-point array, got dtype {p.dtype}; "
                            f"convert it once with .astype(np.float64)")
        elif not p.flags.writeable:
            raise ValueError(f"params[{key!r}] is read-only; the update is in place")
        g = np.asarray(g)
        if g.shape != p.shape:
            raise ValueError(f"grads[{key!r}] has shape {g.shape}, expected {p.shape} "
                             f"(the shape of params[{key!r}])")
        if g.dtype != p.dtype or not g.flags.c_contiguous:
            if not np.can_cast(g.dtype, p.dtype, "same_kind"):
                raise TypeError(f"grads[{key!r}] has dtype {g.dtype}, which cannot be used for "
                                f"params[{key!r}] of dtype {p.dtype}")
            g = np.ascontiguousarray(g, dtype=p.dtype)
        self._check_state(key, p)
        return key, p, g, back


class SGD(Optimizer):
    """``p -= lr * g``"""

    kernel_name = "sgd_update"
    lr = _Hyper()

    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr


class Momentum(Optimizer):
    """``v = momentum * v - lr * g``; ``p += v``"""

    kernel_name = "momentum_update"
    state_names = ("v",)
    lr = _Hyper()
    momentum = _Hyper(unit_interval=True)

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__()
        self.lr = lr
        self.momentum = momentum


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, vol. 1's current order (= PyTorch ``nesterov=True``)::

        p += momentum**2 * v
        p -= (1 + momentum) * lr * g
        v = momentum * v - lr * g

    Momentum's hyper-parameters and state; only the rule differs.
    """

    kernel_name = "nesterov_update"


class AdaGrad(Optimizer):
    """``h += g * g``; ``p -= lr * g / (sqrt(h) + 1e-7)``"""

    kernel_name = "adagrad_update"
    state_names = ("h",)
    lr = _Hyper()

    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr


class RMSprop(Optimizer):
    """``h = decay_rate * h + (1 - decay_rate) * g * g``; ``p -= lr * g / (sqrt(h) + 1e-7)``"""

    kernel_name = "rmsprop_update"
    state_names = ("h",)
    lr = _Hyper()
    decay_rate = _Hyper(unit_interval=True)

    def __init__(self, lr=0.01, decay_rate=0.99):
        super().__init__()
        self.lr = lr
        self.decay_rate = decay_rate


class Adam(Optimizer):
    """Adam as in the book (http://arxiv.org/abs/1412.6980v8).

    ``iter`` counts :meth:`update` calls; with ``t = iter``::

        lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        m += (1 - beta1) * (g - m)
        v += (1 - beta2) * (g**2 - v)
        p -= lr_t * m / (sqrt(v) + 1e-7)
    """

    kernel_name = "adam_update"
    state_names = ("m", "v")
    lr = _Hyper()
    beta1 = _Hyper(unit_interval=True)
    beta2 = _Hyper(unit_interval=True)

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        super().__init__()
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0

    def reset(self):
        super().reset()
        self.iter = 0

    def _begin_step(self):
        self.iter += 1

    def _scalars(self):
        # bias correction folded into the step size, in float64 whatever the params' dtype
        t = self.iter
        lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t)
        return (lr_t, self.beta1, self.beta2)
