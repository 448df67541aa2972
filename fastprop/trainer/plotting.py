"""One plot for every training run: the loss curve, and the accuracies per epoch when
there are any, saved as a PNG through an Agg canvas of its own (pyplot's global backend
is never touched) or shown with pyplot. ``Trainer.plot`` and ``fastprop train --plot``
both draw it."""
import os
from typing import Mapping, Optional, Sequence

import numpy as np

__all__ = ["plot_curves", "require_matplotlib"]

INSTALL_HINT = "pip install -e '.[plot]' in fastprop's checkout, or pip install matplotlib"


def require_matplotlib(who: str = "plotting") -> None:
    """Raise ImportError naming ``who`` and the install command when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401  (optional dependency)
    except ImportError as exc:
        raise ImportError(f"{who} needs matplotlib: {INSTALL_HINT}") from exc


def plot_curves(losses: Sequence[float], *, xlabel: str = "iteration",
                epochs: Sequence[int] = (),
                accuracies: Optional[Mapping[str, Sequence[Optional[float]]]] = None,
                title: Optional[str] = None, ylim: Optional[tuple] = None,
                path: Optional[os.PathLike] = None, who: str = "plotting"):
    """Plot a loss curve and, when recorded, accuracies per epoch.

    Parameters
    ----------
    losses : sequence of float
        Plotted against 0, 1, 2, ... (label the unit with ``xlabel``).
    xlabel : str
        The loss axis' unit (``'iteration'``, ``'iterations (x10)'``).
    epochs : sequence of int
        The epoch of each accuracy entry.
    accuracies : mapping of str to sequence of (float or None), optional
        Curve name (``'train'``, ``'test'``, ``'val'``) to one value per entry of
        ``epochs``; None entries are skipped, and without any value there is no accuracy
        panel.
    title : str, optional
        Title of the loss panel.
    ylim : (float, float), optional
        Limits of the loss axis.
    path : str or path-like, optional
        Save a PNG there (an Agg canvas: no window, pyplot's backend untouched) and return
        ``path``; None shows the figure with pyplot and returns None.
    who : str
        Named in the ImportError when matplotlib is missing.

    Returns
    -------
    path or None
    """
    require_matplotlib(who)
    curves = []
    for name, values in (accuracies or {}).items():
        points = [(e, a) for e, a in zip(epochs, values) if a is not None]
        if points:
            curves.append((name, points))
    size = (10, 4) if curves else (6, 4)
    if path is not None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
    else:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=size)
    axes = fig.subplots(1, 2 if curves else 1, squeeze=False)[0]

    ax = axes[0]
    # thousands of per-iteration losses: a thin line keeps the curve readable
    ax.plot(np.arange(len(losses)), losses, lw=0.6 if len(losses) > 1000 else 1.5, label="train")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    if curves:
        ax = axes[1]
        for name, points in curves:
            ax.plot(*zip(*points), marker="o", markersize=3, label=name)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.0)
        ax.legend(loc="lower right")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, format="png")
        return path
    plt.show()
    return None
