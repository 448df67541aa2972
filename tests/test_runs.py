"""fastprop.runs: the ch05 loop and the spiral fit as library functions (what ``fastprop
train`` and the benchmarks call), their results and their up-front checks."""
import numpy as np
import pytest
from fake_data import fake_mnist

from fastprop import runs


def test_train_ch05_result():
    run = runs.train_ch05(fake_mnist(), batch_size=10, lr=0.5, iters=121)
    assert run.losses.shape == (121,) and run.losses.dtype == np.float64
    assert run.per_epoch == 60 and run.epochs == [0, 1, 2]   # the book's evaluation points
    assert len(run.train_acc) == len(run.test_acc) == 3
    assert all(0.0 <= a <= 1.0 for a in run.train_acc + run.test_acc)
    assert run.final_test_acc > 0.5 and run.losses[-1] < run.losses[0]
    assert 0 < run.eval_seconds < run.seconds and run.steps_per_second > 0


def test_train_ch05_is_seeded():
    a = runs.train_ch05(fake_mnist(), batch_size=10, iters=30, seed=4)
    b = runs.train_ch05(fake_mnist(), batch_size=10, iters=30, seed=4)
    np.testing.assert_array_equal(a.losses, b.losses)
    c = runs.train_ch05(fake_mnist(), batch_size=10, iters=30, seed=5)
    assert not np.array_equal(a.losses, c.losses)


@pytest.mark.parametrize("kw, exc, words", [
    (dict(batch_size=601), ValueError, ["batch_size", "600 training rows", "601"]),
    (dict(batch_size=True), TypeError, ["batch_size", "integer"]),
    (dict(hidden=0), ValueError, ["hidden", ">= 1"]),
    (dict(lr=float("nan")), ValueError, ["lr", "finite"]),
    (dict(lr=-0.1), ValueError, ["lr", ">= 0"]),
    (dict(optimizer="lbfgs"), ValueError, ["optimizer", "sgd", "'lbfgs'"]),
    (dict(activation="tanh"), ValueError, ["activation", "'tanh'"]),
    (dict(hidden=10**9), ValueError, ["GiB", "MAX_RUN_BYTES"]),
    (dict(iters=10**12), ValueError, ["GiB", "MAX_RUN_BYTES"]),
])
def test_train_ch05_refuses_bad_settings_before_any_step(kw, exc, words):
    state = np.random.get_state()[1].copy()
    with pytest.raises(exc) as info:
        runs.train_ch05(fake_mnist(), **kw)
    for w in words:
        assert w in str(info.value)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # not even seeded


def test_fit_spiral_is_the_books_run_for_both_nets():
    from fastprop.datasets import spiral

    x, t = spiral.load_data()
    state = np.random.get_state()
    ours = runs.fit_spiral((x, t), rng_state=state)
    book = runs.fit_spiral((x, t), implementation="book", rng_state=state)
    assert len(ours.trainer.loss_list) == 300
    assert ours.trainer.loss_list[-1] == pytest.approx(0.108686, abs=5e-7)
    np.testing.assert_allclose(ours.trainer.loss_list, book.trainer.loss_list, rtol=1e-9)
    assert ours.accuracy() == pytest.approx(0.97) and ours.seconds > 0
    again = runs.fit_spiral()  # loads the data itself (seed 1984): the same run
    assert again.trainer.loss_list == ours.trainer.loss_list


@pytest.mark.parametrize("kw, words", [
    (dict(implementation="torch"), ["implementation", "'torch'"]),
    (dict(seed=1, rng_state=np.random.get_state()), ["seed or rng_state"]),
    (dict(implementation="book", optimizer="adam"), ["book's net", "SGD", "adam"]),
    (dict(epochs=10**12), ["GiB"]),
    (dict(lr=float("inf")), ["lr", "finite"]),
])
def test_fit_spiral_refuses_bad_settings(kw, words):
    with pytest.raises(ValueError) as info:
        runs.fit_spiral(**kw)
    for w in words:
        assert w in str(info.value)


def test_memory_estimates_grow_with_the_sizes_and_the_cap_is_documented():
    small = runs.ch05_memory_bytes(60000, 10000, 784, 50, 100, 10000)
    assert small < runs.MAX_RUN_BYTES  # the book's run is far below the cap
    assert runs.ch05_memory_bytes(60000, 10000, 784, 500, 100, 10000) > small
    assert runs.ch05_memory_bytes(60000, 10000, 784, 50, 100, 10000, "adam") > small
    assert runs.ch05_memory_bytes(60000, 10000, 784, 50, 100, 10000, dtype="float32") < small
    runs.check_memory(runs.MAX_RUN_BYTES, "at the cap")
    with pytest.raises(ValueError, match="at the cap"):
        runs.check_memory(runs.MAX_RUN_BYTES + 1, "at the cap")


def test_the_warm_up_frees_the_first_step_before_compiling_the_evaluation(monkeypatch):
    """train_ch05 waits for the warm-up's training kernels only; the evaluation's compile
    goes on beside the first step (on an evaluation-sized input), and a failing warm-up
    never leaves the step waiting."""
    import threading

    import fastprop.trainer

    gate = threading.Event()
    seen = []
    real = fastprop.trainer.accuracy

    def held(model, x, t, *a, **k):
        if threading.current_thread().name == "fastprop-warmup":
            seen.append(x.shape)
            gate.wait(30)
        return real(model, x, t, *a, **k)
    monkeypatch.setattr(fastprop.trainer, "accuracy", held)
    warm = runs.warm_ch05(hidden=8, batch_size=10)
    assert warm.step_ready.wait(60)
    run = runs.train_ch05(fake_mnist(), hidden=8, batch_size=10, iters=5, seed=1, warmup=warm)
    assert warm.thread.is_alive()  # the steps did not wait for the evaluation's warm-up
    for _ in range(3000):  # it reaches the held evaluation soon after the first step is free
        if seen:
            break
        threading.Event().wait(0.01)
    assert seen == [(runs.WARM_EVAL_ROWS, 784)] and runs.WARM_EVAL_ROWS > 1024
    assert warm.thread.is_alive()
    gate.set()
    warm.thread.join(60)
    assert not warm.thread.is_alive() and run.losses.shape == (5,)

    from fastprop.nets import TwoLayerNet

    def broken(*a, **k):
        raise RuntimeError("compile failed")
    monkeypatch.setattr(TwoLayerNet, "train_steps", broken)
    warm = runs.warm_ch05(hidden=8, batch_size=10)
    assert warm.step_ready.wait(60)
    warm.thread.join(60)
    assert not warm.thread.is_alive()
