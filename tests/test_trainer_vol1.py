"""vol. 1's Trainer (fastprop.trainer.vol1) against the book's loop, its printed lines, its
float iter_per_epoch, its optimizer names; and the ch. 6 util helpers."""
import numpy as np
import pytest

from fastprop import optimizers
from fastprop.bench.book.vol1 import SGD as BookSGD
from fastprop.bench.book.vol1_nets import MultiLayerNetExtend as BookMultiLayerNetExtend
from fastprop.nets import MultiLayerNetExtend
from fastprop.trainer.vol1 import Trainer
from fastprop.util import shuffle_dataset, smooth_curve


def _data(rng, n, d=12, c=3):
    centers = 2 * rng.standard_normal((c, d))
    t = rng.integers(0, c, n)
    return centers[t] + rng.standard_normal((n, d)), t


def _book_train(net, x, t, xt, tt, epochs, batch, lr):
    """The book's Trainer loop with SGD, what it records (no printing)."""
    train_size = x.shape[0]
    iter_per_epoch = max(train_size / batch, 1)
    losses, accs = [], []
    opt = BookSGD(lr)
    for i in range(int(epochs * iter_per_epoch)):
        mask = np.random.choice(train_size, batch)
        grads = net.gradient(x[mask], t[mask])
        opt.update(net.params, grads)
        losses.append(net.loss(x[mask], t[mask]))
        if i % iter_per_epoch == 0:
            accs.append((net.accuracy(x, t), net.accuracy(xt, tt)))
    return losses, accs


def test_the_run_is_the_books_step_for_step(rng, capsys):
    x, t = _data(rng, 50)
    xt, tt = _data(rng, 20)
    kw = dict(use_batchnorm=True, use_dropout=True, dropout_ration=0.2, weight_decay_lambda=0.01)
    np.random.seed(0)
    book = BookMultiLayerNetExtend(12, [10, 10], 3, **kw)
    losses, accs = _book_train(book, x, t, xt, tt, epochs=3, batch=20, lr=0.1)
    np.random.seed(0)
    net = MultiLayerNetExtend(12, [10, 10], 3, **kw)
    trainer = Trainer(net, x, t, xt, tt, epochs=3, mini_batch_size=20, optimizer="SGD",
                      optimizer_param={"lr": 0.1}, verbose=False)
    trainer.train()
    assert trainer.iter_per_epoch == 2.5 and trainer.max_iter == 7
    np.testing.assert_allclose(trainer.train_loss_list, losses, rtol=1e-12)
    # iter 0 and 5 are epoch boundaries of a float 2.5 (the book's quirk: 2 evaluations)
    assert len(trainer.train_acc_list) == len(accs) == 2
    assert list(zip(trainer.train_acc_list, trainer.test_acc_list)) == accs
    for k in book.params:
        np.testing.assert_allclose(net.params[k], book.params[k], rtol=1e-11, atol=1e-12)
    assert capsys.readouterr().out == ""


def test_the_books_printed_lines(rng, capsys):
    x, t = _data(rng, 30)
    net = MultiLayerNetExtend(12, [8], 3)
    trainer = Trainer(net, x, t, x[:10], t[:10], epochs=2, mini_batch_size=10,
                      optimizer_param={"lr": 0.05}, evaluate_sample_num_per_epoch=5)
    trainer.train()
    lines = capsys.readouterr().out.splitlines()
    assert [ln.startswith("train loss:") for ln in lines].count(True) == 6
    assert float(lines[0][len("train loss:"):]) == trainer.train_loss_list[0]
    epochs = [ln for ln in lines if ln.startswith("=== epoch:")]
    assert epochs[0] == (f"=== epoch:1, train acc:{trainer.train_acc_list[0]}, "
                         f"test acc:{trainer.test_acc_list[0]} ===")
    assert len(epochs) == 2 and epochs[1].startswith("=== epoch:2, train acc:")
    assert lines[-2] == "=============== Final Test Accuracy ==============="
    assert lines[-1] == "test acc:" + str(net.accuracy(x[:10], t[:10]))
    # evaluate_sample_num_per_epoch: accuracies of 5 rows are multiples of 1/5
    assert all(round(a * 5, 9).is_integer() for a in trainer.train_acc_list)


@pytest.mark.parametrize("name, cls", [("sgd", optimizers.SGD), ("Momentum", optimizers.Momentum),
                                       ("NESTEROV", optimizers.Nesterov), ("AdaGrad", optimizers.AdaGrad),
                                       ("rmsprop", optimizers.RMSprop), ("Adam", optimizers.Adam)])
