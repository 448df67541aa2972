"""Serial against LocalCluster: the same sweep in this process and on N worker processes.

The serial and cluster runs alternate, so both see the same background load (the 1-minute
load average before and after is returned). Both sides run every trial with BLAS on one
thread (as :func:`run_trial` always does), with the data loaded and the kernels compiled
before timing (a warm-up trial in this process, one on every worker through
``client.run``); the cluster's start-up is timed separately.
``python -m fastprop.sweep.bench [--trials 8 --epochs 5 --dataset mnist --repeats 3]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from .engine import cluster_client, comparable, random_search, run_trial
from .objective import BookObjective, DataSpec
from .space import BOOK_SPACE, make_trials

__all__ = ["serial_vs_cluster", "cpu_model"]


def cpu_model() -> str:
    """``'<model name> (family F, model M), N logical CPUs'`` (the one probe:
    :func:`fastprop.bench.machine.cpu_model`)."""
    from ..bench.machine import cpu_model as probe

    return f"{probe()}, {os.cpu_count()} logical CPUs"


def _warm(objective, data, trial):
    run_trial(trial, objective, data)
    return os.getpid()


def serial_vs_cluster(n_trials: int = 8, epochs: int = 5, n_workers: int | None = None,
                      dataset: str = "mnist", train_size: int = 500, repeats: int = 3,
                      seed: int = 0, say=None, client=None) -> dict:
    """Time ``random_search`` serially (``n_workers=0``) and on a LocalCluster.

    Returns a dict with the per-repeat seconds (``serial_s``, ``cluster_s``), their
    medians, ``speedup`` (serial median / cluster median), ``startup_s`` (LocalCluster
    start, 0 with ``client``), ``n_workers``, ``cpu`` and whether both runs gave the same
    rows (``same``). ``client``: time on that cluster instead of a new LocalCluster.
    """
    n_workers = n_workers or os.cpu_count() or 1
    objective = BookObjective(epochs=epochs)
    data = DataSpec(dataset, train_size=train_size, seed=seed)
    warm_trial = make_trials(BOOK_SPACE, 1, seed + 1)[0]
    kw = dict(space=BOOK_SPACE, objective=objective, n_trials=n_trials, seed=seed, data=data)

    _warm(objective, data, warm_trial)
    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    given = client
    with cluster_client(given, n_workers=n_workers, timeout=60) as client:
        startup = 0.0 if given is not None else time.perf_counter() - t
        n_workers = len(client.scheduler_info()["workers"])
        client.run(_warm, objective, data, warm_trial)
        serial_s, cluster_s, serial, par = [], [], None, None
        for _ in range(repeats):  # interleaved: both sides see the same background load
            t = time.perf_counter()
            serial = random_search(n_workers=0, **kw)
            serial_s.append(time.perf_counter() - t)
            time.sleep(0.2)
            t = time.perf_counter()
            par = random_search(client=client, **kw)
            cluster_s.append(time.perf_counter() - t)
            time.sleep(0.2)
            if say:
                say(f"serial {serial_s[-1]:.3f} s | cluster {cluster_s[-1]:.3f} s")
    same = [comparable(r) for r in serial.rows] == [comparable(r) for r in par.rows]
    med_s, med_c = statistics.median(serial_s), statistics.median(cluster_s)
    trial_s = statistics.median(r["wall_s"] for r in serial.rows)
    return {"n_trials": n_trials, "epochs": epochs, "dataset": dataset, "train_size": train_size,
            "n_workers": n_workers, "cpu": cpu_model(), "serial_s": serial_s,
            "cluster_s": cluster_s, "serial_median_s": med_s, "cluster_median_s": med_c,
            "speedup": med_s / med_c, "startup_s": startup, "trial_median_s": trial_s,
            "same": same, "load_before": load_before, "load_after": os.getloadavg()[0]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m fastprop.sweep.bench", description=__doc__)
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--train-size", type=int, default=500)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)
    r = serial_vs_cluster(a.trials, a.epochs, a.workers, a.dataset, a.train_size, a.repeats,
                          say=print)
    print(f"{r['n_trials']} trials x {r['epochs']} epochs on {r['dataset']} "
          f"({r['train_size']} images), {r['cpu']}")
    print(f"serial (1 process, 1 BLAS thread): median {r['serial_median_s']:.3f} s "
          f"(min {min(r['serial_s']):.3f}, max {max(r['serial_s']):.3f}); "
          f"median trial {r['trial_median_s'] * 1e3:.1f} ms")
    print(f"LocalCluster ({r['n_workers']} worker processes x 1 thread): median "
          f"{r['cluster_median_s']:.3f} s (min {min(r['cluster_s']):.3f}, max "
          f"{max(r['cluster_s']):.3f}); start-up {r['startup_s']:.2f} s")
    print(f"speed-up {r['speedup']:.2f}x; same rows: {r['same']}; load average "
          f"{r['load_before']:.2f} before, {r['load_after']:.2f} after")
    return 0 if r["same"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
