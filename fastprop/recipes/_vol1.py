"""What the vol. 1 recipes (``multilayer``, ``convnet``, ``deepnet``) share: the settings
every one of them checks before any data loads, and the run itself -- the book's vol. 1
Trainer (:class:`fastprop.trainer.vol1.Trainer`, the same batches, steps and evaluations
as the book's scripts) under a progress bar, one line per evaluation, the final test
accuracy over the whole test set, the timing and ``--plot``.

Nothing heavy at import: NumPy, the nets and the data are imported inside the functions.
"""
import time

from .. import argtypes

#: training rows of the data sets these recipes read (known before loading them)
TRAIN_ROWS = {"mnist": 60000, "fashion-mnist": 60000}

#: the option every vol. 1 recipe reads besides the shared ones
TRAIN_SIZE = {"flag": "--train-size", "type": argtypes.positive_int, "metavar": "N",
              "help": "multilayer, convnet, deepnet: train on the first N training images "
                      "(multilayer: 300, as ch06/overfit_dropout.py; convnet, deepnet: all "
                      "60000; the test set is always the whole 10000)"}


def _say(msg):
    print(msg, flush=True)


def settings(args, model, defaults):
    """The run's settings: ``defaults`` overridden by the options given, checked.

    ``defaults`` holds at least ``epochs, batch, lr, optimizer, dtype, seed`` and
    ``train_size`` (None: the whole training set). Raises ValueError (one line) for a data
    set these models do not read, a training subset larger than the data set or a batch
    larger than the training rows.
    """
    d = dict(defaults)
    dataset = args.dataset or "mnist"
    if dataset not in TRAIN_ROWS:
        raise ValueError(f"--model {model} trains on {', '.join(sorted(TRAIN_ROWS))}, "
                         f"got --dataset {dataset}")
    d["dataset"] = dataset
    for key in ("epochs", "batch", "lr", "optimizer", "dtype", "seed", "hidden", "train_size"):
        value = getattr(args, key, None)
        if value is not None:
            d[key] = value
    rows = TRAIN_ROWS[dataset]
    if d["train_size"] is None:
        d["train_size"] = rows
    if d["train_size"] > rows:
        raise ValueError(f"--train-size must be at most the {rows} training images of {dataset}, "
                         f"got {d['train_size']}")
    if d["batch"] > d["train_size"]:
        raise ValueError(f"--batch must be at most the {d['train_size']} training images, "
                         f"got {d['batch']}")
    d["progress"] = args.progress is not False
    d["plot"] = args.plot
    return d


def iterations(epochs, train_size, batch):
    """The Trainer's ``max_iter``: ``int(epochs * max(train_size / batch, 1))``."""
    return int(epochs * max(train_size / batch, 1))


def load(d, image_shape):
    """The training subset and the whole test set, images shaped ``(N,) + image_shape``."""
    from .. import runs

    data, seconds = runs.load_dataset(d["dataset"])
    (x_train, t_train), (x_test, t_test) = data
    n = d["train_size"]
    x_train, t_train = x_train[:n], t_train[:n]
    x_train = x_train.reshape((x_train.shape[0],) + image_shape)
    x_test = x_test.reshape((x_test.shape[0],) + image_shape)
    _say(f"{d['dataset']}: {x_train.shape[0]} train / {x_test.shape[0]} test images "
         f"(loaded in {seconds:.2f} s)")
    return (x_train, t_train), (x_test, t_test)


def train(net, description, data, d, evaluate_sample_num=None):
    """Run the book's vol. 1 Trainer on ``net`` with a progress bar and print the result.

    ``description`` names the net in the settings line. The Trainer draws the book's
    batches (``np.random.choice`` per step) and evaluates at the book's points (iteration
    0, then once an epoch) on the first ``evaluate_sample_num`` images (None: all);
    the final line is the accuracy over the whole test set. Returns 0.
    """
    from tqdm.auto import tqdm

    from .. import threads as thread_policy
    from ..trainer.vol1 import Trainer

    (x_train, t_train), (x_test, t_test) = data
    trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=d["epochs"],
                      mini_batch_size=d["batch"], optimizer=d["optimizer"],
                      optimizer_param={"lr": d["lr"]},
                      evaluate_sample_num_per_epoch=evaluate_sample_num, verbose=False)
    evaluated = ("all" if evaluate_sample_num is None
                 else f"the first {evaluate_sample_num} train / test images")
    _say(f"{description} {d['dtype']}, {type(trainer.optimizer).__name__}(lr={d['lr']}), "
         f"batch {d['batch']}, {d['epochs']} epochs = {trainer.max_iter} iterations "
         f"({trainer.iter_per_epoch:g} per epoch), evaluated on {evaluated}, seed {d['seed']}")

    # The Trainer evaluates inside its step; timing the net's accuracy separates the two.
    eval_seconds = [0.0]
    book_accuracy = net.accuracy

    def timed_accuracy(x, t):
        t0 = time.perf_counter()
        try:
            return book_accuracy(x, t)
        finally:
            eval_seconds[0] += time.perf_counter() - t0

    net.accuracy = timed_accuracy
    bar = tqdm(total=trainer.max_iter, unit="it", disable=not d["progress"], mininterval=0.5,
               dynamic_ncols=True)
    first_step, shown = 0.0, 0
    start = time.perf_counter()
    with thread_policy.thread_limit():  # --threads / FASTPROP_THREADS, SciPy's BLAS included
        for i in range(trainer.max_iter):
            trainer.train_step()
            if i == 0:  # the first call compiles the kernels (or loads them from Numba's cache)
                first_eval = eval_seconds[0]
                first_step = time.perf_counter() - start - first_eval
            loss = trainer.train_loss_list[-1]
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
            if len(trainer.test_acc_list) > shown:  # this step evaluated
                shown += 1
                bar.write(f"epoch {len(trainer.test_acc_list) - 1:3d} | iter {i:6d} | loss "
                          f"{loss:.4f} | train acc {trainer.train_acc_list[-1]:.4f} | "
                          f"test acc {trainer.test_acc_list[-1]:.4f}")
    bar.close()
    seconds = time.perf_counter() - start
    net.accuracy = book_accuracy
    t0 = time.perf_counter()
    test_acc = net.accuracy(x_test, t_test)
    final_seconds = time.perf_counter() - t0
    n_eval = len(trainer.test_acc_list)
    # the steps after the first, evaluations left out (the first step's compile would
    # dominate a short run's average)
    later = trainer.max_iter - 1
    per_step = (f"{1e3 * (seconds - first_step - eval_seconds[0]) / later:.1f} ms/step after "
                "the first" if later > 0 else "one step")
    _say(f"final: test acc {test_acc:.4f} on all {x_test.shape[0]} test images"
         + (f" | last evaluated train acc {trainer.train_acc_list[-1]:.4f}" if n_eval else ""))
    _say(f"time: {seconds:.1f} s for {trainer.max_iter} iterations "
         f"({per_step}; {n_eval} evaluations "
         f"{eval_seconds[0]:.1f} s; first step incl. compile/cache load {first_step:.2f} s); "
         f"final test evaluation {final_seconds:.1f} s")
    if d["plot"]:
        from ..trainer.plotting import plot_curves

        plot_curves(trainer.train_loss_list, xlabel="iteration", epochs=list(range(n_eval)),
                    accuracies={"train": trainer.train_acc_list, "test": trainer.test_acc_list},
                    title=f"{description} {d['dataset']} {d['dtype']}", path=d["plot"],
                    who="--plot")
        _say(f"plot written to {d['plot']}")
    return 0
