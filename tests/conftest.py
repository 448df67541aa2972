"""Shared fixtures: every test starts from the same global RNG state (the book seeds
``np.random`` and draws weights from it), and ``rng`` gives a per-test Generator."""
import os

import numpy as np
import pytest
from hypothesis import settings

SEED = 1234

# CI explores the same examples every run (a red CI must be reproducible); a developer's
# runs keep hypothesis's random exploration.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _seed_global_rng():
    """Seed ``np.random`` before each test; restore the previous state afterwards."""
    state = np.random.get_state()
    np.random.seed(SEED)
    yield
    np.random.set_state(state)


@pytest.fixture
def rng():
    """A fresh, fixed-seed ``np.random.Generator`` for test data."""
    return np.random.default_rng(SEED)
