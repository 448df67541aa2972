"""Facts about the machine a benchmark ran on: CPU, usable cores, the BLAS pools loaded,
library versions, the import time of fastprop, Numba cache hits, and how much CPU time
other processes took while we ran (a busy neighbour distorts every number)."""
import importlib
import os
import platform
import subprocess
import sys
from collections import OrderedDict
from typing import Optional


def cpu_model() -> str:
    """``model name`` from /proc/cpuinfo, with family/model (VMs often hide the name)."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in info:
                    info[key] = value.strip()
                if not line.strip():
                    break  # first processor only
    except OSError:
        pass
    name = info.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in info:
        name += f" (family {info['cpu family']}, model {info.get('model', '?')})"
    return name


def usable_cores() -> int:
    """Cores this process may run on: :func:`fastprop.threads.usable_cores` (the affinity
    mask, capped by a cgroup CPU quota), the count the thread policy works with."""
    from ..threads import usable_cores as cores

    return cores()


def blas_pools() -> list:
    """Every BLAS / OpenMP pool loaded, with the library that brought it, as dicts
    (``file``, ``owner``, ``user_api``, ``api``, ``version``, ``architecture``, ``threads``)."""
    from threadpoolctl import threadpool_info

    owners = (("numpy", "NumPy"), ("scipy", "SciPy (fastprop's kernels)"), ("torch", "PyTorch"))
    pools = []
    for info in threadpool_info():
        path = info.get("filepath", "")
        owner = next((name for key, name in owners if f"{os.sep}{key}" in path), "")
        pools.append({"file": os.path.basename(path), "owner": owner,
                      "user_api": info.get("user_api"), "api": info.get("internal_api"),
                      "version": info.get("version"), "architecture": info.get("architecture"),
                      "threads": info.get("num_threads")})
    return pools


def versions(with_torch: bool) -> OrderedDict:
    """Versions of Python, fastprop, NumPy, Numba, SciPy (and torch when asked)."""
    import numba
    import numpy as np
    import scipy

    from .. import __version__

    found = OrderedDict([("python", platform.python_version()), ("fastprop", __version__),
                         ("numpy", np.__version__), ("numba", numba.__version__),
                         ("scipy", scipy.__version__)])
    if with_torch:
        import torch

        found["torch"] = torch.__version__
    return found


def torch_available() -> bool:
    """Whether PyTorch can be imported."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def import_time() -> Optional[float]:
    """Seconds to ``import fastprop`` and the ch. 5 net with its layers in a fresh
    interpreter (None if that fails). The package imports its modules on first use, so
    ``import fastprop`` alone would time next to nothing; this is what a first step needs."""
    code = ("import time; t = time.perf_counter(); import fastprop; fastprop.TwoLayerNet; "
            "print(time.perf_counter() - t)")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120, check=True)
        return float(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def cache_stats() -> tuple:
    """``(hits, misses)`` of Numba's on-disk cache over every kernel module so far."""
    import pkgutil

    from numba.core.registry import CPUDispatcher

    from .. import kernels

    hits = misses = 0
    for info in pkgutil.iter_modules(kernels.__path__):
        module = importlib.import_module(f"fastprop.kernels.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher):
                hits += sum(obj.stats.cache_hits.values())
                misses += sum(obj.stats.cache_misses.values())
    return hits, misses


def _cpu_jiffies():
    """(busy, total) CPU ticks of the whole machine from /proc/stat (None off Linux)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return sum(ticks[:8]) - idle, sum(ticks[:8])


class LoadMeter:
    """Share of the machine's CPU time that *other* processes used while we ran: a busy
    neighbour (a test run, a build) takes the cores the BLAS threads wait for, and then
    every number in the table is wrong."""

    def __init__(self) -> None:
        self.start = _cpu_jiffies()
        self.own = self._own()

    @staticmethod
    def _own() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def other_share(self) -> Optional[float]:
        """Fraction in [0, 1] of the CPU time since construction used by other processes
        (None where /proc/stat is missing)."""
        end = _cpu_jiffies()
        if self.start is None or end is None:
            return None
        hz = os.sysconf("SC_CLK_TCK")
        busy = (end[0] - self.start[0]) / hz
        total = (end[1] - self.start[1]) / hz
        if total <= 0:
            return None
        return max(0.0, busy - (self._own() - self.own)) / total


def machine_facts() -> OrderedDict:
    """What the report's ``machine`` line shows (and ``--json`` keeps)."""
    return OrderedDict([
        ("cpu", cpu_model()), ("cores", os.cpu_count()), ("usable_cores", usable_cores()),
        ("platform", platform.platform()),
        ("OPENBLAS_CORETYPE", os.environ.get("OPENBLAS_CORETYPE")),
        ("OPENBLAS_L2_SIZE", os.environ.get("OPENBLAS_L2_SIZE"))])
