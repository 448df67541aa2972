"""The book's figure: the best trials' validation (solid) and training (dashed) accuracy
per epoch, one small panel each, ``Best-1`` ... ``Best-20`` in rows of five."""
from __future__ import annotations

import math
import os

__all__ = ["plot_best", "check_plot_path"]


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install -e '.[plot]' in fastprop's checkout, "
                          "or pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_plot_path(path: str | os.PathLike) -> str:
    """``path`` if matplotlib is installed, knows its extension and the folder is
    writable; an ``ImportError``/``ValueError``/``OSError`` otherwise."""
    from .results import check_writable

    path = check_writable(os.fspath(path))
    plt = _pyplot()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    supported = plt.figure().canvas.get_supported_filetypes()
    plt.close("all")
    if ext not in supported:
        raise ValueError(f"cannot plot to {path}: the extension must be one of "
                         f"{', '.join(sorted(supported))}")
    return path


def plot_best(rows: list[dict], path: str | os.PathLike, k: int = 20, cols: int = 5) -> int:
    """Draw the ``k`` best rows (already ranked, best first) to ``path``; returns how many
    panels were drawn (rows without curves are skipped)."""
    plt = _pyplot()
    rows = [r for r in rows if r.get("val_acc_curve")][:k]
    n_rows = max(1, math.ceil(len(rows) / cols))
    fig = plt.figure(figsize=(2.4 * cols, 2.0 * n_rows))
    for i, r in enumerate(rows):
        ax = fig.add_subplot(n_rows, cols, i + 1)
        val = r["val_acc_curve"]
        ax.plot(range(len(val)), val)
        if r.get("train_acc_curve"):
            ax.plot(range(len(r["train_acc_curve"])), r["train_acc_curve"], "--")
        ax.set_title(f"Best-{i + 1}", fontsize=9)
        ax.set_ylim(0.0, 1.0)
        if i % cols:
            ax.set_yticks([])
        ax.set_xticks([])
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=100)
    plt.close(fig)
    return len(rows)
