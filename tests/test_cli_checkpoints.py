"""``fastprop train`` --save, --checkpoint-every, --resume, Ctrl-C and --json on fake MNIST
at tiny sizes: a run stopped and resumed ends on the same parameters, bit for bit, as the
same run left alone."""
import json
import os
import pickle
import signal
import subprocess
import sys

import numpy as np
import pytest
from fake_data import fake_mnist

from fastprop import cli, runs, safe_pickle
from fastprop.trainer import vol1


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(runs, "load_dataset", lambda dataset: (fake_mnist(), 0.0))


@pytest.fixture
def ctrl_c_after(monkeypatch):
    """``ctrl_c_after(k)``: a real SIGINT reaches the process during the k-th training step
    (counted from 1), as a Ctrl-C in the terminal would."""
    def arm(k):
        step = vol1.Trainer.train_step
        calls = [0]

        def train_step(self):
            calls[0] += 1
            if calls[0] == k:
                os.kill(os.getpid(), signal.SIGINT)
            step(self)

        monkeypatch.setattr(vol1.Trainer, "train_step", train_step)
    return arm


def _load(path):
    with open(path, "rb") as f:
        return safe_pickle.load(f, source=str(path), max_bytes=1 << 28)


def _same_params(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert a[k].tobytes() == b[k].tobytes(), f"{k} differs"


# model, settings: tiny runs that still use Dropout's RNG draws, BatchNorm's running
# statistics and Adam's state, each of which a resume must carry over
CASES = {
    "convnet": ["--model", "convnet", "--epochs", "3", "--train-size", "100", "--batch", "50"],
    "multilayer": ["--model", "multilayer", "--epochs", "4", "--batchnorm", "--optimizer", "adam",
                   "--lr", "0.01", "--hidden", "20"],
    "deepnet": ["--model", "deepnet", "--epochs", "2", "--train-size", "60", "--batch", "20",
                "--dtype", "float32"],
}


@pytest.fixture
def one_thread():
    """Bit for bit needs one fixed thread count: OpenBLAS sums small GEMMs in another order
    on one thread than on two, and the default policy follows the machine's load (a run and
    its resumption can see different loads). Users get the same: docs/cli.md says so."""
    from fastprop import threads

    threads.set_threads(1)
    yield
    threads.set_threads("auto")


@pytest.mark.parametrize("model", list(CASES))
def test_stopped_and_resumed_equals_uninterrupted(model, fake, ctrl_c_after, tmp_path, capsys,
                                                   one_thread):
    base = ["train", *CASES[model], "--no-progress"]
    whole, resumed = tmp_path / "whole.pkl", tmp_path / "resumed.pkl"
    ckpt = tmp_path / "run.ckpt"
    assert cli.main([*base, "--save", str(whole), "--json", str(tmp_path / "whole.json")]) == 0
    capsys.readouterr()

    ctrl_c_after(4)  # mid-epoch for every case: the checkpoint is the one Ctrl-C writes
    rc = cli.main([*base, "--checkpoint-every", "1", "--checkpoint", str(ckpt),
                   "--save", str(resumed), "--json", str(tmp_path / "stopped.json")])
    out = capsys.readouterr()
    assert rc == 130
    lines = [s for s in out.err.splitlines() if s.startswith("fastprop:")]
    assert lines == [f"fastprop: interrupted at iteration 4 of "
                     f"{json.loads((tmp_path / 'whole.json').read_text())['max_iterations']}; "
                     f"checkpoint written to {ckpt}; resume with: fastprop train --model {model} "
                     f"--resume {ckpt} --checkpoint-every 1 --save {resumed} --json "
                     f"{tmp_path / 'stopped.json'}"], out.err
    assert "Traceback" not in out.err and not resumed.exists()
    stopped = json.loads((tmp_path / "stopped.json").read_text())
    assert stopped["status"] == "interrupted" and stopped["iterations"] == 4

    monkey_free = cli.main(["train", "--model", model, "--resume", str(ckpt), "--no-progress",
                            "--save", str(resumed), "--json", str(tmp_path / "resumed.json")])
    assert monkey_free == 0
    out = capsys.readouterr().out
    assert f"resumed from {ckpt} at iteration 4 of" in out
    _same_params(_load(whole), _load(resumed))
    a = json.loads((tmp_path / "whole.json").read_text())
    b = json.loads((tmp_path / "resumed.json").read_text())
    assert a["epochs"] == b["epochs"] and a["final_test_acc"] == b["final_test_acc"]
    assert a["settings"] == b["settings"]


def test_checkpoint_every_and_the_book_params_format(fake, tmp_path, capsys):
    from fastprop.nets import SimpleConvNet

    ckpt, params = tmp_path / "c.ckpt", tmp_path / "params.pkl"
    assert cli.main(["train", *CASES["convnet"], "--no-progress", "--checkpoint-every", "2",
                     "--checkpoint", str(ckpt), "--save", str(params)]) == 0
    assert "checkpoint every 2 epochs to" in capsys.readouterr().out
    state = _load(ckpt)
    assert state["format"] == "fastprop-train-checkpoint" and state["model"] == "convnet"
    assert state["trainer"]["current_iter"] == 4  # written at the end of epoch 2 (2 it/epoch)
    assert set(state["optimizer"]["state"]) == {"m", "v"} and state["optimizer"]["iter"] == 4
    # the book's format: a plain dict of arrays that pickle (and the book's load_params) reads
    with open(params, "rb") as f:
        plain = pickle.load(f)  # our own file, written by this test
    assert type(plain) is dict and all(type(v) is np.ndarray for v in plain.values())
    net = SimpleConvNet(input_dim=(1, 28, 28), conv_param={"filter_num": 30, "filter_size": 5,
                                                          "pad": 0, "stride": 1},
                        hidden_size=100, output_size=10)
    net.load_params(str(params))
    _same_params(net.params, plain)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]  # no temp files left


