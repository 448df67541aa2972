"""The book's training runs as library functions, shared by ``fastprop train`` and the
benchmarks (``fastprop bench``'s spiral block, ``benchmarks/bench_train.py``):

* :func:`train_ch05`: vol. 1 ch. 5's ``train_neuralnet.py`` loop on MNIST-shaped data;
* :func:`fit_spiral`: vol. 2 ch. 1's spiral run through the Trainer.

Both check their settings, including the memory the run would take
(:func:`check_memory`, at most :data:`MAX_RUN_BYTES`), before they allocate anything.
"""
import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import List, NamedTuple, Optional

import numpy as np

from . import threads as thread_policy
from . import validate
from .kernels import optim as optim_rules

__all__ = ["MAX_RUN_BYTES", "OPTIMIZERS", "Ch05Run", "SpiralRun", "ch05_memory_bytes",
           "check_memory", "fit_spiral", "load_dataset", "make_optimizer",
           "spiral_memory_bytes", "train_ch05"]

#: the most memory a run may need (estimated up front); larger settings are refused
MAX_RUN_BYTES = 8 * 2**30
#: optimizer names and how many arrays of state each keeps per parameter
#: optimizer name -> state arrays it keeps per parameter (the rule table of kernels/optim.py)
OPTIMIZERS = {name: optim_rules.STATE_COUNT[code] for name, code in optim_rules.RULES.items()}
#: training rows and input width of each data set (known before loading it)
DATASETS = {"mnist": (60000, 784), "fashion-mnist": (60000, 784), "spiral": (300, 2)}
EVAL_CHUNK = 10000      # rows per predict call in accuracy (fastprop.trainer.metrics)
STEPS_PER_CALL = 200    # most steps one train_steps call of the ch05 loop runs


def _count(value, name, low=1):
    return validate.check_scalar(value, name, int, low=low)


def _learning_rate(lr):
    validate.check_scalar(lr, "lr", float, low=0, expected="a finite number >= 0")
    return lr


def make_optimizer(name: str, lr: float):
    """fastprop's optimizer called ``name`` (one of :data:`OPTIMIZERS`) with ``lr``."""
    from . import optimizers

    validate.choice(name, optimizers.OPTIMIZERS, "optimizer", f"one of {', '.join(optimizers.OPTIMIZERS)}")
    return optimizers.by_name(name, lr=_learning_rate(lr))


def load_dataset(name: str) -> tuple:
    """``(((x_train, t_train), (x_test, t_test)), seconds)`` of MNIST or Fashion-MNIST,
    normalised as the book loads them."""
    from . import datasets

    validate.choice(name, ("mnist", "fashion-mnist"), "dataset", "mnist or fashion-mnist")
    t0 = time.perf_counter()
    loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
    data = loader(normalize=True)
    return data, time.perf_counter() - t0


# ------------------------------------------------------------------ warm-up


class Warmup(NamedTuple):
    """What :func:`warm_ch05` started: the thread, and the event it sets once the training
    step's kernels are ready (it goes on with the evaluation's)."""

    thread: threading.Thread
    step_ready: threading.Event


def warm_ch05(input_size: int = 784, *, hidden: int = 50, batch_size: int = 100,
              optimizer: str = "sgd", activation: str = "relu", dtype="float64") -> Warmup:
    """Start compiling (or loading from Numba's cache) the kernels :func:`train_ch05` runs,
    in a background thread, on a tiny net of the same types.

    The first ``fastprop train`` after an install spends seconds compiling; started before
    the data loads, most of that overlaps the load (LLVM releases the GIL, and so does the
    decompression of the data). The training step's kernels come first (``step_ready`` is
    set then: :func:`train_ch05` waits for that, and counts the wait as the first step's
    compile time), the evaluation's next, on inputs of the evaluation's types and paths
    (an evaluation chunk is thousands of rows of the net's dtype, not a batch), while the
    first step runs; an evaluation that reaches a kernel still compiling waits for it
    (Numba's compiler lock). The tiny net is drawn here, in the calling thread, with the
    global RNG's state saved and restored around it, so a seeded run draws the same weights
    as without the warm-up; the thread itself touches no global state.
    """
    from .nets import TwoLayerNet
    from .trainer import accuracy

    dt = np.dtype(dtype)
    state = np.random.get_state()
    try:
        net = TwoLayerNet(input_size, hidden, 10, activation=activation, dtype=dt)
    finally:
        np.random.set_state(state)
    bs = batch_size
    x = np.zeros((bs, input_size), np.float32)     # load_mnist(normalize=True)'s images
    t = np.zeros(bs, np.uint8)                     # and labels
    opt = make_optimizer(optimizer, 0.0)
    ready = threading.Event()

    def work():
        # a warm-up only saves time: whatever fails here fails again, reported, in the
        # run's own first step or evaluation
        try:
            net.train_steps(x, t, np.arange(bs), bs, opt)
            ready.set()
            rows = WARM_EVAL_ROWS
            accuracy(net, np.zeros((rows, input_size), dt), np.zeros(rows, np.uint8))
        except Exception:  # noqa: BLE001
            pass
        finally:
            ready.set()

    thread = threading.Thread(target=work, name="fastprop-warmup", daemon=True)
    thread.start()
    return Warmup(thread, ready)