def test_the_books_optimizer_names_any_case(name, cls, rng):
    x, t = _data(rng, 20)
    trainer = Trainer(MultiLayerNetExtend(12, [4], 3), x, t, x, t, epochs=1, mini_batch_size=10,
                      optimizer=name, optimizer_param={"lr": 0.02}, verbose=False)
    assert type(trainer.optimizer) is cls and trainer.optimizer.lr == 0.02
    trainer.train()
    assert len(trainer.train_loss_list) == 2


def test_fewer_rows_than_a_batch_is_one_iteration_per_epoch(rng):
    x, t = _data(rng, 7)
    trainer = Trainer(MultiLayerNetExtend(12, [4], 3), x, t, x, t, epochs=3, mini_batch_size=10,
                      verbose=False)
    assert trainer.iter_per_epoch == 1 and trainer.max_iter == 3
    trainer.train()
    assert len(trainer.test_acc_list) == 3


@pytest.mark.parametrize("kw, exc, match", [
    (dict(optimizer="adadelta"), ValueError, "adadelta"),
    (dict(optimizer=None), TypeError, "optimizer"),
    (dict(optimizer_param={"learning_rate": 0.1}), TypeError, "optimizer_param"),
    (dict(optimizer_param={"lr": -1}), ValueError, "lr"),
    (dict(optimizer_param=[0.1]), TypeError, "optimizer_param"),
    (dict(epochs=2.5), TypeError, "epochs"),
    (dict(epochs=-1), ValueError, "epochs"),
    (dict(mini_batch_size=0), ValueError, "mini_batch_size"),
    (dict(mini_batch_size=True), TypeError, "mini_batch_size"),
    (dict(evaluate_sample_num_per_epoch=0), ValueError, "evaluate_sample_num_per_epoch"),
    (dict(verbose=1), TypeError, "verbose"),
])
def test_bad_arguments_are_clear_errors(kw, exc, match, rng):
    x, t = _data(rng, 20)
    with pytest.raises(exc, match=match):
        Trainer(MultiLayerNetExtend(12, [4], 3), x, t, x, t, **kw)


def test_bad_data_and_network_are_clear_errors(rng):
    x, t = _data(rng, 20)
    net = MultiLayerNetExtend(12, [4], 3)
    with pytest.raises(ValueError, match="same number of rows"):
        Trainer(net, x, t[:10], x, t)
    with pytest.raises(TypeError, match="NumPy arrays"):
        Trainer(net, x.tolist(), t, x, t)
    with pytest.raises(TypeError, match="network"):
        Trainer(object(), x, t, x, t)


# --------------------------------------------------------------------------- fastprop.util (ch. 6)


def test_smooth_curve_is_the_books_kaiser_smoothing(rng):
    x = rng.random(40)
    w = np.kaiser(11, 2)
    s = np.r_[x[10:0:-1], x, x[-1:-11:-1]]
    expected = np.convolve(w / w.sum(), s, mode="valid")[5:-5]
    y = smooth_curve(x)
    assert y.shape == x.shape
    np.testing.assert_allclose(y, expected, rtol=1e-15)
    np.testing.assert_allclose(smooth_curve(np.full(20, 3.0)), 3.0, rtol=1e-14)
    assert smooth_curve(list(x)).tolist() == y.tolist()


def test_smooth_curve_bad_input():
    with pytest.raises(ValueError, match="at least 11"):
        smooth_curve(np.ones(5))
    with pytest.raises(ValueError, match="1-D"):
        smooth_curve(np.ones((3, 11)))
    with pytest.raises(TypeError, match="real"):
        smooth_curve(["a"] * 12)


@pytest.mark.parametrize("shape", [(10, 3), (10, 1, 2, 2)])
def test_shuffle_dataset_draws_the_books_permutation(shape, rng):
    x = rng.random(shape)
    t = np.arange(10)
    np.random.seed(3)
    perm = np.random.permutation(10)
    after = np.random.get_state()
    np.random.seed(3)
    xs, ts = shuffle_dataset(x, t)
    np.testing.assert_array_equal(xs, x[perm])
    np.testing.assert_array_equal(ts, perm)
    assert np.random.get_state()[2] == after[2]


def test_shuffle_dataset_bad_input():
    with pytest.raises(ValueError, match="same number of rows"):
        shuffle_dataset(np.ones((4, 2)), np.ones(3))
    with pytest.raises(TypeError, match="x must be a NumPy array, got list"):
        shuffle_dataset([[1, 2]], np.ones(1))
