"""Running the trials: in this process, or as tasks on Dask distributed.

Every trial is one task (:func:`run_trial`) submitted with ``retries``; results come
back with :func:`distributed.as_completed` as they finish and are appended to the results
file at once. A worker process that dies mid-trial costs only that trial: the scheduler
gives it to another worker (a task is given up, as ``KilledWorker``, only after it has
taken ``distributed.scheduler.allowed-failures`` workers down with it). Dask is imported
only here and only when a cluster is used.
"""
from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import socket
import time
import traceback
import uuid
from typing import Any, Callable, Iterator

import numpy as np

from .. import validate
from .objective import BookObjective, DataSpec, describe_objective, load_split
from .results import ResultsFile, dumps
from .space import BOOK_SPACE, check_n_trials, check_seed, check_space, iter_trials, space_to_json

__all__ = ["random_search", "run_trial", "cluster_client", "require_distributed",
           "SweepResult", "PIN_ENV", "RUN_INFO", "comparable"]

#: environment of LocalCluster workers: one BLAS/OpenMP thread each, so N workers use N cores
PIN_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "FASTPROP_THREADS": "1"}
#: the Dask setting that, set to None, leaves glibc's malloc adaptive in worker processes
UNSET_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
#: row fields that say where and how fast a trial ran (they differ between runs)
RUN_INFO = ("wall_s", "cpu_s", "worker", "pid", "traceback", "type")
_RESERVED = ("index", "params", "seed", "error") + RUN_INFO
INSTALL_HINT = "pip install -e '.[dist]' in fastprop's checkout, or pip install 'dask[distributed]'"


def require_distributed():
    """The ``distributed`` module, or an ImportError that says how to install it."""
    try:
        import distributed
    except ImportError as e:
        raise ImportError(f"sweeps on a cluster need Dask distributed, which is not installed "
                          f"({e}): {INSTALL_HINT}") from None
    return distributed


def comparable(row: dict) -> dict:
    """``row`` without :data:`RUN_INFO` (what must agree between two runs of a trial)."""
    return {k: v for k, v in row.items() if k not in RUN_INFO}


def _where() -> tuple[str, int]:
    try:
        from distributed import get_worker

        return get_worker().address, os.getpid()
    except (ImportError, ValueError):
        return f"local:{socket.gethostname()}", os.getpid()


def run_trial(trial: dict, objective: Callable, data: DataSpec, blas_threads: int = 1) -> dict:
    """Run one trial in this process and return its row.

    The data comes from this process's cache (loaded on first use); the global NumPy RNG
    is seeded with the trial's seed for the call and restored afterwards; BLAS is held to
    ``blas_threads`` threads. An exception raised by the objective becomes the row's
    ``error`` (with ``traceback``); one raised while loading data propagates (the task
    fails, Dask retries it, the sweep records the failure if it persists).
    """
    import scipy.linalg.cython_blas  # noqa: F401  (load SciPy's BLAS now, so the limit holds it)
    from threadpoolctl import threadpool_limits

    start, cpu = time.perf_counter(), time.process_time()
    worker, pid = _where()
    row = {"index": trial["index"], "params": dict(trial["params"]), "seed": trial["seed"],
           "error": None}
    split = load_split(data)
    state = np.random.get_state()
    np.random.seed(trial["seed"])
    try:
        with threadpool_limits(limits=blas_threads, user_api="blas"):
            out = objective(dict(trial["params"]), trial["seed"], split)
        validate.check_type(out, dict, "the objective's result", "a dict with a 'val_acc' entry")
        if "val_acc" not in out:  # a dict, the right type, without the entry: a wrong value
            raise ValueError(f"the objective's result must be a dict with a 'val_acc' entry, got the "
                             f"keys {list(out)}")
        clash = sorted(set(out) & set(_RESERVED))
        if clash:
            raise ValueError(f"the objective's result uses reserved keys {clash}")
        out = dict(out)
        for key in ("val_acc", "train_acc"):  # ranked, printed and tabled as numbers
            if key in out:
                out[key] = _accuracy(out[key], key)
        row.update(out)
    except Exception as e:
        row["error"] = f"{type(e).__name__}: {e}"
        row["traceback"] = traceback.format_exc(limit=8)
    finally:
        np.random.set_state(state)
    row.update(wall_s=time.perf_counter() - start, cpu_s=time.process_time() - cpu,
               worker=worker, pid=pid)
    return row


