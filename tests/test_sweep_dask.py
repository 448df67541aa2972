"""fastprop.sweep on real Dask clusters (LocalClusters of worker processes, no mocks):
cluster results equal a serial run, on 2 and on 8 workers; a failing trial; data loaded
once per worker; a worker killed mid-sweep; resume after an interrupted run; bad
addresses and spaces fail in seconds."""
import os
import signal
import time

import pytest

distributed = pytest.importorskip("distributed")

from fastprop import cli  # noqa: E402
from fastprop.sweep import BookObjective, DataSpec, LogUniform, cluster_client, comparable, random_search, read_rows  # noqa: E402
from fastprop.sweep import objective as objective_module  # noqa: E402

SPACE = {"lr": LogUniform(-2, -1), "weight_decay": LogUniform(-8, -4)}
DATA = DataSpec("synthetic", train_size=300, seed=2)


@pytest.fixture(scope="module")
def client():
    with cluster_client(n_workers=2, timeout=30) as c:
        yield c


def _sweep(n, seed, objective=None, **kw):
    return random_search(SPACE, objective or BookObjective(epochs=3), n, seed, data=DATA, **kw)


def _same(a, b):
    assert [r["index"] for r in a.rows] == [r["index"] for r in b.rows]
    assert [comparable(r) for r in a.rows] == [comparable(r) for r in b.rows]


def test_cluster_equals_serial_and_loads_data_once_per_worker(client):
    serial = _sweep(8, 1, n_workers=0)
    par = _sweep(8, 1, client=client)
    _same(par, serial)
    assert all(r["error"] is None for r in par.rows)
    workers = {r["worker"] for r in par.rows}
    assert len(workers) == 2 and all(w.startswith("tcp://") for w in workers)
    assert len({r["pid"] for r in par.rows} & {os.getpid()}) == 0
    loads = client.run(lambda: objective_module.LOADS[DATA])
    assert all(loads[w] == 1 for w in workers)  # 8 trials, one load per worker


def _worker_env():
    import scipy.linalg.cython_blas  # noqa: F401  (load SciPy's BLAS as the kernels do)
    from threadpoolctl import threadpool_info

    return (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OPENBLAS_NUM_THREADS"),
            sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}))


def test_local_workers_are_pinned_to_one_blas_thread_and_keep_malloc_adaptive(client):
    envs = client.run(_worker_env)
    assert len(envs) == 2
    assert all(e == (None, "1", [1]) for e in envs.values()), envs


def test_eight_workers_give_the_table_of_one(tmp_path):
    one = _sweep(8, 5, n_workers=0, results=tmp_path / "one.jsonl")
    with cluster_client(n_workers=8, timeout=60) as c:
        eight = _sweep(8, 5, client=c, results=tmp_path / "eight.jsonl")
    _same(eight, one)
    assert one.table(8).split("wall s")[0] == eight.table(8).split("wall s")[0]
    strip = [(r["index"], r["val_acc"], r["train_acc"]) for r in eight.best(8)]
    assert strip == [(r["index"], r["val_acc"], r["train_acc"]) for r in one.best(8)]
    assert len({r["pid"] for r in eight.rows}) >= 3  # really spread over the workers


def _fails_for_high_lr(params, seed, data):
    if params["lr"] > 0.038:
        raise ArithmeticError("diverged (test)")
    return BookObjective(epochs=2)(params, seed, data)


def test_a_failing_trial_is_recorded_on_the_cluster(client):
    res = _sweep(8, 3, objective=_fails_for_high_lr, client=client)
    bad = [r for r in res.rows if r["error"]]
    assert len(res.rows) == 8 and 0 < len(bad) < 8
    assert all(r["error"] == "ArithmeticError: diverged (test)" for r in bad)
    assert all(r["params"]["lr"] > 0.038 for r in bad)
    _same(res, _sweep(8, 3, objective=_fails_for_high_lr, n_workers=0))


class _Marked:
    """BookObjective that leaves a file per start (which trial, which process) in ``folder``."""

    def __init__(self, folder, epochs):
        self.folder, self.inner = str(folder), BookObjective(epochs=epochs)

    def __call__(self, params, seed, data):
        open(os.path.join(self.folder, f"{seed}-{os.getpid()}"), "w").close()
        return self.inner(params, seed, data)


def _started(marks):
    """{seed: {pid, ...}} of the trials that were started."""
    starts = {}
    for name in os.listdir(marks):
        seed, pid = name.split("-")
        starts.setdefault(int(seed), set()).add(int(pid))
    return starts


