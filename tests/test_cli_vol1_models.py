"""``fastprop train --model multilayer|convnet|deepnet`` (fastprop/recipes/multilayer.py,
convnet.py), run in process on fake MNIST: never the network, never the book's checkout."""
import numpy as np
import pytest
from fake_data import fake_mnist

from fastprop import cli, runs
from fastprop.recipes import _vol1


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(runs, "load_dataset", lambda dataset: (fake_mnist(), 0.0))


@pytest.fixture
def no_data(monkeypatch):
    """Loading data fails the test: a refusal must come before it."""
    def load(dataset):
        raise AssertionError("data were loaded before the settings were checked")

    monkeypatch.setattr(runs, "load_dataset", load)


def _final_test_acc(out):
    line = next(s for s in out.splitlines() if s.startswith("final: test acc"))
    return float(line.split()[3])


def _epoch_lines(out):
    return [s for s in out.splitlines() if s.startswith("epoch ")]


def test_convnet_trains_with_the_books_settings_and_learns(fake, capsys, tmp_path):
    png = tmp_path / "curves.png"
    rc = cli.main(["train", "--model", "convnet", "--epochs", "3", "--batch", "50", "--lr", "0.01",
                   "--no-progress", "--plot", str(png)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "SimpleConvNet(30 5x5 filters, hidden 100) float64, Adam(lr=0.01), batch 50" in out
    assert "3 epochs = 36 iterations (12 per epoch)" in out and "seed 0" in out
    assert "the first 1000 train / test images" in out
    epochs = _epoch_lines(out)
    assert [int(s.split()[1]) for s in epochs] == [0, 1, 2]
    assert [int(s.split()[4]) for s in epochs] == [0, 12, 24]  # the Trainer's evaluation points
    assert "on all 100 test images" in out and "ms/step" in out
    assert _final_test_acc(out) > 0.5  # one pixel gives the label away: learnable in 36 steps
    pytest.importorskip("matplotlib")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_deepnet_float32_end_to_end(fake, capsys, monkeypatch):
    seen = {}
    train = _vol1.train

    def spy(net, description, data, d, evaluate_sample_num=None):
        rc = train(net, description, data, d, evaluate_sample_num)
        seen["dtypes"] = {p.dtype for p in net.params.values()}
        seen["grads"] = {g.dtype for g in net.gradient(data[0][0][:2], data[0][1][:2]).values()}
        seen["x"] = data[0][0].shape
        return rc

    monkeypatch.setattr(_vol1, "train", spy)
    rc = cli.main(["train", "--model", "deepnet", "--epochs", "1", "--train-size", "100",
                   "--batch", "50", "--dtype", "float32", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "DeepConvNet(16-16-32-32-64-64 3x3 convs, hidden 50) float32" in out
    assert "1 epochs = 2 iterations" in out and len(_epoch_lines(out)) == 1
    assert "100 train / 100 test images" in out
    assert seen == {"dtypes": {np.dtype(np.float32)}, "grads": {np.dtype(np.float32)},
                    "x": (100, 1, 28, 28)}
    assert 0.0 <= _final_test_acc(out) <= 1.0


def test_multilayer_is_the_books_overfit_dropout_run(fake, capsys):
    """The defaults are ch06/overfit_dropout.py's: the recipe's numbers are those of the
    book's Trainer loop written out here with the script's settings (seed 0)."""
    from fastprop.nets import MultiLayerNetExtend
    from fastprop.trainer.vol1 import Trainer

    rc = cli.main(["train", "--model", "multilayer", "--epochs", "4", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert ("MultiLayerNetExtend(784-100x6-10, relu, Dropout 0.2) float64, SGD(lr=0.01), "
            "batch 100, 4 epochs = 12 iterations (3 per epoch), evaluated on all") in out
    assert "300 train / 100 test images" in out and len(_epoch_lines(out)) == 4

    (x_train, t_train), (x_test, t_test) = fake_mnist()
    np.random.seed(0)
    net = MultiLayerNetExtend(784, [100] * 6, 10, use_dropout=True, dropout_ration=0.2)
    trainer = Trainer(net, x_train[:300], t_train[:300], x_test, t_test, epochs=4,
                      mini_batch_size=100, optimizer="sgd", optimizer_param={"lr": 0.01},
                      verbose=False)
    trainer.train()
    assert _final_test_acc(out) == round(net.accuracy(x_test, t_test), 4)
    last = _epoch_lines(out)[-1].split()
    assert float(last[-1]) == round(trainer.test_acc_list[-1], 4)
    assert float(last[7]) == round(trainer.train_loss_list[9], 4)


def test_multilayer_options_reach_the_net(fake, capsys):
    rc = cli.main(["train", "--model", "multilayer", "--epochs", "2", "--train-size", "600",
                   "--dropout", "0", "--weight-decay", "0.1", "--batchnorm", "--hidden", "20",
                   "--activation", "sigmoid", "--optimizer", "adam", "--lr", "0.01",
                   "--dtype", "float32", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert ("MultiLayerNetExtend(784-20x6-10, sigmoid, no Dropout, weight decay 0.1, BatchNorm) "
            "float32, Adam(lr=0.01), batch 100, 2 epochs = 12 iterations") in out


# ---------------------------------------------------------------- refused before any work


@pytest.mark.parametrize("argv, words", [
    (["--model", "convnet", "--iters", "5"], ["--iters does not apply to --model convnet"]),
    (["--model", "deepnet", "--activation", "sigmoid"], ["--activation does not apply"]),
    (["--model", "convnet", "--dropout", "0.5"], ["--dropout does not apply to --model convnet"]),
    (["--model", "deepnet", "--batchnorm"], ["--batchnorm does not apply to --model deepnet"]),
    (["--model", "multilayer", "--iters", "5"], ["--iters does not apply to --model multilayer"]),
    (["--model", "convnet", "--dataset", "spiral"],
     ["--model convnet trains on fashion-mnist, mnist, got --dataset spiral"]),
    (["--model", "multilayer", "--batch", "301"],
     ["--batch must be at most the 300 training images, got 301"]),
    (["--model", "convnet", "--train-size", "60001"],
     ["--train-size must be at most the 60000 training images of mnist, got 60001"]),
    (["--model", "convnet", "--train-size", "0"], ["--train-size: must be a positive integer"]),
    (["--model", "multilayer", "--dropout", "1"], ["--dropout must be a ratio in [0, 1), got 1.0"]),
    (["--model", "multilayer", "--dropout", "-0.1"], ["--dropout: must be a finite number >= 0"]),
    (["--model", "multilayer", "--weight-decay", "nan"], ["--weight-decay: must be a finite"]),
    (["--model", "convnet", "--batch", "20000"], ["--batch 20000", "GiB", "MAX_RUN_BYTES"]),
    (["--model", "deepnet", "--hidden", str(10**8)], ["--hidden 100000000", "GiB"]),
    (["--model", "convnet", "--epochs", str(10**9)], ["--epochs 1000000000", "GiB"]),
    (["--model", "multilayer", "--hidden", str(10**6)], ["--hidden 1000000", "GiB"]),
    (["--model", "convnet", "--plot", "/no/such/folder/x.png"], ["--plot"]),
])
def test_bad_settings_are_one_error_line_before_data_load(argv, words, no_data, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", *argv])
    assert exc.value.code == 2
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastprop: error: "), out.err
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert out.out == ""


def test_help_names_the_book_scripts(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("ch07/train_convnet.py", "ch08/train_deepnet.py", "ch06/overfit_dropout.py",
                  "--train-size", "--dropout", "--weight-decay", "--batchnorm"):
        assert words in text, words
