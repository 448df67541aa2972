"""The ``fastprop`` command, run in process on small data (never the network)."""
import os
import subprocess
import sys
import time

import pytest
from fake_data import fake_mnist

from fastprop import cli, runs
from fastprop.argtypes import Refusal


def test_train_book_loop_prints_progress_summary_and_plot(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(runs, "load_dataset", lambda dataset: (fake_mnist(), 0.0))
    png = tmp_path / "curves.png"
    rc = cli.main(["train", "--iters", "121", "--batch", "10", "--lr", "0.5", "--no-progress",
                   "--plot", str(png)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "60 per epoch" in out and "seed 0" in out
    assert out.count("epoch ") == 3  # iterations 0, 60, 120: the book's evaluation points
    assert "final: train acc" in out and "steps/s" in out
    final_test = float(out.split("final:")[1].split("test acc")[1].split()[0])
    assert final_test > 0.5
    pytest.importorskip("matplotlib")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_float32_and_adam(monkeypatch, capsys):
    monkeypatch.setattr(runs, "load_dataset", lambda dataset: (fake_mnist(), 0.0))
    assert cli.main(["train", "--iters", "20", "--batch", "10", "--optimizer", "adam",
                     "--lr", "0.01", "--dtype", "float32", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "float32" in out and "Adam(lr=0.01)" in out


def test_train_spiral_is_the_books_run(capsys):
    assert cli.main(["train", "--dataset", "spiral", "--epochs", "300", "--no-progress"]) in (0, None)
    out = capsys.readouterr().out
    assert "last averaged loss 0.1087" in out and "train acc 0.9700" in out


def test_data_where_on_an_empty_cache(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path))
    assert cli.main(["data", "where"]) == 1
    out = capsys.readouterr().out
    assert str(tmp_path) in out and "missing" in out


# ---------------------------------------------------------------- bad input: one line, exit 2


def _one_error_line(err, *words):
    """stderr is exactly one ``fastprop: error:`` line holding ``words``, no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastprop: error: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.mark.parametrize("argv, words", [
    (["--threads", "0", "data", "where"], ["--threads", "'auto' or a positive integer, got 0"]),
    (["--threads", "x", "data", "where"], ["--threads", "'auto' or a positive integer, got x"]),
    (["train", "--batch", "0"], ["--batch: must be a positive integer, got 0"]),
    (["train", "--hidden", "ten"], ["--hidden: must be a positive integer, got ten"]),
    (["train", "--lr", "-1"], ["--lr: must be a finite number >= 0, got -1"]),
    (["train", "--lr", "nan"], ["--lr: must be a finite number >= 0, got nan"]),
    (["train", "--lr", "inf"], ["--lr: must be a finite number >= 0, got inf"]),
    (["train", "--seed", "-1"], ["--seed", "0 to 4294967295", "got -1"]),
    (["train", "--dataset", "spiral", "--batch", "1000", "--no-progress"],
     ["--batch must be at most the 300 training rows of spiral, got 1000"]),
    (["train", "--batch", "60001"], ["--batch must be at most the 60000 training rows of mnist"]),
    (["train", "--dataset", "spiral", "--iters", "5"], ["--iters does not apply", "spiral", "--epochs"]),
    (["train", "--epochs", "5"], ["--epochs does not apply", "mnist", "--iters"]),
    (["train", "--dataset", "fashion-mnist", "--epochs", "5"], ["--epochs does not apply"]),
    (["gradcheck", "--tol", "nan"], ["--tol: must be a finite number > 0, got nan"]),
    (["gradcheck", "--tol", "0"], ["--tol: must be a finite number > 0, got 0"]),
    (["bench", "--sizes", "bad"], ["--sizes", "784-50-10/b100", "'bad'"]),
    (["bench", "--sizes", "784-0-10/b100"], ["--sizes", "every number must be positive"]),
    (["bench", "--repeat", "0"], ["--repeat: must be a positive integer, got 0"]),
    (["bench", "--rounds", "0"], ["--rounds: must be a positive integer, got 0"]),
    (["bench", "--budget", "-1"], ["--budget: must be a finite number > 0, got -1"]),
    (["bench", "--budget", "nan"], ["--budget: must be a finite number > 0, got nan"]),
    (["bench", "--peak-size", "0"], ["--peak-size: must be a positive integer, got 0"]),
    (["bench", "--spiral-reps", "-1"], ["--spiral-reps: must be an integer >= 0, got -1"]),
    (["bench", "--threads", "x"], ["--threads: must be a positive integer, got x"]),
    (["data", "import"], ["data import needs a PATH"]),
])
def test_bad_arguments_are_one_error_line_and_nothing_runs(argv, words, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    out = capsys.readouterr()
    _one_error_line(out.err, *words)
    assert out.out == "", "nothing started: no data line, no settings line, no table"


def _fastprop(*argv, module="fastprop", **env):
    """``python -m fastprop ARGV`` in a fresh interpreter: (result, seconds)."""
    full = dict(os.environ)
    full.update(env)
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", module, *argv], capture_output=True, text=True,
                       env=full, timeout=120)
    return r, time.perf_counter() - start


def _refused(r, seconds, *words):
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-500:])
    _one_error_line(r.stderr, *words)
    assert r.stdout == "", "refused before any work: no data line, no training lines"
    assert seconds < 60  # a run that started would load or fetch data and train first


@pytest.mark.parametrize("argv, words", [
    (["train", "--hidden", str(10**9)], ["--hidden 1000000000", "GiB", "MAX_RUN_BYTES"]),
    (["train", "--iters", str(10**12)], ["--iters 1000000000000", "GiB", "MAX_RUN_BYTES"]),
    (["train", "--dataset", "spiral", "--hidden", str(10**9)], ["--hidden 1000000000", "GiB"]),
    (["train", "--dataset", "spiral", "--epochs", str(10**12)], ["--epochs 1000000000000", "GiB"]),
    (["bench", "--sizes", "784-1000000000-10/b100"], ["784-1000000000-10 b100", "GiB"]),
    (["bench", "--sizes", "784-50-10/b100", "--peak-size", str(10**6)], ["peak GEMM", "GiB"]),
], ids=["hidden", "iters", "spiral-hidden", "spiral-epochs", "bench-size", "bench-peak"])
def test_huge_sizes_are_refused_before_allocating(argv, words):
    _refused(*_fastprop(*argv), *words)


def test_bad_fastprop_threads_is_an_error_line_not_an_import_crash():
    r = subprocess.run([sys.executable, "-c", "import fastprop, fastprop.cli; print('imported')"],
                       capture_output=True, text=True, env={**os.environ, "FASTPROP_THREADS": "abc"},
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "imported", r.stderr
    for argv in (["train", "--dataset", "spiral"], ["bench", "--sizes", "20-8-3/b4"]):
        _refused(*_fastprop(*argv, FASTPROP_THREADS="abc"),
                 "FASTPROP_THREADS must be 'auto' or a positive integer, got 'abc'")
    # --threads given on the command line replaces the environment's value
    r, _ = _fastprop("--threads", "1", "data", "where", FASTPROP_THREADS="abc")
    assert r.returncode in (0, 1) and "FASTPROP_THREADS" not in r.stderr


def _unwritable_file(tmp_path):
    if os.geteuid() != 0:
        path = tmp_path / "read-only.png"
        path.write_bytes(b"")
        path.chmod(0o444)
        return str(path)
    if os.path.exists("/sys/kernel/notes"):  # root writes anything else
        return "/sys/kernel/notes"
    pytest.skip("no file this user cannot write")


@pytest.mark.parametrize("dataset", ["mnist", "spiral"])
@pytest.mark.parametrize("case", ["missing folder", "folder", "unwritable"])
def test_plot_path_is_checked_before_training(case, dataset, tmp_path):
    pytest.importorskip("matplotlib")
    path = {"missing folder": str(tmp_path / "no" / "such" / "curves.png"),
            "folder": str(tmp_path),
            "unwritable": _unwritable_file(tmp_path) if case == "unwritable" else None}[case]
    words = {"missing folder": ["does not exist"], "folder": ["is a folder"],
             "unwritable": ["cannot write"]}[case]
    # FASTPROP_DATA is empty here: a check made after loading would fail on the data instead
    _refused(*_fastprop("train", "--dataset", dataset, "--plot", path, "--no-progress"),
             "--plot", path, *words)


def test_json_path_is_checked_before_timing(tmp_path):
    path = str(tmp_path / "missing" / "bench.json")
    _refused(*_fastprop("bench", "--sizes", "20-8-3/b4", "--json", path), "--json", "does not exist")


def test_python_m_fastprop_bench_uses_the_same_convention():
    _refused(*_fastprop("--repeat", "0", module="fastprop.bench"), "--repeat", "positive integer")


def test_the_writable_check_leaves_no_file_and_keeps_an_existing_one(tmp_path):
    from fastprop.argtypes import check_writable_file

    new = tmp_path / "new.png"
    check_writable_file(new, "--plot")
    assert not new.exists()
    old = tmp_path / "old.png"
    old.write_bytes(b"keep me")
    check_writable_file(old, "--plot")
    assert old.read_bytes() == b"keep me"
    with pytest.raises(ValueError, match="empty"):
        check_writable_file("", "--plot")


def test_library_errors_become_one_error_line(monkeypatch, capsys):
    def broken(dataset):
        raise OSError("cannot read /data/train-images-idx3-ubyte.gz")

    monkeypatch.setattr(runs, "load_dataset", broken)
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "--iters", "5"])
    assert exc.value.code == 2
    _one_error_line(capsys.readouterr().err, "cannot read /data/train-images-idx3-ubyte.gz")


def test_module_entry_points_help():
    r = subprocess.run([sys.executable, "-m", "fastprop", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "train" in r.stdout and "bench" in r.stdout
    r = subprocess.run([sys.executable, "-m", "fastprop.bench", "--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "--sizes" in r.stdout and "--spiral-reps" in r.stdout


def test_data_import_ptb_and_sequence(tmp_path):
    """``fastprop data import PATH --name ptb|sequence`` puts the files in the cache; ``where``
    lists them; the sequence sets have no mirror (one error line)."""
    import os
    import pathlib
    import subprocess
    import sys

    import pytest

    src = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (src / "addition.txt").is_file():
        pytest.skip("../shared/data (the book's addition.txt) is not here")
    env = dict(os.environ, FASTPROP_DATA=str(tmp_path / "cache"))

    def fastprop(*args):
        return subprocess.run([sys.executable, "-m", "fastprop", "data", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    r = fastprop("import", str(src / "addition.txt"), "--name", "sequence")
    assert r.returncode == 0, r.stderr
    r = fastprop("where", "--name", "sequence")
    assert r.returncode == 0 and "addition.txt" in r.stdout
    r = fastprop("fetch", "--name", "sequence")
    assert r.returncode == 2 and r.stderr.count("fastprop: error:") == 1 and "import" in r.stderr
    r = fastprop("import", str(tmp_path / "missing.txt"), "--name", "ptb")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_recipes_keep_the_contract_and_twolayer_refuses_their_options():
    """Every recipe module states MODELS, OPTIONS, APPLIES and run (fastprop/recipes/__init__.py)."""
    from fastprop import recipes

    table = recipes.models()
    for model, mod in table.items():
        assert callable(mod.run) and isinstance(mod.MODELS[model], str)
        assert set(mod.APPLIES[model]) <= set(cli._SHARED) | set(recipes.options()), model
    with pytest.raises(SystemExit):
        cli.main(["train", "--model", "no-such-model"])
    for dest in recipes.options():
        if dest not in cli._SHARED:
            with pytest.raises(Refusal, match="does not apply to --model twolayer"):
                args = cli.build_parser().parse_args(["train"])
                setattr(args, dest, 1)
                cli.cmd_train(args)


def test_twolayer_refuses_ptb():
    args = cli.build_parser().parse_args(["train", "--dataset", "ptb"])
    with pytest.raises(Refusal, match="--model twolayer trains on fashion-mnist, mnist, spiral"):
        cli.cmd_train(args)


def test_data_generate_sequence(tmp_path):
    """``fastprop data generate --name sequence`` writes GENERATED addition.txt and date.txt into
    the cache and says so; ``where`` says so too; a book file there is kept without --force;
    misused options are one error line."""
    import os
    import subprocess
    import sys

    from fastprop.datasets import sequence

    env = dict(os.environ, FASTPROP_DATA=str(tmp_path / "cache"))

    def fastprop(*args):
        return subprocess.run([sys.executable, "-m", "fastprop", "data", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    r = fastprop("generate", "--name", "sequence", "--lines", "500", "--seed", "7")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("GENERATED in the book's format (500 lines, seed 7), not the book's file") == 2
    r = fastprop("where", "--name", "sequence")
    assert r.returncode == 0 and r.stdout.count("GENERATED by 'fastprop data generate --name sequence' "
                                                "(seed 7, 500 lines)") == 2, r.stdout
    folder = tmp_path / "cache" / "sequence"
    assert (folder / "date.txt").read_text().splitlines() == sequence.date_lines(500, seed=7)
    # a file whose SHA-256 is the book's counts as the book's: kept unless --force
    book = sequence.CHECKSUMS["addition.txt"]
    sequence.CHECKSUMS["addition.txt"] = sequence._idx.sha256((folder / "addition.txt").read_bytes())
    try:
        assert sequence.status(folder)["addition.txt"]["state"] == "book"
    finally:
        sequence.CHECKSUMS["addition.txt"] = book
    for args, words in ((["generate"], "only --name sequence"),
                        (["generate", "somewhere", "--name", "sequence"], "no PATH"),
                        (["generate", "--name", "sequence", "--lines", "0"], "--lines"),
                        (["where", "--name", "sequence", "--seed", "1"], "--seed applies to 'data generate'")):
        r = fastprop(*args)
        assert r.returncode == 2 and r.stderr.count("fastprop: error:") == 1 and words in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
