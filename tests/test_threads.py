"""fastprop.threads: one limit reaches every BLAS, including SciPy's that the kernels load late;
the auto policy's decisions (a fake /proc for the rules, a real busy process for the measurement)."""
import os
import subprocess
import sys
import time

import pytest

from fastprop import threads

SCRIPT = """
from fastprop import threads
threads.set_threads(1)
import numpy as np
from fastprop.kernels import affine
a = np.ones((4, 3)); w = np.ones((3, 2)); out = np.empty((4, 2))
affine.affine_forward(a, w, None, out, 0)  # the first compiled GEMM loads SciPy's BLAS if not yet
info = threads.blas_info()
assert info and all(n == 1 for _, n, _, _ in info), info
print("ok", len(info))
"""


def test_set_threads_limits_the_kernels_blas_too(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    env.pop("FASTPROP_THREADS", None)
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok")


SPIN = """
import os
import fastprop.threads  # imported by every layer and net before any parallel kernel runs
print(os.environ.get("GOMP_SPINCOUNT"))
"""


@pytest.mark.parametrize("given", [None, "12345"])
def test_import_shortens_openmp_spinning_unless_the_user_chose(given):
    env = dict(os.environ)
    env.pop("GOMP_SPINCOUNT", None)
    if given is not None:
        env["GOMP_SPINCOUNT"] = given
    r = subprocess.run([sys.executable, "-c", SPIN], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (given or str(threads.OMP_SPIN))


# ---------------------------------------------------------------- the auto policy



class FakeMachine:
    """/proc/stat and our own CPU time, advanced by hand: ``run(seconds, ours, others)``."""

    def __init__(self, monkeypatch, cores=2):
        self.t, self.busy, self.own, self.running = 100.0, 0.0, 0.0, 1
        monkeypatch.setattr(threads, "usable_cores", lambda: cores)
        monkeypatch.setattr(threads, "_read_proc_stat", lambda cpus: (self.busy, self.running))
        monkeypatch.setattr(threads, "_own_cpu_seconds", lambda: self.own)
        monkeypatch.setattr(threads.time, "monotonic", lambda: self.t)

    def run(self, seconds, ours, others):
        self.t += seconds
        self.own += ours * seconds
        self.busy += (ours + others) * seconds


@pytest.fixture
def governor(monkeypatch):
    machine = FakeMachine(monkeypatch)
    gov = threads._Governor()
    return machine, gov


def decide(machine, gov, seconds, ours, others):
    machine.run(seconds, ours, others)
    gov.current = gov.decide(machine.t)
    return gov.current


def test_auto_takes_every_core_on_an_idle_machine(governor):
    machine, gov = governor
    assert decide(machine, gov, 1.0, ours=1.0, others=0.05) == 2


def test_auto_gives_up_a_core_while_another_process_holds_one(governor):
    machine, gov = governor
    assert decide(machine, gov, 1.0, ours=1.0, others=0.0) == 2
    assert decide(machine, gov, 0.5, ours=1.3, others=0.7) == 1   # time-sliced with us
    assert decide(machine, gov, 0.5, ours=1.0, others=1.0) == 1
    assert decide(machine, gov, 0.5, ours=1.0, others=0.0) == 2   # it finished: back


def test_auto_does_not_flap_on_a_borderline_load(governor):
    machine, gov = governor
    assert decide(machine, gov, 0.5, ours=1.0, others=0.8) == 1
    # 0.2 cores of someone else: not enough to drop a core, not little enough to take it back
    assert decide(machine, gov, 0.5, ours=1.0, others=0.2) == 1
    assert decide(machine, gov, 0.5, ours=1.0, others=0.05) == 2
    assert decide(machine, gov, 0.5, ours=2.0, others=0.2) == 2


def test_auto_first_decision_soon_after_import_reads_the_running_tasks(governor):
    machine, gov = governor
    machine.t += 0.01            # too short a window to measure
    machine.running = 2          # us and one other task
    assert gov.decide(machine.t) == 1
    machine.running = 1
    gov2 = threads._Governor()
    machine.t += 0.01
    assert gov2.decide(machine.t) == 2


def test_poll_respects_a_fixed_policy_and_thread_limit(monkeypatch):
    monkeypatch.setattr(threads, "_policy", "auto")
    monkeypatch.setattr(threads, "_fixed", None)
    try:
        threads.set_threads(1)
        assert threads.poll() == 1 and threads.current() == 1
        assert threads.describe() == "threads 1 (fixed)"
        with threads.thread_limit(2):
            assert threads.poll() == 2
        assert threads.poll() == 1
    finally:
        threads.set_threads("auto")
    assert threads.get_threads() == "auto"
    assert threads.describe().startswith("threads auto: ")


def test_parallel_region_pins_blas_to_one_thread_until_it_is_idle(monkeypatch):
    import numba

    threads.set_threads(2)
    try:
        with threads.parallel_region() as n:
            assert n == min(2, numba.config.NUMBA_NUM_THREADS)
            assert all(t == 1 for _, t, _, _ in threads.blas_info())
        # still one thread right after (a conv net alternates prange layers and small
        # GEMMs: switching back and forth made its 2-thread step slower than 1 thread) ...
        threads.poll()
        assert all(t == 1 for _, t, _, _ in threads.blas_info())
        # ... until no parallel region has run for INTERVAL seconds
        time.sleep(threads.INTERVAL + 0.05)
        threads.poll()
        assert all(t == 2 for _, t, _, _ in threads.blas_info())
    finally:
        threads.set_threads("auto")


def test_a_one_off_parallel_region_gives_the_blas_its_threads_back_at_once(monkeypatch):
    """An evaluation pass between training steps (linger=False) must not leave the steps
    after it on one BLAS thread (the ch05 script's 2-thread steps ran on one for 0.5 s
    after every evaluation)."""
    monkeypatch.setattr(threads, "_pinned_until", 0.0)  # no conv kernel ran just before
    threads.set_threads(2)
    try:
        threads.poll()
        with threads.parallel_region(linger=False):
            assert all(t == 1 for _, t, _, _ in threads.blas_info())
        assert all(t == 2 for _, t, _, _ in threads.blas_info())
    finally:
        threads.set_threads("auto")


@pytest.mark.parametrize("bad", [2.7, True, "2.5", "many", 0, -1])
def test_set_threads_refuses_what_is_not_a_positive_integer(bad):
    with pytest.raises((TypeError, ValueError), match="'auto' or a positive integer"):
        threads.set_threads(bad)
    assert threads.get_threads() == "auto"


BUSY = "import time\nend = time.time() + 20\nwhile time.time() < end:\n    pass\n"


@pytest.mark.skipif(threads.usable_cores() < 2, reason="needs two cores to give one up")
def test_auto_measures_a_real_busy_process_and_drops_to_one_thread():
    """A real process spinning on every other core: the next decision after a full window
    is one thread (the measurement, not a mock: /proc/stat and this process's times)."""
    others = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(threads.usable_cores() - 1)]
    try:
        gov = threads._Governor()
        time.sleep(threads.INTERVAL + 0.2)
        n = gov.decide(time.monotonic())
        assert n == 1, f"others used {gov.others:.2f} cores, decided {n}"
    finally:
        for p in others:
            p.kill()
            p.wait()


def test_a_forked_child_measures_its_own_windows():
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    threads.poll()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: fresh governor state
        ok = threads._governor is None and threads._applied is None
        os.write(w, b"1" if ok else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"



STAT = b"""cpu  700 300 100 5000 10 5 5 20 0 0
cpu0 400 100 50 2500 5 0 5 10 0 0
cpu1 300 200 50 2500 5 5 0 10 0 0
intr 1 2 3
procs_running 3
"""


def test_proc_stat_counts_busy_time_of_our_cores_without_niced_tasks(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_bytes(STAT)
    monkeypatch.setattr(threads, "_niced", lambda: False)
    busy, running = threads._read_proc_stat(None, str(stat))
    tick = threads._TICK
    # user + system + irq + softirq + steal of both cores; nice, idle and iowait left out
    assert busy == pytest.approx((400 + 50 + 0 + 5 + 10 + 300 + 50 + 5 + 0 + 10) / tick)
    assert running == 3
    assert threads._read_proc_stat(frozenset({1}), str(stat))[0] == pytest.approx(365 / tick)
    monkeypatch.setattr(threads, "_niced", lambda: True)   # our own time is in the nice column
    assert threads._read_proc_stat(frozenset({1}), str(stat))[0] == pytest.approx(565 / tick)
    assert threads._read_proc_stat(None, str(tmp_path / "missing")) is None


PIN = """
from fastprop import threads
threads.set_threads(2)
def kernel_threads():
    return [c.get_num_threads() for c in threads._kernel_controllers()]
assert kernel_threads() == [2], kernel_threads()
with threads.one_thread_for(20 * 100 * 400):  # the (20, 100) @ (100, 400) LSTM step: pinned
    assert kernel_threads() == [1], kernel_threads()
assert kernel_threads() == [2]
for work in (1 * 128 * 512, 128 * 128 * 512):  # OpenBLAS alone already; big enough to split
    with threads.one_thread_for(work):
        assert kernel_threads() == [2], (work, kernel_threads())
try:
    with threads.one_thread_for(800_000):
        raise KeyError("boom")
except KeyError:
    pass
assert kernel_threads() == [2], "restored after an exception"
# the layers use it: a small TimeLSTM runs its loops on one thread and gives the threads back
import numpy as np
from fastprop.layers import TimeLSTM
seen = []
real = threads.one_thread_for.__enter__
def spy(self):
    r = real(self)
    seen.append(kernel_threads()[0])
    return r
threads.one_thread_for.__enter__ = spy
rng = np.random.default_rng(0)
lstm = TimeLSTM(rng.standard_normal((100, 400)), rng.standard_normal((100, 400)), np.zeros(400))
lstm.backward(np.ones_like(lstm.forward(rng.standard_normal((20, 3, 100)))))
assert seen == [1, 1], seen
assert kernel_threads() == [2]
print("ok")
"""


def test_small_step_gemms_run_on_one_thread_and_give_the_threads_back():
    # the run's own Numba cache: what is checked is the thread switching, not compilation
    # (a fresh cache here compiled the LSTM kernels again: ~30 s of a cold CI run)
    env = dict(os.environ)
    env.pop("FASTPROP_THREADS", None)
    r = subprocess.run([sys.executable, "-c", PIN], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok")


def test_run_split_runs_every_share_at_once_and_raises_the_first_error():
    import threading

    seen, barrier = [], threading.Barrier(3, timeout=10)

    def work(t):
        barrier.wait()  # all three shares must be running together to get past this
        seen.append((t, threading.current_thread() is threading.main_thread()))

    threads.run_split(work, 3)
    assert sorted(seen) == [(0, True), (1, False), (2, False)]

    def fails(t):
        if t == 1:
            raise ValueError("share 1")

    with pytest.raises(ValueError, match="share 1"):
        threads.run_split(fails, 2)
    threads.run_split(seen.append, 1)  # one share: on this thread, no pool
    assert seen[-1] == 0
