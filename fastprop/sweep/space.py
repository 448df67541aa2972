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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from .. import validate

__all__ = ["LogUniform", "Uniform", "BOOK_SPACE", "check_space", "parse_space",
           "space_to_json", "space_from_json", "trial_seed", "make_trials", "iter_trials",
           "check_seed", "SEED_LIMIT", "EXPONENT_LIMIT"]

#: a sweep seed seeds ``np.random.RandomState`` (the data split), which takes [0, 2**32)
SEED_LIMIT = 2**32
#: log10 bounds must keep ``10 ** x`` a normal, finite float (1e-300 .. 1e300)
EXPONENT_LIMIT = 300.0


def _finite(value: Any, what: str) -> float:
    return validate.check_scalar(value, what, float, expected="a finite real number")


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
        self._check_range(low, high)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def _check_range(self, low: float, high: float) -> None:
        # rng.uniform(low, high) computes low + (high - low) * u: the width must be finite
        if not math.isfinite(high - low):
            raise ValueError(f"{self.kind} bounds are too far apart (high - low overflows), got "
                             f"low={low!r}, high={high!r}")

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

    def _check_range(self, low: float, high: float) -> None:
        for what, v in (("low", low), ("high", high)):
            if abs(v) > EXPONENT_LIMIT:
                raise ValueError(f"log10 {what} is a base-10 exponent and must be in "
                                 f"[-{EXPONENT_LIMIT:g}, {EXPONENT_LIMIT:g}] (10 ** {v:g} is not a "
                                 f"usable finite number), got {what}={v!r}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(10.0 ** rng.uniform(self.low, self.high))


_KINDS = {"uniform": Uniform, "log10": LogUniform}

#: vol. 1 ch. 6 ``hyperparameter_optimization.py``: lr = 10^U(-6, -2), weight decay = 10^U(-8, -4)
BOOK_SPACE: dict[str, Uniform] = {"lr": LogUniform(-6, -2), "weight_decay": LogUniform(-8, -4)}


def check_space(space: Any) -> dict[str, Uniform]:
    """``space`` as a plain dict after checking it is a non-empty mapping of names to
    distributions (:class:`Uniform`, :class:`LogUniform`); a ``TypeError``/``ValueError``
    naming the bad entry otherwise."""
    validate.check_type(space, Mapping, "space", "a mapping of parameter names to distributions "
                        "(e.g. {'lr': LogUniform(-6, -2)})")
    if not space:
        raise ValueError("space is empty: give at least one parameter")
    out = {}
    for name, dist in space.items():
        validate.check_type(name, str, "space: a parameter name", "an identifier (a str)")
        if not name.isidentifier():
            raise ValueError(f"space: parameter names must be identifiers, got {name!r}")
        validate.check_type(dist, Uniform, f"space[{name!r}]", "a Uniform or LogUniform")
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
        try:
            space[name] = _KINDS[parts[0]](low, high)
        except ValueError as e:
            raise ValueError(f"bad space entry {item!r}: {e}") from None
    return check_space(space)


def space_to_json(space: Mapping[str, Uniform]) -> dict[str, list]:
    """``{name: [kind, low, high]}`` (the results file's header stores this)."""
    return {k: [d.kind, d.low, d.high] for k, d in check_space(space).items()}


def space_from_json(obj: Mapping[str, list]) -> dict[str, Uniform]:
    """Inverse of :func:`space_to_json` (a ValueError for anything it did not write)."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"a stored space must be {{name: [kind, low, high]}}, got {type(obj).__name__}")
    out = {}
    for k, v in obj.items():
        if not (isinstance(v, list) and len(v) == 3 and v[0] in _KINDS):
            raise ValueError(f"stored space entry {k!r} must be [kind, low, high] with kind one of "
                             f"{sorted(_KINDS)}, got {v!r}")
        out[k] = _KINDS[v[0]](v[1], v[2])
    return check_space(out)


def check_seed(seed: Any, name: str = "seed") -> int:
    """A sweep seed: an integer in [0, 2**32) (TypeError for non-integers and bools)."""
    return validate.seed(seed, name)


def _check_index(index: Any) -> int:
    return validate.check_scalar(index, "trial index", int, low=0)


def check_n_trials(n_trials: Any) -> int:
    """A number of trials: an integer >= 1 (TypeError for non-integers and bools)."""
    return validate.positive_int(n_trials, "n_trials")


def trial_seed(sweep_seed: int, index: int) -> int:
    """The training seed of trial ``index`` (a 32-bit int for ``np.random.seed``)."""
    ss = np.random.SeedSequence(check_seed(sweep_seed), spawn_key=(_check_index(index), 1))
    return int(ss.generate_state(1)[0])


def draw_params(space: Mapping[str, Uniform], sweep_seed: int, index: int) -> dict[str, float]:
    """The parameters of trial ``index``: one draw per entry, in the space's order."""
    ss = np.random.SeedSequence(check_seed(sweep_seed), spawn_key=(_check_index(index), 0))
    rng = np.random.default_rng(ss)
    return {name: dist.sample(rng) for name, dist in check_space(space).items()}


def iter_trials(space: Mapping[str, Uniform], n_trials: int, seed: int, skip=()) -> Iterator[dict]:
    """``{'index': i, 'params': {...}, 'seed': s_i}`` for ``i < n_trials`` not in ``skip``,
    made one at a time as they are asked for (a sweep of 10**8 trials starts its first at
    once and never holds them all). The arguments are checked here, before the first one."""
    n_trials, seed, space = check_n_trials(n_trials), check_seed(seed), check_space(space)
    skip = frozenset(skip)

    def trials():
        for i in range(n_trials):
            if i not in skip:
                yield {"index": i, "params": draw_params(space, seed, i), "seed": trial_seed(seed, i)}

    return trials()


def make_trials(space: Mapping[str, Uniform], n_trials: int, seed: int) -> list[dict]:
    """``[{'index': i, 'params': {...}, 'seed': s_i}, ...]`` for ``i < n_trials`` (a list:
    :func:`iter_trials` makes them lazily)."""
    return list(iter_trials(space, n_trials, seed))