def _accuracy(value, key: str) -> float:
    """An objective's ``val_acc``/``train_acc`` as a Python float (a NumPy scalar is fine); a
    TypeError naming the key for anything else (an array, a list, a string, a bool)."""
    # NaN stays: a diverged trial's accuracy is reported, not an error of the objective
    return validate.check_scalar(value, f"the objective's {key!r}", float, finite=False,
                                 expected="one real number (e.g. float(acc))")


def _score(row: dict) -> float:
    v = row.get("val_acc")
    if row.get("error") or not isinstance(v, (int, float)) or not math.isfinite(v):
        return -math.inf
    return float(v)


class SweepResult:
    """The rows of a finished sweep (sorted by trial index), its config and file."""

    def __init__(self, rows: list[dict], config: dict, path: str | None):
        self.rows = sorted(rows, key=lambda r: r["index"])
        self.config, self.path = config, path

    def best(self, k: int = 20) -> list[dict]:
        """The ``k`` best successful rows, highest ``val_acc`` first (ties: lower index)."""
        ok = [r for r in self.rows if _score(r) > -math.inf]
        return sorted(ok, key=lambda r: (-_score(r), r["index"]))[:k]

    @property
    def errors(self) -> list[dict]:
        return [r for r in self.rows if r.get("error")]

    def table(self, k: int = 20) -> str:
        """The book's "Best-i" listing as a table."""
        best = self.best(k)
        if not best:
            return "no successful trial"
        names = list(best[0]["params"])
        head = f"{'rank':>4}  {'trial':>5}  {'val acc':>7}  {'train acc':>9}  " + "  ".join(
            f"{n:>12}" for n in names) + f"  {'wall s':>6}"
        lines = [head, "-" * len(head)]
        for i, r in enumerate(best, 1):
            tr = r.get("train_acc")
            lines.append(f"{i:>4}  {r['index']:>5}  {r['val_acc']:>7.4f}  "
                         + (f"{tr:>9.4f}" if isinstance(tr, (int, float)) else f"{'-':>9}") + "  "
                         + "  ".join(f"{r['params'][n]:>12.4g}" for n in names)
                         + f"  {r.get('wall_s', 0.0):>6.2f}")
        return "\n".join(lines)


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


