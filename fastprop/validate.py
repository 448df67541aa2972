"""Input checks shared by the public API: one place, one rule.

A wrong *type* is a ``TypeError``, a wrong *value* (shape, range, NaN) a ``ValueError``;
``bool`` is never accepted as an integer or a real number. Every message names the argument,
says what was expected and what arrived. Kernels never validate: everything that reaches one
has passed through here, right before the call (right dtype, C-contiguous, consistent shapes).
"""
from __future__ import annotations

import math
import numbers
import os

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: most elements allocated in one array for a size the caller chose (2**31: 16 GiB of float64);
#: above it a ValueError names the argument, before NumPy's MemoryError or a swapping machine
MAX_ELEMENTS = 2**31
#: largest stride, pad, filter or window a kernel takes: sums and products of a few of them
#: stay far inside int64 (a larger Python int would end in Numba's "Int value is too large")
MAX_INDEX = 2**60


def describe(x) -> str:
    """A short description of ``x`` for error messages (dtype and shape for arrays)."""
    if isinstance(x, np.ndarray):
        return f"array of dtype {x.dtype} and shape {x.shape}"
    return f"{type(x).__name__} {x!r}" if isinstance(x, (numbers.Number, str)) else type(x).__name__


# ----------------------------------------------------------------------------- scalars


def check_scalar(value, name: str, kind: type = float, *, low=None, high=None,
                 low_open: bool = False, high_open: bool = False, finite: bool = True,
                 expected: str | None = None):
    """``value`` as a Python ``int`` or ``float`` after checking its type and range.

    Parameters
    ----------
    value : object
    name : str, the argument's name in messages
    kind : ``int`` or ``float``; ``int`` accepts integral numbers only, ``float`` any real
        number (integers included); ``bool`` is neither
    low, high : bounds, or None; ``low_open``/``high_open`` make them strict
    finite : bool, reject NaN and +-inf (floats)
    expected : str or None, what the messages say was expected (``"a real number in [0, 1)"``)
        instead of the kind and the bound that failed; for arguments whose allowed values
        read best as one phrase

    Returns
    -------
    int or float

    Raises
    ------
    TypeError
        Not a number of the right kind.
    ValueError
        NaN/inf (when ``finite``) or out of bounds.
    """
    if kind not in (int, float):
        raise TypeError(f"check_scalar: kind must be int or float, got {kind!r}")  # a caller's bug
    integral = kind is int
    # numbers.Integral/Real take NumPy's integers and floats (the book passes them) but no
    # float for an int: 2.7 is refused, never truncated to 2; bool is neither
    ok = isinstance(value, numbers.Integral if integral else numbers.Real)
    if isinstance(value, (bool, np.bool_)) or not ok:
        what = expected or ("an integer" if integral else "a real number")
        raise TypeError(f"{name} must be {what}, got {describe(value)}")
    v = int(value) if integral else float(value)
    if not integral and finite and not math.isfinite(v):
        raise ValueError(f"{name} must be {expected or 'a finite number'}, got {value!r}")
    if low is not None and (v <= low if low_open else v < low):
        raise ValueError(f"{name} must be {expected or ('>' if low_open else '>=') + f' {low}'}, "
                         f"got {value!r}")
    if high is not None and (v >= high if high_open else v > high):
        raise ValueError(f"{name} must be {expected or ('<' if high_open else '<=') + f' {high}'}, "
                         f"got {value!r}")
    return v


def _bytes(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


def allocation(shape, dtype, name: str, what: str = "an array") -> tuple:
    """``shape`` as a tuple of ints, if an array of that shape stays within
    :data:`MAX_ELEMENTS`; else a ValueError naming ``name`` (the argument that asked for it)
    and the size, raised before anything is allocated.

    Call it before every allocation whose size comes from a number the caller passed (a
    vocabulary size, a pad, a batch size), with the shape computed in Python ints.
    """
    shape = tuple(int(s) for s in shape)
    n = math.prod(shape)
    if n > MAX_ELEMENTS:
        dt = np.dtype(dtype)
        raise ValueError(f"{name} asks for {what} of shape {shape} ({n} {dt} elements, "
                         f"{_bytes(n * dt.itemsize)}), more than the {MAX_ELEMENTS} elements fastprop "
                         "allocates for one array; use a smaller value")
    return shape


def positive_int(v, name: str) -> int:
    """An integer >= 1 (TypeError for non-integers and bools, ValueError for <= 0)."""
    return check_scalar(v, name, int, low=1)


def real_scalar(v, name: str) -> float:
    """A finite real number as a Python float."""
    return check_scalar(v, name, float)


def flag(v, name: str) -> bool:
    """A bool (``True``/``False`` or NumPy's), nothing else."""
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {describe(v)}")
    return bool(v)


#: the seeds ``np.random.seed`` and ``RandomState`` take: [0, 2**32)
SEED_LIMIT = 2**32


def seed(v, name: str = "seed", high: int | None = SEED_LIMIT - 1) -> int:
    """A seed for NumPy's generators: an integer in ``[0, high]`` (``np.random.seed`` and
    ``RandomState`` take ``[0, 2**32)``; ``default_rng`` any integer >= 0: ``high=None``)."""
    return check_scalar(v, name, int, low=0, high=high)


# ----------------------------------------------------------------------------- other types


def check_type(value, types, name: str, expected: str):
    """``value`` itself if it is an instance of ``types``, else a TypeError saying
    ``expected`` (a phrase: ``"a dict of hyper-parameters"``) and what arrived. ``bool`` is
    refused wherever ``types`` holds ``int`` but not ``bool``."""
    if not isinstance(value, types) or (
            isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,))):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    return value


