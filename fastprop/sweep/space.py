"""Search spaces and per-trial seeds.

A space is an ordered mapping ``name -> distribution``. Trial ``i`` of a sweep with seed
``s`` draws its parameters from its own generator, ``SeedSequence(s, spawn_key=(i, 0))``,
and trains with the seed ``SeedSequence(s, spawn_key=(i, 1))`` (the same children
``SeedSequence(s).spawn`` would hand out, two levels deep), so a trial's parameters and
numbers depend only on the sweep seed and its index: not on how many trials the sweep
has, which worker runs it, or in what order the trials finish.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LogUniform", "Uniform", "BOOK_SPACE", "check_space", "parse_space",
           "space_to_json", "space_from_json", "trial_seed", "make_trials"]


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return v


@dataclass(frozen=True)
class Uniform:
    """``U(low, high)``: a float drawn uniformly between ``low`` and ``high``."""

    low: float
    high: float
    kind = "uniform"

    def __post_init__(self):
        low = _finite(self.low, f"{self.kind} low")
        high = _finite(self.high, f"{self.kind} high")
        if not low < high:
            raise ValueError(f"{self.kind} needs low < high, got low={low!r}, high={high!r}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def sample(self, rng: np.random.Generator) -> float:
        """One draw from ``rng``."""
        return float(rng.uniform(self.low, self.high))

    def __str__(self):
        return f"{self.kind}:{self.low:g}:{self.high:g}"


@dataclass(frozen=True)
class LogUniform(Uniform):
    """``10 ** U(low, high)``: the book's draw (``lr = 10 ** np.random.uniform(-6, -2)``).

    ``low`` and ``high`` are base-10 exponents.
    """

    kind = "log10"

    def sample(self, rng: np.random.Generator) -> float:
        return float(10.0 ** rng.uniform(self.low, self.high))


_KINDS = {"uniform": Uniform, "log10": LogUniform}

#: vol. 1 ch. 6 ``hyperparameter_optimization.py``: lr = 10^U(-6, -2), weight decay = 10^U(-8, -4)
BOOK_SPACE: dict[str, Uniform] = {"lr": LogUniform(-6, -2), "weight_decay": LogUniform(-8, -4)}


def check_space(space: Any) -> dict[str, Uniform]:
    """``space`` as a plain dict after checking it is a non-empty mapping of names to
    distributions (:class:`Uniform`, :class:`LogUniform`); a ``TypeError``/``ValueError``
    naming the bad entry otherwise."""
    if not isinstance(space, Mapping):
        raise TypeError(f"space must be a mapping of parameter names to distributions "
                        f"(e.g. {{'lr': LogUniform(-6, -2)}}), got {type(space).__name__}")
    if not space:
        raise ValueError("space is empty: give at least one parameter")
    out = {}
    for name, dist in space.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"space: parameter names must be identifiers, got {name!r}")
        if not isinstance(dist, Uniform):
            raise TypeError(f"space[{name!r}] must be a Uniform or LogUniform, "
                            f"got {type(dist).__name__} {dist!r}")
        out[name] = dist
    return out


def parse_space(text: str) -> dict[str, Uniform]:
    """Parse ``'lr=log10:-6:-2,weight_decay=log10:-8:-4'`` (kinds ``log10``, ``uniform``)."""
    space = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, eq, spec = item.partition("=")
        parts = spec.split(":")
        if not eq or len(parts) != 3 or parts[0] not in _KINDS:
            raise ValueError(f"bad space entry {item!r}: expected NAME=KIND:LOW:HIGH with KIND "
                             f"one of {sorted(_KINDS)}, e.g. lr=log10:-6:-2")
        try:
            low, high = float(parts[1]), float(parts[2])
        except ValueError:
            raise ValueError(f"bad space entry {item!r}: LOW and HIGH must be numbers") from None
        name = name.strip()
        if name in space:
            raise ValueError(f"bad space: {name!r} given twice")
        space[name] = _KINDS[parts[0]](low, high)
    return check_space(space)


def space_to_json(space: Mapping[str, Uniform]) -> dict[str, list]:
    """``{name: [kind, low, high]}`` (the results file's header stores this)."""
    return {k: [d.kind, d.low, d.high] for k, d in check_space(space).items()}


def space_from_json(obj: Mapping[str, list]) -> dict[str, Uniform]:
    """Inverse of :func:`space_to_json`."""
    return check_space({k: _KINDS[v[0]](v[1], v[2]) for k, v in obj.items()})


def _check_seed(seed: Any, what: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{what} must be an integer >= 0, got {seed!r}")
    return int(seed)


def trial_seed(sweep_seed: int, index: int) -> int:
    """The training seed of trial ``index`` (a 32-bit int for ``np.random.seed``)."""
    ss = np.random.SeedSequence(_check_seed(sweep_seed, "seed"),
                                spawn_key=(_check_seed(index, "trial index"), 1))
    return int(ss.generate_state(1)[0])


def draw_params(space: Mapping[str, Uniform], sweep_seed: int, index: int) -> dict[str, float]:
    """The parameters of trial ``index``: one draw per entry, in the space's order."""
    ss = np.random.SeedSequence(_check_seed(sweep_seed, "seed"),
                                spawn_key=(_check_seed(index, "trial index"), 0))
    rng = np.random.default_rng(ss)
    return {name: dist.sample(rng) for name, dist in check_space(space).items()}


def make_trials(space: Mapping[str, Uniform], n_trials: int, seed: int) -> list[dict]:
    """``[{'index': i, 'params': {...}, 'seed': s_i}, ...]`` for ``i < n_trials``."""
    if isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    space = check_space(space)
    seed = _check_seed(seed, "seed")
    return [{"index": i, "params": draw_params(space, seed, i), "seed": trial_seed(seed, i)}
            for i in range(int(n_trials))]
