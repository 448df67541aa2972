"""fastprop bench --script / --startup: whole runs in subprocesses (fastprop.bench.scripts)."""
import json
import os

import pytest

from fastprop.bench import command, scripts

SCRIPT = """import sys, os
sys.path.append(os.pardir)
import numpy as np
from common.functions import softmax
x = np.random.rand(50, 10)
print(float(softmax(x).sum()))
"""

FUNCTIONS = """import numpy as np
def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
"""


@pytest.fixture
def book(tmp_path):
    """A tiny checkout: common/functions.py and a chapter script that imports it."""
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("")
    (tmp_path / "common" / "functions.py").write_text(FUNCTIONS)
    (tmp_path / "ch03").mkdir()
    script = tmp_path / "ch03" / "run_softmax.py"
    script.write_text(SCRIPT)
    return script


def test_a_script_is_timed_by_the_book_and_by_fastprop_run(book):
    rows = scripts.time_script(str(book), [1], reps=2, volume=1)
    (row,) = rows
    assert row["threads"] == 1 and row["busy"] == 0
    for side in ("book", "fastprop"):
        s = row[side]
        assert len(s["runs"]) == 2 and 0 < s["min"] <= s["median"] <= s["max"]
    assert row["speedup"] == pytest.approx(row["book"]["median"] / row["fastprop"]["median"])
    assert "speed-up" in scripts.format_scripts(str(book), rows)[1]


def test_a_failing_script_is_an_error_that_shows_its_output(book):
    book.write_text("raise SystemExit('the script broke')\n")
    with pytest.raises(RuntimeError, match="the script broke"):
        scripts.time_script(str(book), [1], reps=1, volume=1)


def test_script_outside_a_checkout_or_missing_is_refused(tmp_path, book):
    with pytest.raises(ValueError, match="is not a file"):
        scripts.check_script(str(tmp_path / "nope.py"))
    lone = tmp_path / "elsewhere" / "ch01" / "x.py"
    lone.parent.mkdir(parents=True)
    lone.write_text("")
    with pytest.raises(ValueError, match="no common/ folder"):
        scripts.check_script(str(lone))
    assert scripts.check_script(str(book))[2] == str(book.parent.parent)


def test_busy_processes_run_during_the_block_and_stop():
    with scripts.busy_processes(2, seconds=30) as procs:
        assert len(procs) == 2 and all(p.poll() is None for p in procs)
    assert all(p.poll() is not None for p in procs)


def test_startup_reports_import_cold_and_warm(tmp_path):
    res = scripts.time_startup(reps=1)
    for key in ("import", "import_used", "cold", "warm"):
        assert res[key]["median"] > 0
    # the warm run loads what the cold one compiled; the package alone imports less than
    # the package with what the first step uses (its modules are imported on first use)
    assert res["warm"]["median"] < res["cold"]["median"]
    assert res["import"]["median"] < res["import_used"]["median"]
    assert len(scripts.format_startup(res)) == 5


def test_command_line_runs_the_script_block_and_writes_json(book, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert command.main(["--script", str(book), "--runs", "1", "--threads", "1", "--quiet",
                         "--volume", "1",
                         "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "book script end to end" in text
    data = json.loads(out.read_text())
    assert data["script"]["rows"][0]["threads"] == 1
    assert os.path.basename(data["script"]["path"]) == "run_softmax.py"


def test_default_threads_leave_every_library_to_its_own_default(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    monkeypatch.setenv("FASTPROP_THREADS", "7")
    env = scripts._env(None)
    assert "OPENBLAS_NUM_THREADS" not in env and "FASTPROP_THREADS" not in env
    env = scripts._env(2)
    assert env["OPENBLAS_NUM_THREADS"] == env["FASTPROP_THREADS"] == "2"
