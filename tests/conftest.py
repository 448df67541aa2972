"""Shared fixtures: every test starts from the same global RNG state (the book seeds
``np.random`` and draws weights from it), and ``rng`` gives a per-test Generator."""
import numpy as np
import pytest

SEED = 1234


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
