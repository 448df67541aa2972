"""The ``fastprop`` command line as people type it: options before or after positionals,
``--threads`` and ``--debug`` on every subcommand, help text on every option,
``--version``, and which errors are one line (checks) and which show their traceback (bugs)."""
import argparse
import subprocess
import sys

import pytest
from fake_data import fake_mnist

import fastprop
from fastprop import cli, runs
from fastprop import threads as thread_policy
from fastprop.datasets import ptb


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def _walk(parser, path=("fastprop",)):
    yield path, parser
    for name, sub in _subparsers(parser).items():
        yield from _walk(sub, path + (name,))


def test_every_option_and_positional_has_help_text():
    missing = []
    for path, parser in _walk(cli.build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, f"options without help=: {missing}"


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"fastprop {fastprop.__version__}"


@pytest.mark.parametrize("argv", [
    ["data", "import", "--name", "ptb", "DIR"],
    ["data", "import", "DIR", "--name", "ptb"],
    ["data", "--name", "ptb", "import", "DIR"],
    ["data", "--threads", "1", "import", "--name", "ptb", "DIR", "--debug"],
])
def test_data_options_before_or_after_the_positionals(argv, monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(ptb, "import_ptb", seen.append)
    monkeypatch.setattr(ptb, "data_dir", lambda: "CACHE")
    monkeypatch.setattr(thread_policy, "set_threads", lambda n: None)
    assert cli.main(argv) == 0
    assert seen == ["DIR"]
    assert "ptb: imported DIR into CACHE" in capsys.readouterr().out


def test_data_import_without_a_path_is_still_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["data", "import", "--name", "ptb"])
    assert exc.value.code == 2
    assert "data import needs a PATH" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "gradcheck", "data where", "run x.py", "sweep"])
@pytest.mark.parametrize("where", ["before", "after"])
def test_threads_and_debug_before_or_after_the_subcommand(command, where):
    words = command.split()
    argv = (["--threads", "3", "--debug", *words] if where == "before"
            else [words[0], "--threads", "3", "--debug", *words[1:]])
    args = cli.build_parser().parse_args(argv)
    assert args.threads == "3" and args.debug is True


def test_subcommand_without_threads_keeps_the_value_given_before_it():
    args = cli.build_parser().parse_args(["--threads", "2", "train"])
    assert args.threads == "2" and args.debug is False


def test_bench_keeps_its_own_threads_option():
    args = cli.build_parser().parse_args(["--threads", "2", "bench", "--threads", "1"])
    assert args.threads == "2" and args.bench_threads == 1


def test_train_threads_reaches_the_thread_policy(monkeypatch):
    seen = []
    monkeypatch.setattr(thread_policy, "set_threads", seen.append)
    monkeypatch.setattr(runs, "load_dataset", lambda dataset: (fake_mnist(), 0.0))
    assert cli.main(["train", "--threads", "1", "--iters", "2", "--batch", "10",
                     "--no-progress"]) == 0
    assert seen == ["1"]


# ---------------------------------------------------------------- errors: checks vs bugs


def test_a_bug_in_the_run_shows_its_traceback(monkeypatch):
    """A ValueError out of the training itself (not a check) is not turned into a line."""
    monkeypatch.setattr(runs, "load_dataset", lambda dataset: (fake_mnist(), 0.0))

    def broken(*args, **kwargs):
        raise ValueError("a bug 50 minutes in")

    monkeypatch.setattr(runs, "train_ch05", broken)
    with pytest.raises(ValueError, match="a bug 50 minutes in"):
        cli.main(["train", "--iters", "2", "--no-progress"])


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_debug_shows_the_traceback_of_a_check(debug, monkeypatch, capsys):
    def missing(dataset):
        raise OSError("cannot read /data/train-images-idx3-ubyte.gz")

    monkeypatch.setattr(runs, "load_dataset", missing)
    if debug:
        with pytest.raises(OSError, match="cannot read"):
            cli.main([*debug, "train", "--iters", "2"])
    else:
        with pytest.raises(SystemExit) as exc:
            cli.main(["train", "--iters", "2"])
        assert exc.value.code == 2
        assert capsys.readouterr().err.startswith("fastprop: error: cannot read")


@pytest.mark.parametrize("error", ["keyboard", "compiled"])
def test_ctrl_c_outside_the_training_loop_is_exit_130_and_one_line(error, monkeypatch, capsys):
    def interrupted(dataset):
        if error == "keyboard":
            raise KeyboardInterrupt
        # what a Ctrl-C inside a Numba call surfaces as
        raise SystemError("CPUDispatcher(<function f>) returned a result with an exception "
                          "set") from KeyboardInterrupt()

    monkeypatch.setattr(runs, "load_dataset", interrupted)
    assert cli.main(["train", "--iters", "2"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "fastprop: interrupted" and "Traceback" not in err


def test_a_system_error_that_is_not_an_interrupt_is_raised(monkeypatch):
    def broken(dataset):
        raise SystemError("something else")

    monkeypatch.setattr(runs, "load_dataset", broken)
    with pytest.raises(SystemError, match="something else"):
        cli.main(["train", "--iters", "2"])


def test_options_a_model_does_not_read_are_refused(capsys):
    for argv, words in ((["--model", "cbow", "--save", "x.pkl"], "--save does not apply"),
                        (["--checkpoint-every", "1"], "--checkpoint-every does not apply to "
                                                      "--model twolayer"),
                        (["--dataset", "spiral", "--save", "x.pkl"], "not to --dataset spiral")):
        with pytest.raises(SystemExit) as exc:
            cli.main(["train", *argv])
        assert exc.value.code == 2
        assert words in capsys.readouterr().err


def test_version_from_a_fresh_interpreter():
    r = subprocess.run([sys.executable, "-m", "fastprop", "--version"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"fastprop {fastprop.__version__}"
