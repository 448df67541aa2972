"""What a careless or hostile caller can do to a layer between validation and the kernel:
the cases :mod:`test_layer_reliability` runs in a subprocess for every registered layer.

Each *change* is applied either before ``forward`` (after construction) or between
``forward`` and ``backward``: a parameter or a saved attribute replaced by an array of
another shape, rank, dtype or layout, made read-only, or (labels) edited in place. The
outcome of each is recorded as ``"ok"`` or the exception's type and message; the test
accepts only ``ok``, ``ValueError`` and ``TypeError``, never a crash, a Numba error or
another exception type.
"""
import json

import numpy as np
from cases import BY_NAME, backward, build, forward, upstream


def _bigger(shape):
    """A shape larger along every axis that can still be allocated: +1000 on each axis of
    a rank <= 2 array, +1000 on the first and +3 on the others above (a 4-D filter bank or
    image batch grown by 1000 on every axis would need terabytes)."""
    if len(shape) <= 2:
        return tuple(n + 1000 for n in shape)
    return (shape[0] + 1000,) + tuple(n + 3 for n in shape[1:])


def _param_changes(p):
    """(label, replacement) pairs for the parameter array ``p``."""
    out = [("bigger", np.zeros(_bigger(p.shape), p.dtype)),
           ("smaller", np.zeros(tuple(max(n - 1, 0) for n in p.shape), p.dtype)),
           ("float16", p.astype(np.float16)), ("int", p.astype(np.int64)),
           ("complex", p.astype(np.complex128)), ("list", p.tolist()), ("None", None)]
    if p.ndim == 2:
        out += [("1-D", p.reshape(-1).copy()), ("3-D", p[None].copy()),
                ("fortran", np.asfortranarray(p)), ("transposed-view", np.ascontiguousarray(p.T).T),
                ("strided", np.repeat(p, 2, axis=1)[:, ::2])]
    else:
        out += [("2-D", p[None].copy())]
    if p.ndim > 2:  # filter banks: the same layouts as a 2-D weight
        out += [("fortran", np.asfortranarray(p)), ("strided", np.repeat(p, 2, axis=-1)[..., ::2]),
                ("flat", p.reshape(-1).copy())]
    ro = p.copy()
    ro.flags.writeable = False
    out.append(("read-only", ro))
    return out


def _saved_changes(value):
    if not isinstance(value, np.ndarray):
        return [("None", None), ("string", "x")]
    out = [("bigger", np.zeros(_bigger(value.shape), value.dtype)),
           ("flat", value.reshape(-1).copy()), ("complex", value.astype(np.complex128)),
           ("object", value.astype(object)), ("None", None)]
    if value.dtype.kind in "iu":  # labels: an index far out of range, edited in place
        edited = value.copy()
        edited.flat[-1] = -10**12
        out.append(("label-out-of-range", edited))
    return out


def _outcome(fn):
    try:
        fn()
        return "ok"
    except Exception as exc:  # noqa: BLE001  (the test judges the type)
        return f"{type(exc).__name__}: {str(exc)[:200]}"


def _forward_backward(layer, args, case):
    out = forward(case, layer, args)
    return backward(layer, upstream(case, out))


def run_case(name):
    """Every change for the case ``name``; returns ``{change: outcome}``."""
    case = BY_NAME[name]
    results = {}
    layer, args = build(case)
    n_params = len(layer.params)
    for i in range(n_params):
        for label, value in _param_changes(build(case)[0].params[i]):
            for when in ("before forward", "before backward"):
                layer, args = build(case)

                def go(layer=layer, args=args, value=value, when=when, i=i):
                    if when == "before forward":
                        layer.params[i] = value
                        _forward_backward(layer, args, case)
                    else:
                        out = forward(case, layer, args)
                        layer.params[i] = value
                        backward(layer, upstream(case, out))

                results[f"params[{i}] {label} {when}"] = _outcome(go)
    for attr in case.saved:
        layer, args = build(case)
        out = forward(case, layer, args)
        for label, value in _saved_changes(getattr(layer, attr)):
            layer, args = build(case)
            out = forward(case, layer, args)
            setattr(layer, attr, value)
            results[f"{attr} {label} before backward"] = _outcome(
                lambda layer=layer, out=out: backward(layer, upstream(case, out)))
    return results


def same_results_with_a_fortran_weight(name):
    """A tied ``W.T`` (F-contiguous) parameter must work and give the C-order results (a
    Fortran-ordered filter bank too)."""
    case = BY_NAME[name]
    ref, args = build(case)
    tied, _ = build(case)
    for i, p in enumerate(tied.params):
        if p.ndim >= 2:
            tied.params[i] = np.asfortranarray(p)
    a, b = _forward_backward(ref, args, case), _forward_backward(tied, args, case)  # input gradients
    return bool(len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
                and all(np.array_equal(g, h) for g, h in zip(ref.grads, tied.grads)))


def main(name):
    print(json.dumps({"changes": run_case(name), "fortran_ok": same_results_with_a_fortran_weight(name)}))