#: rows of the warm-up's evaluation: more than a training batch, as an evaluation chunk
#: (:data:`EVAL_CHUNK` rows) is, so that the same GEMM paths compile
WARM_EVAL_ROWS = 2048


# ------------------------------------------------------------------ memory


def _gib(nbytes):
    return f"{nbytes / 2**30:,.1f} GiB"


def check_memory(nbytes: int, what: str) -> None:
    """ValueError when a run estimated at ``nbytes`` exceeds :data:`MAX_RUN_BYTES`."""
    if nbytes > MAX_RUN_BYTES:
        raise ValueError(f"{what} would need about {_gib(nbytes)} of memory (parameters, "
                         f"gradients, optimizer state, activations, losses); the limit is "
                         f"{_gib(MAX_RUN_BYTES)} (fastprop.runs.MAX_RUN_BYTES): use smaller "
                         "sizes")


def _net_bytes(inputs, hidden, outputs, batch, optimizer, itemsize):
    params = inputs * hidden + hidden + hidden * outputs + outputs
    per_row = inputs + 4 * hidden + 3 * outputs  # batch, pre-activation, activation, mask, scores
    return itemsize * (params * (2 + OPTIMIZERS.get(optimizer, 2)) + batch * per_row)


def ch05_memory_bytes(train_rows: int, test_rows: int, inputs: int, hidden: int, batch: int,
                      iters: int, optimizer: str = "sgd", dtype="float64") -> int:
    """Estimated bytes of :func:`train_ch05` beyond the loaded data: the net, its gradients
    and optimizer state, a step's activations, the data cast to ``dtype``, the evaluation
    chunks, the per-iteration losses and the drawn batch indices."""
    itemsize = np.dtype(dtype).itemsize
    chunk = min(EVAL_CHUNK, train_rows)
    return (_net_bytes(inputs, hidden, 10, batch, optimizer, itemsize)
            + itemsize * ((train_rows + test_rows) * inputs + chunk * (inputs + 4 * hidden + 30))
            + 8 * iters + 8 * STEPS_PER_CALL * batch)


