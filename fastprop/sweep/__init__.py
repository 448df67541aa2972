"""Hyperparameter sweeps on Dask distributed (vol. 1 ch. 6's random search).

``random_search(space, objective, n_trials, seed, client=None, results=PATH)`` runs the
trials as Dask tasks (a ``LocalCluster`` of worker processes by default, or any cluster
through ``client=``/``scheduler=``) and streams their rows into a resumable JSON-lines
file; ``fastprop sweep`` is the command line. Importing this package does not import
Dask: only running on a cluster does (``pip install -e '.[dist]'`` in fastprop's checkout).
"""
from .engine import SweepResult, cluster_client, comparable, random_search, run_trial
from .objective import BookObjective, DataSpec, load_split, synthetic_mnist
from .results import ResultsFile, read_rows
from .space import BOOK_SPACE, LogUniform, Uniform, make_trials, parse_space, trial_seed

__all__ = ["random_search", "SweepResult", "cluster_client", "comparable", "run_trial",
           "BookObjective", "DataSpec", "load_split", "synthetic_mnist", "ResultsFile",
           "read_rows", "BOOK_SPACE", "LogUniform", "Uniform", "make_trials", "parse_space",
           "trial_seed"]