def test_resume_refuses_other_settings_models_and_non_checkpoints(fake, tmp_path, capsys):
    ckpt = tmp_path / "c.ckpt"
    assert cli.main(["train", *CASES["convnet"], "--no-progress", "--checkpoint-every", "3",
                     "--checkpoint", str(ckpt)]) == 0
    capsys.readouterr()
    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(b"cos\nsystem\n(S'touch " + str(tmp_path / "pwned").encode() + b"'\ntR.")
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"W1": np.zeros(2)}))
    for argv, words in (
            (["--model", "convnet", "--resume", str(ckpt), "--lr", "0.5"],
             "--lr 0.5 differs from the 0.001 of the checkpoint"),
            (["--model", "deepnet", "--resume", str(ckpt)], "the checkpoint is of --model convnet"),
            (["--model", "convnet", "--resume", str(evil)], "refusing to load os.system"),
            (["--model", "convnet", "--resume", str(plain)], "not a checkpoint of fastprop train"),
            (["--model", "convnet", "--resume", str(tmp_path / "none")], "No such file"),
            (["--model", "rnnlm", "--resume", str(ckpt)], "--resume does not apply")):
        with pytest.raises(SystemExit) as exc:
            cli.main(["train", *argv, "--no-progress"])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("fastprop: error:") and words in err, (argv, err)
    assert not (tmp_path / "pwned").exists()


def test_twolayer_json_and_save(fake, tmp_path, capsys):
    from fastprop.nets import TwoLayerNet

    out_json, params = tmp_path / "m.json", tmp_path / "p.pkl"
    assert cli.main(["train", "--iters", "121", "--batch", "10", "--no-progress",
                     "--json", str(out_json), "--save", str(params)]) == 0
    m = json.loads(out_json.read_text())
    assert m["model"] == "twolayer" and m["status"] == "completed"
    assert m["iterations"] == 121 and [e["iteration"] for e in m["epochs"]] == [0, 60, 120]
    assert set(m["epochs"][1]) == {"epoch", "iteration", "loss", "mean_loss", "train_acc",
                                   "test_acc"}
    assert m["compile_seconds"] >= 0 and m["seconds"] > 0 and "policy" in m["threads"]
    assert m["settings"]["iters"] == 121 and m["settings"]["dataset"] == "mnist"
    net = TwoLayerNet(784, 50, 10)
    with open(params, "rb") as f:
        saved = pickle.load(f)  # our own file, written by this test
    assert set(saved) == set(net.params)
    assert f"parameters written to {params}" in capsys.readouterr().out


def test_a_real_ctrl_c_to_a_real_process(tmp_path):
    """SIGINT from outside, while the process runs compiled steps: the step finishes, the
    checkpoint is written, exit status 130, one line, no traceback."""
    import textwrap

    ckpt = tmp_path / "run.ckpt"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from fake_data import fake_mnist
        from fastprop import cli, runs
        runs.load_dataset = lambda dataset: (fake_mnist(), 0.0)
        sys.exit(cli.main(["train", "--model", "multilayer", "--epochs", "100000",
                           "--no-progress", "--checkpoint", {str(ckpt)!r}]))
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        for line in p.stdout:  # wait until the training runs (past the compile)
            if line.startswith("epoch   2"):
                break
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err and "SystemError" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("fastprop: interrupted at iteration ") and str(ckpt) in last
    assert _load(ckpt)["trainer"]["current_iter"] > 6