def spiral_memory_bytes(rows: int, hidden: int, batch: int, epochs: int,
                        optimizer: str = "sgd", dtype="float64", eval_interval: int = 10) -> int:
    """Estimated bytes of :func:`fit_spiral`: the net and its state, a step's activations,
    the Trainer's up-front permutations, and its loss list and history (Python floats)."""
    itemsize = np.dtype(dtype).itemsize
    iters = max(rows // batch, 1)
    averages = epochs * -(-iters // eval_interval)
    return (_net_bytes(2, hidden, 3, batch, optimizer, itemsize)
            + 8 * 2_000_000 + 8 * rows * 2 + 32 * averages + 4 * 32 * epochs)


# ------------------------------------------------------------------ vol. 1 ch. 5


@dataclass
class Ch05Run:
    """What :func:`train_ch05` measured.

    Attributes
    ----------
    net : TwoLayerNet
        The trained network.
    losses : ndarray of float64, shape (iters,)
        The loss of every iteration.
    epochs, train_acc, test_acc : list
        Epoch number and accuracies at each evaluation (iterations ``0, per_epoch, ...``).
    final_train_acc, final_test_acc : float
        Accuracies after the last iteration.
    per_epoch : int
        Iterations per epoch (``max(train_rows // batch_size, 1)``).
    seconds, eval_seconds, compile_seconds : float
        Wall time of the loop (evaluations included), of the evaluations, and of the
        first-step compile (or Numba cache load) before the loop.
    """

    net: object
    losses: np.ndarray
    per_epoch: int
    epochs: List[int] = field(default_factory=list)
    train_acc: List[float] = field(default_factory=list)
    test_acc: List[float] = field(default_factory=list)
    final_train_acc: float = float("nan")
    final_test_acc: float = float("nan")
    seconds: float = 0.0
    eval_seconds: float = 0.0
    compile_seconds: float = 0.0

    @property
    def steps_per_second(self) -> float:
        """Training iterations per second, evaluations left out."""
        return len(self.losses) / (self.seconds - self.eval_seconds)

    def plot(self, path=None, title: Optional[str] = None):
        """The loss of every iteration and the accuracies per epoch
        (:func:`fastprop.trainer.plotting.plot_curves`)."""
        from .trainer.plotting import plot_curves

        return plot_curves(self.losses, xlabel="iteration", epochs=self.epochs,
                           accuracies={"train": self.train_acc, "test": self.test_acc},
                           title=title, path=path, who="--plot")


def train_ch05(data, *, hidden: int = 50, batch_size: int = 100, lr: float = 0.1,
               iters: int = 10000, optimizer: str = "sgd", activation: str = "relu",
               dtype="float64", seed: Optional[int] = 0, progress: bool = False,
               verbose: bool = False, apply_thread_policy: bool = True,
               warmup=None) -> Ch05Run:
    """The book's ch05 loop (``train_neuralnet.py``) on ``TwoLayerNet(D, hidden, 10)``.

    Random mini-batches with replacement, drawn exactly as the book draws them
    (``np.random.choice(train_size, batch_size)`` per step, a chunk of steps at a time),
    each chunk one fused compiled call (``net.train_steps``) cut at the evaluation points;
    train and test accuracy once an epoch (every ``train_size // batch_size`` iterations).

    Parameters
    ----------
    data : ((x_train, t_train), (x_test, t_test))
        As :func:`fastprop.datasets.load_mnist` returns them: images (N, D), labels (N,).
    hidden, batch_size, iters : int >= 1
        ``batch_size`` at most the training rows.
    lr : float, finite, >= 0
    optimizer : one of :data:`OPTIMIZERS`
    activation : {'relu', 'sigmoid'}
    dtype : float64 or float32
        The net's dtype; the evaluations read a copy of the data cast once to it, the
        training steps gather (and cast) each batch from the data as loaded.
    seed : int or None
        Seeds NumPy's global RNG before the weights are drawn (None: leave it).
    progress : bool
        A tqdm bar over iterations.
    verbose : bool
        Print the settings line and one line per evaluation.
    apply_thread_policy : bool
        Run the loop under :func:`fastprop.threads.thread_limit` (the process's policy).
    warmup : Warmup or None
        What :func:`warm_ch05` started: the first step waits for its training kernels
        (the wait is counted as the first step's compile time).

    Returns
    -------
    Ch05Run
    """
    from tqdm.auto import tqdm

    from .nets import TwoLayerNet
    from .trainer import accuracy

    (x_train, t_train), (x_test, t_test) = data
    hidden, iters = _count(hidden, "hidden"), _count(iters, "iters")
    bs = _count(batch_size, "batch_size")
    train_size = x_train.shape[0]
    if bs > train_size:
        raise ValueError(f"batch_size must be <= the {train_size} training rows, got {bs}")
    validate.choice(activation, ("relu", "sigmoid"), "activation", "relu or sigmoid")
    dt = np.dtype(dtype)
    check_memory(ch05_memory_bytes(train_size, x_test.shape[0], x_train.shape[1], hidden, bs,
                                   iters, optimizer, dt), "this ch05 run")
    opt = make_optimizer(optimizer, lr)
    if seed is not None:
        np.random.seed(validate.seed(seed))
    # Training gathers each batch from the data as loaded (float32: half the memory traffic
    # of a float64 copy, cast on the way in the kernel); the evaluations read a copy cast
    # once in the network's dtype (the layers would otherwise cast every chunk every epoch).
    x_train_raw = x_train
    x_train, x_test = x_train.astype(dt, copy=False), x_test.astype(dt, copy=False)
    net = TwoLayerNet(x_train.shape[1], hidden, 10, activation=activation, dtype=dt)
    per_epoch = max(train_size // bs, 1)
    if verbose:
        print(f"TwoLayerNet({x_train.shape[1]}, {hidden}, 10, {activation}) {dt.name}, "
              f"{type(opt).__name__}(lr={lr}), batch {bs}, {iters} iterations "
              f"({per_epoch} per epoch), seed {seed}", flush=True)
    run = Ch05Run(net=net, losses=np.empty(iters), per_epoch=per_epoch)
    losses = run.losses
    tc = time.perf_counter()
    if warmup is not None:
        warmup.step_ready.wait()
    # compile (or load from Numba's cache) the kernel the loop runs; lr 0 changes nothing
    net.train_steps(x_train_raw, t_train, np.arange(bs), bs, make_optimizer(optimizer, 0.0))
    run.compile_seconds = time.perf_counter() - tc
    start = time.perf_counter()
    bar = tqdm(total=iters, unit="it", disable=not progress, mininterval=0.25,
               dynamic_ncols=True)
    i = 0
    with thread_policy.thread_limit() if apply_thread_policy else contextlib.nullcontext():
        while i < iters:
            # run up to and including the next evaluation step (i % per_epoch == 0)
            next_eval = -(-i // per_epoch) * per_epoch
            end = min(next_eval + 1, iters, i + STEPS_PER_CALL)
            idx = np.random.choice(train_size, bs * (end - i))
            thread_policy.poll()  # auto: give up a core while another process holds it
            losses[i:end] = net.train_steps(x_train_raw, t_train, idx, bs, opt)
            bar.update(end - i)
            bar.set_postfix(loss=f"{losses[end - 1]:.3f}", refresh=False)
            i = end
            if (i - 1) % per_epoch == 0 and i - 1 == next_eval:
                te = time.perf_counter()
                tr, ts = accuracy(net, x_train, t_train), accuracy(net, x_test, t_test)
                run.eval_seconds += time.perf_counter() - te
                run.epochs.append((i - 1) // per_epoch)
                run.train_acc.append(tr)
                run.test_acc.append(ts)
                if verbose:
                    bar.write(f"epoch {run.epochs[-1]:2d} | iter {i - 1:5d} | loss "
                              f"{losses[i - 1]:.4f} | train acc {tr:.4f} | test acc {ts:.4f}")
    bar.close()
    run.seconds = time.perf_counter() - start
    run.final_train_acc = accuracy(net, x_train, t_train)
    run.final_test_acc = accuracy(net, x_test, t_test)
    return run


# ------------------------------------------------------------------ vol. 2 ch. 1


@dataclass
class SpiralRun:
    """What :func:`fit_spiral` returns: the ``trainer`` (``loss_list``, ``history``), the
    ``model``, the data ``x``, ``t`` and the ``seconds`` of the fit."""

    trainer: object
    model: object
    x: np.ndarray
    t: np.ndarray
    seconds: float

    def accuracy(self) -> float:
        """Training-set accuracy of the fitted model (the book's run: 0.97)."""
        if hasattr(self.model, "accuracy"):
            return float(self.model.accuracy(self.x, self.t))
        # ch01's net (the book's run on a checkout) has predict but no accuracy
        t = self.t if self.t.ndim == 1 else np.argmax(self.t, axis=1)
        return float(np.mean(np.argmax(self.model.predict(self.x), axis=1) == t))


def _spiral_checkout(book_root):
    """The baseline of vol. 2's checkout at ``book_root`` (imported once per process), with
    what ch01's run needs; ValueError naming what is missing."""
    from .bench import baseline

    book = baseline.checkout(book_root)
    if book.volume != 2:
        raise ValueError(f"book_root {str(book_root)!r} is a checkout of vol. 1: the spiral run "
                         "is vol. 2's ch01, pass vol. 2's checkout")
    if book.Trainer is None:
        raise ValueError(f"book_root {str(book_root)!r}: its common/trainer.py has no Trainer")
    return book


@contextlib.contextmanager
def _stdout_unless(verbose):
    if verbose:
        yield
        return
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def fit_spiral(data=None, *, implementation: str = "fastprop", hidden: int = 10,
               activation: str = "sigmoid", optimizer: str = "sgd", lr: float = 1.0,
               epochs: int = 300, batch_size: int = 30, eval_interval: int = 10,
               dtype="float64", seed: Optional[int] = None, rng_state=None,
               progress: bool = False, verbose: bool = False,
               apply_thread_policy: bool = True, book_root=None) -> SpiralRun:
    """vol. 2 ch. 1's run: ``TwoLayerNet(2, hidden, 3)``, an optimizer, and
    ``Trainer(model, optimizer).fit(x, t, epochs, batch_size, eval_interval=10)``.

    Parameters
    ----------
    data : (x, t), optional
        The spiral set; None loads it (:func:`fastprop.datasets.spiral.load_data`, which
        seeds the global RNG with 1984 as the book does).
    implementation : {'fastprop', 'book'}
        fastprop's net and optimizer (the Trainer's compiled path), or the book's NumPy
        net and SGD (:mod:`fastprop.bench.book`) under the same Trainer; with
        ``book_root``, the book's run on a checkout of vol. 2 instead.
    hidden, epochs, batch_size, eval_interval : int >= 1
    activation : {'sigmoid', 'relu'}
    optimizer : one of :data:`OPTIMIZERS` (the book's net: ``'sgd'`` only)
    lr : float, finite, >= 0
    dtype : float64 or float32 (the book's net: float64 only)
    seed : int, optional
        Seed the global RNG before the weights are drawn.
    rng_state : tuple, optional
        Or set it to this state (``np.random.get_state()``); neither: as it is.
    progress, verbose : bool
        The Trainer's bar and the book's lines (quiet: the fastest path).
    apply_thread_policy : bool
        Fit under :func:`fastprop.threads.thread_limit` (the process's policy).
    book_root : str or os.PathLike, optional
        With ``implementation='book'``: a checkout of vol. 2 (the folder holding
        ``common/``). ch01's ``TwoLayerNet`` (the transcription's class,
        :class:`fastprop.bench.book.vol2_nets.TwoLayerNet`) runs on the checkout's
        ``Affine``, ``Sigmoid`` and ``SoftmaxWithLoss``, with its ``SGD`` and
        ``common/trainer.py``'s ``Trainer``, as ``ch01/train.py`` runs (its progress lines
        go to stdout only when ``verbose``; ``progress`` has no bar there).

    Returns
    -------
    SpiralRun
    """
    validate.choice(implementation, ("fastprop", "book"), "implementation", "fastprop or book")
    if book_root is not None:
        validate.path(book_root, "book_root")
        if implementation != "book":
            raise ValueError("book_root is the book's checkout: pass it with "
                             f"implementation='book', got {implementation!r}")
        if activation != "sigmoid":
            raise ValueError(f"ch01's net has a Sigmoid hidden layer, got activation={activation!r}")
        if optimizer != "sgd" or validate.float_dtype(dtype) != np.float64:
            raise ValueError("the book's run is SGD in float64 only, got "
                             f"{optimizer} in {np.dtype(dtype).name}")
    if seed is not None and rng_state is not None:
        raise ValueError("pass seed or rng_state, not both")
    hidden, epochs = _count(hidden, "hidden"), _count(epochs, "epochs", 0)
    batch_size = _count(batch_size, "batch_size")
    lr = _learning_rate(lr)
    if data is None:
        from .datasets import spiral

        data = spiral.load_data()
    x, t = data
    book = _spiral_checkout(book_root) if book_root is not None else None
    check_memory(spiral_memory_bytes(len(x), hidden, batch_size, epochs, optimizer, dtype,
                                     eval_interval), "this spiral run")
    if seed is not None:
        np.random.seed(validate.seed(seed))
    elif rng_state is not None:
        np.random.set_state(rng_state)
    from .trainer import Trainer

    if book is not None:
        model = book.TwoLayerNet(2, hidden, 3)
        trainer = book.Trainer(model, book.SGD(lr=lr))
        start = time.perf_counter()
        # the book's Trainer prints a line every eval_interval iterations, always
        with _stdout_unless(verbose), \
                thread_policy.thread_limit() if apply_thread_policy else contextlib.nullcontext():
            trainer.fit(x, t, max_epoch=epochs, batch_size=batch_size,
                        eval_interval=eval_interval)
        return SpiralRun(trainer=trainer, model=model, x=x, t=t,
                         seconds=time.perf_counter() - start)
    if implementation == "fastprop":
        from .nets import TwoLayerNet

        model = TwoLayerNet(2, hidden, 3, activation=activation, dtype=dtype)
        opt = make_optimizer(optimizer, lr)
    else:
        from .bench.book import BookSGD, BookTwoLayerNet

        if optimizer != "sgd" or np.dtype(dtype) != np.float64:
            raise ValueError("the book's net runs SGD in float64 only, got "
                             f"{optimizer} in {np.dtype(dtype).name}")
        model = BookTwoLayerNet(2, hidden, 3, activation=activation)
        opt = BookSGD(lr=lr)
    trainer = Trainer(model, opt)
    start = time.perf_counter()
    with thread_policy.thread_limit() if apply_thread_policy else contextlib.nullcontext():
        trainer.fit(x, t, max_epoch=epochs, batch_size=batch_size, eval_interval=eval_interval,
                    progress=progress, verbose=verbose)
    return SpiralRun(trainer=trainer, model=model, x=x, t=t,
                     seconds=time.perf_counter() - start)
