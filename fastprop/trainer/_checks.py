"""Argument checks of the trainer package: one message shape (name, what was expected,
what came), TypeError for a wrong type, ValueError for a wrong value, bool is no number."""
import math
import numbers


def check_int(value, name: str, low: int) -> int:
    """``value`` as an int >= ``low``; TypeError for a non-integer (or a bool), ValueError
    below ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return int(value)


def check_positive_real(value, name: str, none_means: str):
    """``value`` itself (type kept: it takes part in the arithmetic) when it is a finite
    number > 0; TypeError for a non-number (or a bool), ValueError
    for zero, negative, NaN or infinite. ``none_means`` says what None would have done."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number or None, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0 (or None for {none_means}), "
                         f"got {value!r}")
    return value
