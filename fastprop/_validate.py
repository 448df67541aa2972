"""Input checks shared by the public API. Kernels never validate: everything that
reaches one has passed through here (right dtype, C-contiguous, consistent shapes)."""
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"array of dtype {x.dtype} and shape {x.shape}"
    return f"{type(x).__name__}"


def float_dtype(dtype, name="dtype"):
    """Normalise a user ``dtype`` argument to float32 or float64."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def param_dtype(p, name):
    """The compute dtype a parameter array decides (float32 or float64)."""
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of float32 or float64, got {_describe(p)}")
    if p.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must have dtype float32 or float64, got {p.dtype}; "
            f"convert it once with {name}.astype(np.float64)")
    return p.dtype


def real_dtype(arr, name):
    """``arr`` itself if its dtype holds real numbers, else a TypeError saying what to pass."""
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"{name} must be a real numeric array (float, int, uint8 or bool), got {_describe(arr)}; "
            "pass np.asarray(..., dtype=np.float64) of real values (for complex data, .real)")
    return arr


def as_real(x, name, dtype=None):
    """``x`` as a C-contiguous float array.

    Integers and booleans (MNIST with ``normalize=False`` is uint8) are cast like NumPy's
    promotion would cast them against float parameters; ``dtype=None`` keeps float32 and
    float64 as they are and casts everything else to float64. Complex, object, string
    and structured data are a TypeError: there is no real number to compute with.
    """
    arr = real_dtype(np.asarray(x), name)
    if dtype is None:
        dtype = arr.dtype if arr.dtype in FLOAT_DTYPES else np.dtype(np.float64)
    # not np.ascontiguousarray: it turns a 0-d array into shape (1,)
    return np.asarray(arr, dtype=dtype, order="C")


def batch(x, name):
    """Reject a 0-sized leading (batch) axis, which would divide by zero in the loss."""
    if x.ndim == 0:
        raise ValueError(f"{name} must have a batch axis, got a 0-d array")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {x.shape}); expected at least one sample")
    return x


def same_shape(a, expected_shape, name, what):
    if a.shape != tuple(expected_shape):
        raise ValueError(f"{name} must have shape {tuple(expected_shape)} ({what}), got {a.shape}")


def labels(t, n, n_classes, name="t"):
    """Integer class labels of length ``n`` in ``[0, n_classes)``, as intp."""
    t = np.asarray(t)
    if t.dtype.kind == "f" and t.ndim == 2:
        # float rows are meant as one-hot targets; they only reach here with the wrong size
        raise ValueError(
            f"{name} has shape {t.shape}, but one-hot targets must have the scores' shape "
            f"({n}, {n_classes}) (or pass integer labels of shape ({n},))")
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer class labels (or one-hot rows of the same size as the "
            f"scores), got {_describe(t)}")
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) (one label per row), got {t.shape}")
    lo, hi = t.min(), t.max()
    if lo < 0 or hi >= n_classes:
        bad = lo if lo < 0 else hi
        raise ValueError(f"{name} holds label {bad}, expected labels in [0, {n_classes})")
    return np.ascontiguousarray(t, dtype=np.intp)


def positive_int(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def real_scalar(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__} {v!r}")
    return float(v)
