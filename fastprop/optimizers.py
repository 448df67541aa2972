"""The book's optimizers (vol. 1 ``common/optimizer.py``, vol. 2 ``common/optimizer.py``).

``update(params, grads)`` takes a dict of arrays (vol. 1) or a list of arrays (vol. 2) and
updates every array in place with one compiled kernel call per array
(:func:`fastprop.kernels.optim.apply_update`). Hyper-parameter defaults and the ``1e-7``
epsilons are the book's. Nesterov follows vol. 1's current order, which gives the same
trajectory as PyTorch's ``SGD(momentum=m, nesterov=True)``; vol. 2's older order is not used.

The contract with the kernels is explicit in each class: :attr:`Optimizer.rule` names the
update rule (a code of :data:`fastprop.kernels.optim.RULES`) and :meth:`Optimizer.hyper`
returns the kernel's scalars ``(lr, c1, c2)`` by name, never by attribute order. The fused
train steps drive the same rules and state (:meth:`Optimizer.kernel_state`).
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping, MutableMapping

import numpy as np

from . import validate
from .kernels import optim as kernels

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "OPTIMIZERS",
           "by_name"]

_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: the unused state arguments of a rule with fewer than two state arrays (never written)
_EMPTY = {dt: np.empty(0, dt) for dt in _FAST_DTYPES}


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
        if self.unit_interval:
            v = validate.check_scalar(value, where, float, low=0.0, high=1.0, high_open=True,
                                      expected="a real number in [0, 1)")
        else:
            v = validate.check_scalar(value, where, float, low=0.0, expected="a finite real number >= 0")
        obj.__dict__[self.name] = v


def _is_scalar(x):
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_, np.ndarray))


def _entries(params, grads):
    """``[(key, param, grad), ...]`` after checking both containers have the same layout."""
    if isinstance(params, Mapping):
        validate.check_type(grads, Mapping, "grads", "a dict too (params is a dict)")
        if params.keys() != grads.keys():
            missing = [k for k in params if k not in grads]
            extra = [k for k in grads if k not in params]
            raise ValueError(f"grads must have the keys of params: missing {missing}, unexpected {extra}")
        return [(k, params[k], grads[k]) for k in params]
    if isinstance(params, (list, tuple)):
        validate.check_type(grads, (list, tuple), "grads", "a list too (params is a list)")
        if len(params) != len(grads):
            raise ValueError(f"params has {len(params)} entries but grads has {len(grads)}")
        return list(zip(range(len(params)), params, grads))
    raise TypeError("params must be a dict (vol. 1) or a list (vol. 2) of arrays, "
                    f"got {type(params).__name__}")


class Optimizer:
    """Base class: validates, walks dict or list params, owns the per-key state.

    A subclass states its contract with the kernels explicitly:

    * :attr:`rule`: the update rule, a code of :data:`fastprop.kernels.optim.RULES`;
    * :attr:`state_names`: the attributes holding the state dicts (``'v'``, ``'h'``,
      ``'m'``), in the kernel's order; each maps a dict key or list index to an array
      shaped like that parameter, created as zeros on first use;
    * its hyper-parameters: validated class attributes (``lr = _Hyper()``), set by
      keyword from the subclass's ``__init__`` (``super().__init__(lr=lr)``), so the
      signature, the names and the defaults are spelled out in each class;
    * :meth:`hyper`: the kernel's scalars ``(lr, c1, c2)``, named in the subclass.

    The kernel is then called as ``apply_update(rule, p, g, s1, s2, hyper, t)`` on each
    array, with ``t`` = :meth:`step_count` (Adam's ``iter``).
    """

    rule: int | None = None
    state_names: tuple = ()

    def __init__(self, **hyper):
        for name in self.state_names:
            setattr(self, name, {})
        for name, value in hyper.items():  # by keyword: each name says what it sets
            if not isinstance(getattr(type(self), name, None), _Hyper):
                raise TypeError(f"{type(self).__name__} has no hyper-parameter {name!r}")
            setattr(self, name, value)

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper_names())
        return f"{type(self).__name__}({args})"

    def _hyper_names(self):
        return kernels.HYPER_NAMES[self.rule]

    # ---------------------------------------------------------------- the contract

    def hyper(self) -> tuple[float, float, float]:
        """The kernel's scalars ``(lr, c1, c2)`` for this rule (see
        :data:`fastprop.kernels.optim.HYPER_NAMES`)."""
        raise NotImplementedError(f"{type(self).__name__} must define hyper()")

    def step_count(self) -> int:
        """The ``t`` the kernel gets (Adam's bias correction); 0 for the other rules."""
        return 0

    def begin_step(self) -> None:
        """Start one step as :meth:`update` does: advance per-step counters (Adam's
        ``iter``). Code that calls the kernel itself calls this once per step, then
        :func:`~fastprop.kernels.optim.apply_update` with :meth:`hyper` and :meth:`step_count`."""

    # ---------------------------------------------------------------- state for fused steps

    def kernel_state(self, key, param: np.ndarray) -> tuple:
        """The state arrays of ``key`` in kernel order, created if absent.

        Parameters
        ----------
        key : hashable
            The params dict key (vol. 1) or list index (vol. 2) :meth:`update` uses.
        param : ndarray
            The parameter; new state is C-contiguous zeros of its shape and dtype, existing
            state must match its shape and dtype.

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
                s = d[key] = np.zeros(param.shape, dtype=param.dtype)
            state.append(s)
        return tuple(state)

    def reset(self) -> None:
        """Forget all state (and Adam's step count)."""
        for name in self.state_names:
            getattr(self, name).clear()

    def _check_state(self, key, param):
        for name in self.state_names:
            s = getattr(self, name).get(key)
            if s is None:
                continue
            if not isinstance(s, np.ndarray) or s.shape != param.shape or s.dtype != param.dtype:
                got = (f"shape {s.shape} and dtype {s.dtype}" if isinstance(s, np.ndarray)
                       else type(s).__name__)
                raise ValueError(
                    f"{type(self).__name__}: state {name}[{key!r}] has {got} but the parameter "
                    f"has shape {param.shape} and dtype {param.dtype}; call reset() after "
                    "replacing parameters")
            if not s.flags.writeable:
                raise ValueError(f"{type(self).__name__}: state {name}[{key!r}] is read-only "
                                 "(it is updated in place)")

    # ---------------------------------------------------------------- the walk

    def update(self, params, grads) -> None:
        """Update ``params`` in place from ``grads``.

        Parameters
        ----------
        params, grads : dict or list
            Same kind, same keys (or length), matching shapes. Arrays must be float32 or
            float64; a gradient of another real dtype or layout is converted to the
            parameter's. Entries that are Python numbers (the book's 2-D toy function
            demos) are computed in float64 and replaced by Python floats.

        Notes
        -----
        Everything is checked before anything is updated, so a bad entry leaves params
        and state untouched. A parameter that is not C-contiguous (a tied ``W.T``) is
        updated through a contiguous copy written back in place.
        """
        fast = self._ready(params, grads)
        if fast is not None:  # every entry already in the kernel's form: the per-step path
            self.begin_step()
            hp = np.array(self.hyper(), dtype=np.float64)
            t = self.step_count()
            rule, apply = self.rule, kernels.apply_update
            for p, g, s1, s2 in fast:
                apply(rule, p, g, s1, s2, hp, t)
            return
        plan = [self._prepare(key, p, g, params) for key, p, g in _entries(params, grads)]
        self.begin_step()
        hp = np.array(self.hyper(), dtype=np.float64)
        t = self.step_count()
        for key, p, g, back in plan:
            state = self.kernel_state(key, p)
            direct = p.dtype in _FAST_DTYPES and p.flags.c_contiguous
            work = p.dtype if p.dtype in _FAST_DTYPES else np.dtype(np.float64)
            arrays = [p, *state] if direct else [np.ascontiguousarray(a, work) for a in (p, *state)]
            flat = [a.reshape(-1) for a in arrays]
            flat += [np.empty(0, work)] * (3 - len(flat))
            kernels.apply_update(self.rule, flat[0], np.ascontiguousarray(g, work).reshape(-1),
                                 flat[1], flat[2], hp, t)
            if not direct:  # written back in place (a tied W.T, a strided view, float16)
                for original, updated in zip((p, *state), arrays):
                    original[...] = updated
            if back is not None:
                params[key] = back(p)

    def _ready(self, params, grads):
        """``[(p, g, s1, s2), ...]`` flat, when every entry is what the kernel takes as it is:
        a writeable C-contiguous float32/float64 parameter, a gradient of its shape, dtype and
        layout, and existing state to match; else None (:meth:`update`'s general path checks,
        converts and creates state). The checks are :meth:`_prepare`'s, in their cheapest form
        (the book's loop calls ``update`` once per step with a dozen small arrays)."""
        if isinstance(params, dict) and isinstance(grads, dict):
            if len(params) != len(grads):
                return None
            try:
                entries = [(k, p, grads[k]) for k, p in params.items()]
            except (KeyError, TypeError):
                return None
        elif isinstance(params, list) and isinstance(grads, list) and len(params) == len(grads):
            entries = [(i, p, g) for i, (p, g) in enumerate(zip(params, grads))]
        else:
            return None
        states = [getattr(self, name) for name in self.state_names]
        ready = []
        for key, p, g in entries:
            if type(p) is not np.ndarray or type(g) is not np.ndarray:
                return None
            dt = p.dtype
            if dt not in _FAST_DTYPES or g.dtype != dt or g.shape != p.shape:
                return None
            pf, gf = p.flags, g.flags
            if not (pf.c_contiguous and pf.writeable and gf.c_contiguous):
                return None
            flat = [p.reshape(-1), g.reshape(-1)]
            for d in states:
                s = d.get(key)
                if type(s) is not np.ndarray or s.dtype != dt or s.shape != p.shape:
                    return None  # absent (created there) or to be reported there
                sf = s.flags
                if not (sf.c_contiguous and sf.writeable):
                    return None
                flat.append(s.reshape(-1))
            while len(flat) < 4:
                flat.append(_EMPTY[dt])
            ready.append(flat)
        return ready

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
            if isinstance(p, np.floating) and p.dtype in _FAST_DTYPES:
                p, back = np.array(p), (lambda a: a[()])
            else:
                p, back = np.array(float(p)), (lambda a: float(a))
        else:
            validate.check_type(p, np.ndarray, f"params[{key!r}]", "a NumPy array (or a number)")
            if p.dtype.kind != "f":
                raise TypeError(f"params[{key!r}] must be a floating-point array, got dtype {p.dtype}; "
                                f"convert it once with .astype(np.float64)")
            if not p.flags.writeable:
                raise ValueError(f"params[{key!r}] is read-only; the update is in place")
        g = np.asarray(g)
        if g.shape != p.shape:
            raise ValueError(f"grads[{key!r}] has shape {g.shape}, expected {p.shape} "
                             f"(the shape of params[{key!r}])")
        if g.dtype.kind not in "fiu" or not np.can_cast(g.dtype, p.dtype, "same_kind"):
            raise TypeError(f"grads[{key!r}] has dtype {g.dtype}, which cannot be used for "
                            f"params[{key!r}] of dtype {p.dtype}")
        self._check_state(key, p)
        return key, p, g, back


class SGD(Optimizer):
    """``p -= lr * g``"""

    rule = kernels.SGD
    lr = _Hyper()

    def __init__(self, lr: float = 0.01):
        super().__init__(lr=lr)

    def hyper(self):
        return (self.lr, 0.0, 0.0)


class Momentum(Optimizer):
    """``v = momentum * v - lr * g``; ``p += v``"""

    rule = kernels.MOMENTUM
    state_names = ("v",)
    lr = _Hyper()
    momentum = _Hyper(unit_interval=True)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(lr=lr, momentum=momentum)

    def hyper(self):
        return (self.lr, self.momentum, 0.0)


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, vol. 1's current order (= PyTorch ``nesterov=True``)::

        p += momentum**2 * v
        p -= (1 + momentum) * lr * g
        v = momentum * v - lr * g

    Momentum's hyper-parameters and state; only the rule differs.
    """

    rule = kernels.NESTEROV


class AdaGrad(Optimizer):
    """``h += g * g``; ``p -= lr * g / (sqrt(h) + 1e-7)``"""

    rule = kernels.ADAGRAD
    state_names = ("h",)
    lr = _Hyper()

    def __init__(self, lr: float = 0.01):
        super().__init__(lr=lr)

    def hyper(self):
        return (self.lr, 0.0, 0.0)


class RMSprop(Optimizer):
    """``h = decay_rate * h + (1 - decay_rate) * g * g``; ``p -= lr * g / (sqrt(h) + 1e-7)``"""

    rule = kernels.RMSPROP
    state_names = ("h",)
    lr = _Hyper()
    decay_rate = _Hyper(unit_interval=True)

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99):
        super().__init__(lr=lr, decay_rate=decay_rate)

    def hyper(self):
        return (self.lr, self.decay_rate, 0.0)


class Adam(Optimizer):
    """Adam as in the book (http://arxiv.org/abs/1412.6980v8).

    ``iter`` counts :meth:`update` calls; with ``t = iter`` (the bias correction is
    :func:`fastprop.kernels.optim.adam_step_size`, shared with the fused steps)::

        lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        m += (1 - beta1) * (g - m)
        v += (1 - beta2) * (g**2 - v)
        p -= lr_t * m / (sqrt(v) + 1e-7)
    """

    rule = kernels.ADAM
    state_names = ("m", "v")
    lr = _Hyper()
    beta1 = _Hyper(unit_interval=True)
    beta2 = _Hyper(unit_interval=True)

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2)
        self.iter = 0

    def hyper(self):
        return (self.lr, self.beta1, self.beta2)

    def step_count(self):
        return self.iter

    def reset(self):
        super().reset()
        self.iter = 0

    def begin_step(self):
        self.iter += 1


#: fastprop's optimizers by the rule names of :data:`fastprop.kernels.optim.RULES`
OPTIMIZERS = {name: cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam)
              for name, code in kernels.RULES.items() if code == cls.rule}


def by_name(name: str, **hyper) -> Optimizer:
    """The optimizer named ``name`` (``'sgd'``, ``'momentum'``, ..., ``'adam'``) built with
    ``hyper`` (e.g. ``lr=0.1``)."""
    try:
        cls = OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}") from None
    return cls(**hyper)
