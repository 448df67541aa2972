"""Numerical gradients (central differences) and the book's gradient check."""
import numpy as np

from . import validate


def numerical_gradient(f, x, h=1e-4):
    """Central-difference gradient of ``f`` at ``x``, perturbing ``x`` IN PLACE.

    Like the book, each element is set to ``x+h`` and ``x-h`` in turn and restored
    afterwards, so ``f`` may close over ``x`` (``lambda W: net.loss(x, t)`` reads the
    perturbed parameter through the layers, which hold the same array).

    Parameters
    ----------
    f : callable, ``f(x) -> float``
    x : ndarray of float32/float64, perturbed and restored element by element
    h : float, step (the book's 1e-4)

    Returns
    -------
    grad : ndarray, same shape and dtype as ``x``

    Notes
    -----
    ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)``; error O(h^2) plus rounding
    of order ``eps * abs(f) / h``, about 1e-12 in float64 (use float64 for checks).
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    validate.float_array(x, "x", " (it is perturbed in place)")
    h = validate.check_scalar(h, "h", float, low=0, low_open=True, expected="a positive finite number")
    grad = np.zeros(x.shape, dtype=x.dtype)  # C order: flat_grad must be a view in ndindex order
    flat_grad = grad.reshape(-1)
    if not x.flags.writeable:
        raise ValueError("x is read-only; numerical_gradient perturbs it in place")
    for i, idx in enumerate(np.ndindex(*x.shape)):
        tmp = x[idx]
        try:
            x[idx] = float(tmp) + h
            fxh1 = f(x)
            x[idx] = float(tmp) - h
            fxh2 = f(x)
        finally:  # restored even when f raises (KeyboardInterrupt included)
            x[idx] = tmp
        flat_grad[i] = (fxh1 - fxh2) / (2 * h)
    return grad


def gradient_check(net, x, t, tol=None):
    """Compare ``net.gradient`` (backprop) with ``net.numerical_gradient``.

    Returns
    -------
    dict ``{param name: mean |backprop - numerical|}``, the number the book prints.
    With ``tol`` given, raises ``AssertionError`` naming every parameter above it.
    """
    numerical = net.numerical_gradient(x, t)
    backprop = net.gradient(x, t)
    diffs = {k: float(np.mean(np.abs(np.asarray(backprop[k], dtype=np.float64) - numerical[k])))
             for k in numerical}
    if tol is not None:
        bad = {k: d for k, d in diffs.items() if not d <= tol}
        if bad:
            raise AssertionError(
                "backprop and numerical gradients disagree above tol=%g: %s"
                % (tol, ", ".join(f"{k}: {d:.3g}" for k, d in bad.items())))
    return diffs


def _numerical_gradient_1d(f, x):
    """The book's ``_numerical_gradient_1d``: central differences (h = 1e-4) of ``f`` at a
    1-D ``x``, perturbing ``x`` IN PLACE and restoring each element, even when ``f`` raises.

    Parameters
    ----------
    f : callable, ``f(x) -> float``
    x : 1-D float32/float64 array (a row of a larger array works: it is a view)

    Returns
    -------
    grad : ndarray, same shape and dtype as ``x``
    """
    _check_perturbable(f, x)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape} (use numerical_gradient_2d or "
                         "numerical_gradient)")
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp_val = x[idx]
        try:
            x[idx] = float(tmp_val) + h
            fxh1 = f(x)
            x[idx] = tmp_val - h  # the book's step: in x's own dtype
            fxh2 = f(x)
        finally:
            x[idx] = tmp_val
        grad[idx] = (fxh1 - fxh2) / (2 * h)
    return grad


def numerical_gradient_2d(f, X):
    """The book's ``numerical_gradient_2d``: :func:`_numerical_gradient_1d` of a 1-D ``X``,
    or of each row of a 2-D ``X`` in turn (rows are views, so ``f`` sees the perturbation
    through ``X``).

    Parameters
    ----------
    f : callable, ``f(x) -> float`` (called with the row being perturbed)
    X : 1-D or 2-D float32/float64 array, perturbed in place and restored

    Returns
    -------
    grad : ndarray, same shape and dtype as ``X``
    """
    _check_perturbable(f, X)
    if X.ndim == 1:
        return _numerical_gradient_1d(f, X)
    if X.ndim != 2:
        raise ValueError(f"X must be 1-D or 2-D, got shape {X.shape} (use numerical_gradient for "
                         "any shape)")
    grad = np.zeros_like(X)
    for idx, x in enumerate(X):
        grad[idx] = _numerical_gradient_1d(f, x)
    return grad


def _check_perturbable(f, x):
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    validate.float_array(x, "x", " (it is perturbed in place)")
    if not x.flags.writeable:
        raise ValueError("x is read-only; the numerical gradient perturbs it in place")