def choice(value, options, name: str, expected: str | None = None) -> str:
    """A str among ``options``: TypeError for anything but a str, ValueError for a str that
    is not one of them (the message lists them)."""
    listed = expected or f"one of {sorted(options)}"
    if not isinstance(value, str):
        raise TypeError(f"{name} must be {listed}, got {describe(value)}")
    if value not in options:
        raise ValueError(f"{name} must be {listed}, got {value!r}")
    return value


def path(value, name: str = "path"):
    """``value`` if it names a file (a str or an ``os.PathLike``), else a TypeError."""
    return check_type(value, (str, os.PathLike), name, "a str or os.PathLike")


# ----------------------------------------------------------------------------- index arrays


def indices(x, name: str, *, ndim: int | None = None, low: int | None = 0, high: int | None = None,
            what: str = "integer indices", high_what: str = "", allow_empty: bool = False) -> np.ndarray:
    """Integer indices (embedding ids, labels, sampler draws, row indices) as a new
    C-contiguous intp array: TypeError unless the dtype is an integer one (floats, bools,
    complex, object or strings); ValueError for another rank than ``ndim``, no element,
    or an index outside ``[low, high)`` (None: no such bound). ``what`` names the indices
    in messages, ``high_what`` says where ``high`` comes from."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must hold {what}, got {describe(x)} ({exc})") from None
    if arr.dtype.kind not in "iu":
        hint = " (cast with .astype(np.int64) if the floats are whole numbers)" if arr.dtype.kind == "f" else ""
        raise TypeError(f"{name} must hold {what} (an integer array), got {describe(arr)}{hint}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array of {what}, got shape {arr.shape}")
    if arr.size == 0:
        if allow_empty:
            return np.array(arr, dtype=np.intp, order="C")
        raise ValueError(f"{name} is empty (shape {arr.shape}); expected at least one of its {what}")
    info = np.iinfo(np.intp)
    lo_ok, hi_ok = info.min if low is None else low, info.max + 1 if high is None else high
    lo, hi = int(arr.min()), int(arr.max())
    if lo < lo_ok or hi >= hi_ok:
        raise ValueError(f"{name} holds {lo if lo < lo_ok else hi}, expected {what} in [{lo_ok}, {hi_ok})"
                         + (f" ({high_what})" if high_what else ""))
    return np.array(arr, dtype=np.intp, order="C")


# ----------------------------------------------------------------------------- dtypes


def float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Normalise a user ``dtype`` argument to float32 or float64."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def param_dtype(p, name: str) -> np.dtype:
    """The compute dtype a parameter array decides (float32 or float64)."""
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of float32 or float64, got {describe(p)}")
    if p.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must have dtype float32 or float64, got {p.dtype}; "
            f"convert it once with {name}.astype(np.float64)")
    return p.dtype


def float_array(x, name: str, why: str = "") -> np.ndarray:
    """``x`` itself if it is a float32/float64 NumPy array (one the caller's code keeps
    using: perturbed or written in place), else a TypeError; ``why`` says why in the message."""
    if not (isinstance(x, np.ndarray) and x.dtype in FLOAT_DTYPES):
        raise TypeError(f"{name} must be a float32/float64 NumPy array{why}, got {describe(x)}")
    return x


def real_dtype(arr: np.ndarray, name: str) -> np.ndarray:
    """``arr`` itself if its dtype holds real numbers, else a TypeError saying what to pass."""
    if arr.dtype.kind not in "fiub" or arr.dtype.fields is not None:
        raise TypeError(
            f"{name} must be a real numeric array (float, int, uint8 or bool), got {describe(arr)}; "
            "pass np.asarray(..., dtype=np.float64) of real values (for complex data, .real)")
    return arr


def as_real(x, name: str, dtype=None) -> np.ndarray:
    """``x`` as a C-contiguous float array.

    Integers and booleans (MNIST with ``normalize=False`` is uint8) are cast like NumPy's
    promotion would cast them against float parameters; ``dtype=None`` keeps float32 and
    float64 as they are and casts everything else to float64. Complex, object, string
    and structured data are a TypeError: there is no real number to compute with.
    """
    if type(x) is np.ndarray and x.flags.c_contiguous and (
            x.dtype == dtype if dtype is not None else x.dtype in FLOAT_DTYPES):
        return x  # what every layer hands the next: nothing to check or convert (a layer calls this per step)
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be a real numeric array, got {describe(x)} ({exc})") from None
    real_dtype(arr, name)
    if dtype is None:
        dtype = arr.dtype if arr.dtype in FLOAT_DTYPES else np.dtype(np.float64)
    # not np.ascontiguousarray: it turns a 0-d array into shape (1,)
    return np.asarray(arr, dtype=dtype, order="C")


# ----------------------------------------------------------------------------- arrays at a kernel


def batch(x: np.ndarray, name: str) -> np.ndarray:
    """Reject a 0-sized leading (batch) axis, which would divide by zero in the loss."""
    if x.ndim == 0:
        raise ValueError(f"{name} must have a batch axis, got a 0-d array")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {x.shape}); expected at least one sample")
    return x


def same_shape(a: np.ndarray, expected_shape, name: str, what: str) -> None:
    """ValueError unless ``a.shape == expected_shape`` (``what`` says where it comes from)."""
    if a.shape != tuple(expected_shape):
        raise ValueError(f"{name} must have shape {tuple(expected_shape)} ({what}), got {a.shape}")


def weight(W, name: str = "W", dtype=None) -> np.ndarray:
    """A 2-D float32/float64 weight as the kernels take it: the array itself when C- or
    F-contiguous (``embed_W.T`` of a tied weight is F-contiguous and works), else a
    C-contiguous copy for this call only; ``dtype`` (if given) must be its dtype."""
    dt = param_dtype(W, name)
    if W.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (D, M) weight, got shape {W.shape}")
    if dtype is not None and dt != dtype:
        raise ValueError(f"{name} has dtype {dt} but the computation is {np.dtype(dtype)} (it changed "
                         "since forward? run forward again)")
    if W.flags.c_contiguous or W.flags.f_contiguous:
        return W
    return np.ascontiguousarray(W)


def bias(b, size: int, dtype, name: str = "b") -> np.ndarray:
    """A (size,) bias in ``dtype``, C-contiguous (a copy only when it is not already)."""
    param_dtype(b, name)
    if b.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},) to match W, got {b.shape}")
    return np.ascontiguousarray(b, dtype=dtype)


def output(a, shape, dtype, name: str) -> np.ndarray:
    """``a`` if it can be written by a kernel as a (shape, dtype) C-contiguous array."""
    if not (isinstance(a, np.ndarray) and a.shape == tuple(shape) and a.dtype == dtype
            and a.flags.c_contiguous and a.flags.writeable):
        raise ValueError(f"{name} must be a writeable C-contiguous {np.dtype(dtype)} array of shape "
                         f"{tuple(shape)}, got {describe(a)}")
    return a


# ----------------------------------------------------------------------------- labels and targets


def labels(t, n: int, n_classes: int, name: str = "t") -> np.ndarray:
    """Integer class labels of length ``n`` in ``[0, n_classes)``, as a new intp array (a
    copy: later changes to the caller's array cannot reach a kernel)."""
    t = np.asarray(t)
    if t.dtype.kind == "f" and t.ndim == 2:
        # float rows are meant as one-hot targets; they only reach here with the wrong shape
        raise ValueError(
            f"{name} has shape {t.shape}, but one-hot targets must have the scores' shape "
            f"({n}, {n_classes}) (or pass integer labels of shape ({n},))")
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer class labels (or one-hot rows of the scores' shape), "
            f"got {describe(t)}")
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) (one label per row), got {t.shape}")
    if n:
        lo, hi = t.min(), t.max()
        if lo < 0 or hi >= n_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{name} holds label {bad}, expected labels in [0, {n_classes})")
    return np.array(t, dtype=np.intp, order="C")