def test_killing_a_worker_mid_sweep_loses_no_trial(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    objective = _Marked(marks, epochs=40)  # ~0.3 s trials: long enough to kill one mid-trial
    finished, killed = set(), []
    with cluster_client(n_workers=2, timeout=30) as c:
        def kill_one(row):
            finished.add(row["seed"])
            if killed:
                return
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                # a trial that has started (its mark exists) and not finished: mid-trial
                running = [p for s, pids in _started(marks).items() if s not in finished
                           for p in pids if p != row["pid"]]
                if running:
                    os.kill(running[0], signal.SIGKILL)
                    killed.append(running[0])
                    return
                time.sleep(0.01)

        res = _sweep(6, 9, objective=objective, client=c, results=tmp_path / "r.jsonl",
                     on_row=kill_one)
        alive = set(c.run(os.getpid).values())
    assert killed and killed[0] not in alive
    assert sorted(r["index"] for r in res.rows) == list(range(6))
    assert all(r["error"] is None for r in res.rows)
    rerun = [s for s, pids in _started(marks).items() if killed[0] in pids and len(pids) > 1]
    assert rerun, "the killed worker's trial was started again elsewhere"
    assert all(r["pid"] != killed[0] for r in res.rows if r["seed"] in rerun)
    serial = _sweep(6, 9, objective=BookObjective(epochs=40), n_workers=0)
    _same(res, serial)
    assert len(read_rows(tmp_path / "r.jsonl")[1]) == 6


def test_resume_an_interrupted_cluster_sweep(client, tmp_path):
    path = tmp_path / "r.jsonl"
    seen = []

    def interrupt(row):
        seen.append(row["index"])
        if len(seen) == 2:
            raise KeyboardInterrupt  # what Ctrl-C does in the client

    with pytest.raises(KeyboardInterrupt):
        _sweep(7, 4, client=client, results=path, on_row=interrupt)
    assert len(read_rows(path)[1]) == 2
    ran = []
    res = _sweep(7, 4, client=client, results=path, resume=True,
                 on_row=lambda r: ran.append(r["index"]))
    assert sorted(ran) == sorted(set(range(7)) - set(seen))
    _same(res, _sweep(7, 4, n_workers=0))


def test_bad_scheduler_address_fails_in_seconds():
    start = time.perf_counter()
    with pytest.raises(OSError, match="cannot connect to the Dask scheduler"):
        _sweep(2, 0, scheduler="tcp://127.0.0.1:1", timeout=2)
    assert time.perf_counter() - start < 15


def test_bad_scheduler_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    with pytest.raises(SystemExit) as e:
        cli.main(["sweep", "--dataset", "synthetic", "--no-plot", "--no-progress",
                  "--scheduler", "tcp://127.0.0.1:1", "--timeout", "2"])
    assert e.value.code == 2
    assert "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:1'" in capsys.readouterr().err
    assert time.perf_counter() - start < 15


def test_bad_space_on_a_cluster_is_an_error_before_any_task(client):
    start = time.perf_counter()
    with pytest.raises(TypeError, match="LogUniform"):
        random_search({"lr": (1e-6, 1e-2)}, client=client)
    assert time.perf_counter() - start < 2


def test_command_on_an_existing_cluster(client, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    address = client.scheduler.address
    rc = cli.main(["sweep", "--dataset", "synthetic", "--trials", "4", "--epochs", "2",
                   "--train-size", "200", "--no-progress", "--scheduler", address,
                   "--plot", "best.png"])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"dask: {address}, 2 workers" in out and "best so far: trial" in out
    assert "4 trials (0 failed)" in out and "results in fastprop-sweep.jsonl" in out
    assert out.count("\n   ") >= 4  # the table's rows
    assert (tmp_path / "best.png").read_bytes()[:4] == b"\x89PNG"
    assert len(read_rows(tmp_path / "fastprop-sweep.jsonl")[1]) == 4
    # --resume of a finished sweep runs nothing and prints the same table
    rc = cli.main(["sweep", "--dataset", "synthetic", "--trials", "4", "--epochs", "2",
                   "--train-size", "200", "--no-progress", "--scheduler", address,
                   "--resume", "--no-plot"])
    assert rc == 0 and "4 trials (0 failed)" in capsys.readouterr().out


def test_the_default_local_cluster_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["sweep", "--dataset", "synthetic", "--trials", "3", "--epochs", "2",
                   "--train-size", "200", "--workers", "2", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0 and "dask: LocalCluster, 2 workers" in out
    assert "dask dashboard:" in out
    assert "plot of the best 3 trials written to fastprop-sweep.png" in out


def test_benchmark_runs_and_compares_equal_rows(client):
    from fastprop.sweep.bench import serial_vs_cluster

    r = serial_vs_cluster(n_trials=2, epochs=1, dataset="synthetic", train_size=200,
                          repeats=1, client=client)
    assert r["same"] is True and r["n_workers"] == 2
    assert r["serial_s"][0] > 0 and r["cluster_s"][0] > 0 and r["speedup"] > 0
    assert "CPU" in r["cpu"]


def test_a_failed_scheduler_connection_leaves_no_file_to_block_the_retry(tmp_path, monkeypatch, capsys):
    path = tmp_path / "r.jsonl"
    for _ in range(2):  # the identical retry fails the same way, not with "already exists"
        with pytest.raises(OSError, match="cannot connect to the Dask scheduler"):
            _sweep(2, 0, scheduler="tcp://127.0.0.1:1", timeout=2, results=path)
        assert not path.exists()
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        with pytest.raises(SystemExit) as e:
            cli.main(["sweep", "--dataset", "synthetic", "--no-plot", "--no-progress",
                      "--scheduler", "tcp://127.0.0.1:1", "--timeout", "2"])
        err = capsys.readouterr().err
        assert e.value.code == 2 and "cannot connect" in err and "already exists" not in err, err
    assert not (tmp_path / "fastprop-sweep.jsonl").exists()


def _instant(params, seed, data):
    return {"val_acc": 0.5}


def test_a_huge_sweep_on_a_cluster_submits_a_window_of_trials(client):
    """10**8 trials: rows arrive at once, and only a window of tasks is ever on the cluster."""
    seen, on_cluster = [], []

    def row(r):
        seen.append(r["index"])
        on_cluster.append(len(client.who_has()))
        if len(seen) == 40:
            raise KeyboardInterrupt

    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        _sweep(10**8, 0, objective=_instant, client=client, on_row=row)
    assert time.perf_counter() - start < 30
    assert len(seen) == 40 and max(on_cluster) <= 64, max(on_cluster)