@contextlib.contextmanager
def cluster_client(client: Any = None, scheduler: str | None = None, n_workers: int | None = None,
                   timeout: float = 10.0,
                   say: Callable[[str], None] | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: ``client`` itself, one connected to ``scheduler`` (an
    existing cluster; an ``OSError`` after ``timeout`` seconds if nothing answers), or one
    on a new ``LocalCluster`` of ``n_workers`` single-threaded worker processes (default:
    one per core). Whatever this opened is closed on exit."""
    distributed = require_distributed()
    if client is not None:
        yield client
        return
    cluster = None
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except Exception as e:
            raise OSError(f"cannot connect to the Dask scheduler at {scheduler!r} within "
                          f"{timeout:g} s ({type(e).__name__}: {e}); start one with "
                          "'dask scheduler' and give its tcp://HOST:PORT") from None
    else:
        import dask

        # ":0": a free port (the HTTP server starts even without bokeh; never fight over 8787).
        # No MALLOC_TRIM_THRESHOLD_ (Dask's default 65536 turns off glibc's adaptive mmap
        # threshold: every >128 KiB array of a training step is then a fresh mmap, 134k
        # page faults and +60 % CPU per book trial measured here).
        with dask.config.set({UNSET_TRIM: None}):
            cluster = distributed.LocalCluster(
                n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1,
                processes=True, env=dict(PIN_ENV), dashboard_address=":0",
                silence_logs=logging.ERROR)
        client = distributed.Client(cluster, timeout=timeout)
    try:
        if say:
            info = client.scheduler_info()
            where = "LocalCluster" if cluster is not None else scheduler
            say(f"dask: {where}, {len(info.get('workers', {}))} workers, "
                f"scheduler {info.get('address')}")
            if "dashboard" in info.get("services", {}) and (cluster is None or _has_bokeh()):
                say(f"dask dashboard: {client.dashboard_link}")
            elif cluster is not None:
                say("dask dashboard: none (it needs bokeh: pip install bokeh)")
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def sweep_config(space, objective, n_trials, seed, data) -> dict:
    """The header the results file stores (and ``resume`` compares)."""
    import dataclasses

    return {"space": space_to_json(space), "seed": seed, "n_trials": n_trials,
            "data": dataclasses.asdict(data), "objective": describe_objective(objective)}


class _Memory:
    """A results store that keeps rows in memory only."""

    def __init__(self):
        self.rows = []

    def append(self, row):
        dumps(row)  # the same check as the file: the row must be JSON-able
        self.rows.append(row)

    def discard_new(self):
        pass

    def close(self):
        pass


class _Stream:
    """Where finished rows go: the store, the progress bar, the best-so-far line."""

    def __init__(self, store, n_total, progress, say, on_row):
        from tqdm.auto import tqdm

        self.store, self.say, self.on_row = store, say, on_row
        self.best = max((r for r in store.rows if _score(r) > -math.inf), key=_score, default=None)
        self.bar = tqdm(total=n_total, initial=len(store.rows), unit="trial",
                        disable=not progress, dynamic_ncols=True, mininterval=0.25)

    def write(self, msg):
        if self.say:
            (self.bar.write if not self.bar.disable else self.say)(msg)

    def add(self, row):
        self.store.append(row)
        self.bar.update(1)
        if row.get("error"):
            self.write(f"trial {row['index']} failed: {row['error']}")
        elif _score(row) > -math.inf and (self.best is None or _score(row) > _score(self.best)):
            self.best = row
            params = ", ".join(f"{k}={v:.4g}" for k, v in row["params"].items())
            train = row.get("train_acc")
            self.bar.set_postfix(best=f"{row['val_acc']:.4f}", refresh=False)
            self.write(f"best so far: trial {row['index']} val acc {row['val_acc']:.4f} "
                       f"(train {float('nan') if train is None else train:.4f}) | {params}")
        if self.on_row:
            self.on_row(row)

    def close(self):
        self.bar.close()


def random_search(space: dict | None = None, objective: Callable | None = None,
                  n_trials: int = 100, seed: int = 0, *, client: Any = None,
                  results: str | os.PathLike | None = None, resume: bool = False,
                  data: DataSpec | None = None, n_workers: int | None = None,
                  scheduler: str | None = None, retries: int = 2, timeout: float = 10.0,
                  progress: bool = False, say: Callable[[str], None] | None = None,
                  on_row: Callable[[dict], None] | None = None) -> SweepResult:
    """Random search: ``n_trials`` draws from ``space``, each trained by ``objective``.

    Parameters
    ----------
    space : dict, optional
        ``{name: Uniform | LogUniform}``; default :data:`BOOK_SPACE` (lr = 10^U(-6, -2),
        weight_decay = 10^U(-8, -4)).
    objective : callable, optional
        Picklable ``objective(params, seed, data) -> dict`` with a ``'val_acc'`` entry;
        default :class:`BookObjective` (50 epochs).
    n_trials, seed : int
        Trial ``i`` has parameters and a training seed derived from ``seed`` and ``i``
        only (:func:`fastprop.sweep.space.make_trials`).
    client : distributed.Client, optional
        Run on this client's cluster. Otherwise ``scheduler`` (an address such as
        ``tcp://HOST:PORT``) is connected to, or a ``LocalCluster`` of ``n_workers`` worker
        processes (default: one per core) is started and closed; ``n_workers=0`` runs the
        trials one after another in this process, without Dask.
    results : path, optional
        JSON-lines results file (:mod:`fastprop.sweep.results`); ``resume=True`` continues
        one, skipping the trials it already has (finished or failed).
    data : DataSpec, optional
        Default ``DataSpec('mnist', train_size=500, validation_rate=0.2, seed=seed)``.
    retries : int
        Dask retries of a task whose data loading raised.
    timeout : float
        Seconds to wait for a scheduler to answer.
    progress, say, on_row
        A tqdm bar; a function printing the best-so-far and failure lines (e.g. ``print``);
        a function called with each row as it arrives.

    Returns
    -------
    SweepResult
        Every trial's row (previous ones too when resuming), sorted by index.
    """
    space = check_space(BOOK_SPACE if space is None else space)
    objective = BookObjective() if objective is None else objective
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    data = DataSpec(seed=seed) if data is None else data
    validate.check_type(data, DataSpec, "data", "a DataSpec")
    if n_workers is not None:
        n_workers = validate.check_scalar(n_workers, "n_workers", int, low=0)
    if n_workers == 0 and (client is not None or scheduler):
        raise ValueError("n_workers=0 runs in this process: do not also give client or scheduler")
    n_trials, seed = check_n_trials(n_trials), check_seed(seed)
    config = sweep_config(space, objective, n_trials, seed, data)
    if n_workers != 0:
        require_distributed()  # before the results file exists
    if results is not None:
        store = ResultsFile.open(os.fspath(results), config, resume=resume)
    else:
        store = _Memory()
    ok = False
    try:
        done = {r["index"] for r in store.rows}
        n_pending = n_trials - sum(1 for i in done if i < n_trials)
        pending = iter_trials(space, n_trials, seed, skip=done)  # drawn as they are submitted
        stream = _Stream(store, len(done) + n_pending, progress, say, on_row)
        try:
            if n_pending and n_workers == 0:
                for t in pending:
                    stream.add(_serial_row(t, objective, data))
            elif n_pending:
                with cluster_client(client, scheduler, n_workers, timeout, say) as c:
                    _on_cluster(c, pending, objective, data, retries, stream)
        finally:
            stream.close()
        ok = True
        return SweepResult(list(store.rows), config, None if results is None else store.path)
    finally:
        if not ok and not store.rows:
            # nothing ran (no scheduler answered, an interrupt before the first row): leave no
            # header-only file behind to block the identical retry
            store.discard_new()
        store.close()


def _failed_row(trial: dict, exc: BaseException) -> dict:
    return {"index": trial["index"], "params": dict(trial["params"]), "seed": trial["seed"],
            "error": f"{type(exc).__name__}: {exc}", "wall_s": None, "worker": None, "pid": None}


def _serial_row(trial, objective, data):
    try:
        return run_trial(trial, objective, data)
    except Exception as e:
        return _failed_row(trial, e)


def _in_flight(client) -> int:
    """How many trials to keep submitted at once: enough to keep every worker thread busy
    (and workers that join later), few enough that a sweep of 10**8 trials never holds more
    than a window of them, in this process or on the scheduler."""
    try:
        threads = sum(client.nthreads().values())
    except Exception:
        threads = 0
    return max(4 * threads, 32)


def _on_cluster(client, pending, objective, data, retries, stream):
    distributed = require_distributed()
    token = uuid.uuid4().hex[:10]
    futures = {}
    done = distributed.as_completed()

    def submit(n):
        for t in itertools.islice(pending, n):
            fut = client.submit(run_trial, t, objective, data, retries=retries, pure=False,
                                key=f"fastprop-trial-{token}-{t['index']}")
            futures[fut.key] = (fut, t)
            done.add(fut)

    try:
        submit(_in_flight(client))
        for fut in done:
            trial = futures[fut.key][1]
            if fut.status == "finished":
                row = fut.result()
            else:
                row = _failed_row(trial, fut.exception())
            stream.add(row)
            futures.pop(fut.key)
            fut.release()
            submit(1)  # the next trial takes the finished one's place
    finally:
        if futures:  # interrupted: take the rest off the cluster
            client.cancel([f for f, _ in futures.values()])