def is_onehot_shape(t: np.ndarray, score_shape) -> bool:
    """The book's ``t.size == y.size`` rule, made strict: one-hot targets have the scores'
    own shape (a single sample's 1-D row counts for a (1, C) score), so six labels for two
    rows of three scores, or a transposed one-hot, are not taken for one-hot weights."""
    n, c = score_shape
    return t.size == n * c and t.size > 0 and (t.shape == (n, c) or (n == 1 and t.shape == (c,)))


def targets(t, score_shape, dtype, name: str = "t"):
    """``(array, onehot)``: one-hot rows as a new C-contiguous ``dtype`` (N, C) array, or
    labels as a new intp (N,) array; ValueError/TypeError for anything else."""
    t = np.asarray(t)
    n, c = score_shape
    if is_onehot_shape(t, score_shape):
        return np.array(as_real(t, name, dtype).reshape(n, c), order="C"), True
    if t.size == n * c and t.ndim >= 1 and t.shape != (n,):
        raise ValueError(f"{name} has shape {t.shape}: one-hot targets must have the scores' shape "
                         f"({n}, {c}), labels the shape ({n},)")
    if n == 1 and t.ndim == 0:
        t = t.reshape(1)
    if t.shape == (n, 1) and t.dtype.kind in "iu":
        t = t.reshape(n)  # a column of labels, as the book's ch07 gradient check passes them
    return labels(t, n, c, name), False
