"""Classification accuracy of a model, in chunks of rows."""
import warnings
from typing import Optional

import numpy as np

from .. import validate

__all__ = ["ACCURACY_CHUNK", "accuracy"]

#: rows per model.predict call when measuring accuracy (bounds the activations' memory)
ACCURACY_CHUNK = 10000


def _check_targets(x, t):
    """``(x, t)`` as arrays after checking that ``t`` holds one label or one one-hot row
    per row of ``x``."""
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"accuracy needs at least one row of x, got shape {x.shape}")
    if t.ndim not in (1, 2):
        raise ValueError(f"t must be labels of shape (N,) or one-hot rows of shape (N, C), "
                         f"got shape {t.shape}")
    if len(t) != len(x):
        hint = ("; it looks transposed (one-hot columns instead of rows): pass t.T"
                if t.ndim == 2 and t.shape[1] == len(x) else "")
        raise ValueError(f"t must have one row per row of x: x has {len(x)} rows, t has shape "
                         f"{t.shape}{hint}")
    return x, t


def accuracy(model, x, t, chunk: int = ACCURACY_CHUNK) -> Optional[float]:
    """Fraction of rows whose highest score is the label.

    Parameters
    ----------
    model : object with ``predict(x)``
        Returns one row of C scores per sample.
    x : ndarray, shape (N, ...)
        N >= 1 samples.
    t : ndarray, shape (N,) or (N, C)
        Labels, or one-hot rows with as many columns as the scores.
    chunk : int >= 1
        Rows per ``model.predict`` call (the same number as the book's ``accuracy``,
        without a whole-set temporary).

    Returns
    -------
    float in [0, 1], or None
        None (with a RuntimeWarning) when ``model.predict`` does not return one score row
        per sample (e.g. time-series models).

    Raises
    ------
    ValueError
        Empty ``x``; ``t`` without one label or one-hot row per sample (a transposed
        one-hot matrix included); one-hot rows whose width is not the number of scores.
    """
    chunk = validate.check_scalar(chunk, "chunk", int, low=1)
    x, t = _check_targets(x, t)
    correct = 0
    for start in range(0, len(x), chunk):
        score = np.asarray(model.predict(x[start:start + chunk]))
        n = min(chunk, len(x) - start)
        if score.ndim != 2 or score.shape[0] != n:
            warnings.warn(f"model.predict returned shape {score.shape} for {n} rows; "
                          "accuracy is not recorded", RuntimeWarning, stacklevel=3)
            return None
        if t.ndim == 2 and t.shape[1] != score.shape[1]:
            raise ValueError(f"one-hot t has {t.shape[1]} columns but model.predict gives "
                             f"{score.shape[1]} scores per row")
        part = t[start:start + n]
        labels = part if part.ndim == 1 else np.argmax(part, axis=1)
        correct += int(np.sum(np.argmax(score, axis=1) == labels))
    return correct / len(x)
