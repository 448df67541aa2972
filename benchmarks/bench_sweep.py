"""Sweeps: the same small sweep (synthetic MNIST-shaped data, 4 trials of 2 epochs) serially
in the benchmark process and on a LocalCluster of 2 worker processes (started, with the
data loaded and the kernels compiled on every worker, in ``setup``). The full comparison
at a realistic size is ``fastprop.sweep.bench.serial_vs_cluster``."""
import importlib.util

from ._memo import memo

if importlib.util.find_spec("fastprop.sweep") is not None:
    from fastprop import sweep as fs  # a broken fastprop.sweep fails the suite, as it should
    from fastprop.sweep import bench as fsb
else:  # history runs of commits from before fastprop.sweep: skipped below
    fs = fsb = None

N_TRIALS, EPOCHS = 4, 2


def _need(module="fastprop.sweep"):
    if fs is None or importlib.util.find_spec(module) is None:
        raise NotImplementedError(f"no {module} in this environment")  # asv: skipped


def _kw():
    return dict(space=fs.BOOK_SPACE, objective=fs.BookObjective(epochs=EPOCHS),
                n_trials=N_TRIALS, seed=0, data=fs.DataSpec("synthetic", train_size=500))


def _warm_trial():
    kw = _kw()
    return fs.make_trials(kw["space"], 1, 1)[0], kw["objective"], kw["data"]


class SweepSerial:
    """4 trials one after another in this process (``n_workers=0``)."""

    timeout = 120

    def setup(self):
        _need()
        trial, objective, data = _warm_trial()
        memo(("sweep-serial-warm",), lambda: fs.run_trial(trial, objective, data))

    def time_serial(self):
        fs.random_search(n_workers=0, **_kw())


class SweepLocalCluster:
    """The same 4 trials as Dask tasks on 2 worker processes (start-up not timed)."""

    timeout = 180

    def setup(self):
        _need("distributed")

        def build():
            cm = fs.cluster_client(n_workers=2, timeout=60)
            client = cm.__enter__()  # closed when the benchmark process exits
            trial, objective, data = _warm_trial()
            client.run(fsb._warm, objective, data, trial)
            return cm, client
        self.client = memo(("sweep-cluster",), build)[1]

    def time_cluster(self):
        fs.random_search(client=self.client, **_kw())
