"""What the vol. 1 recipes (``multilayer``, ``convnet``, ``deepnet``) share: the settings
every one of them checks before any data loads, and the run itself -- the book's vol. 1
Trainer (:class:`fastprop.trainer.vol1.Trainer`, the same batches, steps and evaluations
as the book's scripts) under a progress bar, one line per evaluation, the final test
accuracy over the whole test set, the timing, ``--plot``, ``--json``, ``--save`` and the
checkpoints (``--checkpoint-every``, ``--checkpoint``, ``--resume``, Ctrl-C).

Nothing heavy at import: NumPy, the nets and the data are imported inside the functions.
"""
import sys
import time

from .. import argtypes
from . import _runfiles

#: training rows of the data sets these recipes read (known before loading them)
TRAIN_ROWS = {"mnist": 60000, "fashion-mnist": 60000}

#: the option every vol. 1 recipe reads besides the shared ones
TRAIN_SIZE = {"flag": "--train-size", "type": argtypes.positive_int, "metavar": "N",
              "help": "multilayer, convnet, deepnet: train on the first N training images "
                      "(multilayer: 300, as ch06/overfit_dropout.py; convnet, deepnet: all "
                      "60000; the test set is always the whole 10000)"}
#: the options of ``fastprop train`` these recipes read besides the training settings
RUN_OPTIONS = frozenset({"json", "save", "checkpoint", "checkpoint_every", "resume"})
#: settings a vol. 1 recipe reads from the command line (or, resuming, from the checkpoint)
_SETTINGS = ("dataset", "epochs", "batch", "lr", "optimizer", "dtype", "seed", "hidden",
             "train_size")


def _say(msg):
    print(msg, flush=True)


def default_checkpoint(model) -> str:
    """Where ``--checkpoint-every`` writes without ``--checkpoint`` (the current folder)."""
    return f"fastprop-{model}.ckpt"


def settings(args, model, defaults, extra=()):
    """The run's settings: ``defaults`` overridden by the options given, checked.

    ``defaults`` holds at least ``epochs, batch, lr, optimizer, dtype, seed`` and
    ``train_size`` (None: the whole training set); ``extra`` names the recipe's own
    settings read from ``args`` the same way. With ``--resume`` the checkpoint's settings
    replace the defaults, and an option given with another value than the checkpoint's
    is refused (a resumed run keeps the settings it started with). Raises ValueError
    (one line) for a data set these models do not read, a training subset larger than
    the data set, a batch larger than the training rows, or an output file that cannot
    be written; OSError or ValueError for a checkpoint that cannot be read.
    """
    d = dict(defaults)
    keys = _SETTINGS + tuple(extra)
    resume = getattr(args, "resume", None)
    ckpt = _runfiles.read_checkpoint(resume, model) if resume else None
    if ckpt is not None:
        saved = ckpt["settings"]
        for key in keys:
            value = getattr(args, key, None)
            if value is not None and value != saved.get(key):
                raise ValueError(f"--{key.replace('_', '-')} {value} differs from the "
                                 f"{saved.get(key)} of the checkpoint {resume}: a resumed run "
                                 "keeps the settings it started with")
        d.update(saved)
    else:
        d["dataset"] = args.dataset or "mnist"
        for key in keys:
            value = getattr(args, key, None)
            if value is not None:
                d[key] = value
    dataset = d["dataset"]
    if dataset not in TRAIN_ROWS:
        raise ValueError(f"--model {model} trains on {', '.join(sorted(TRAIN_ROWS))}, "
                         f"got --dataset {dataset}")
    d["model"] = model
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
    d["save"] = getattr(args, "save", None)
    d["json"] = getattr(args, "json", None)
    d["checkpoint_every"] = every = getattr(args, "checkpoint_every", None)
    # Ctrl-C writes a checkpoint when one was asked for: --checkpoint, --checkpoint-every
    # (default file) or --resume (the file resumed from is the one kept up to date)
    path = getattr(args, "checkpoint", None) or resume
    if path is None and every is not None:
        path = default_checkpoint(model)
    d["checkpoint"] = path
    d["resume"], d["resume_state"] = resume, ckpt
    for flag, key in (("--save", "save"), ("--json", "json"), ("--checkpoint", "checkpoint")):
        if d[key]:
            argtypes.check_writable_file(d[key], flag)
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


def _resume_command(d) -> str:
    """The command that continues this run from its checkpoint."""
    words = ["fastprop", "train", "--model", d["model"], "--resume", d["checkpoint"]]
    if d["checkpoint_every"]:
        words += ["--checkpoint-every", str(d["checkpoint_every"])]
    for key in ("save", "json", "plot"):
        if d.get(key):
            words += ["--" + key, d[key]]
    return " ".join(words)


def train(net, description, data, d, evaluate_sample_num=None):
    """Run the book's vol. 1 Trainer on ``net`` with a progress bar and print the result.

    ``description`` names the net in the settings line. The Trainer draws the book's
    batches (``np.random.choice`` per step) and evaluates at the book's points (iteration
    0, then once an epoch) on the first ``evaluate_sample_num`` images (None: all);
    the final line is the accuracy over the whole test set. ``d`` holds the settings and
    the run's options (:func:`settings`): a checkpoint to resume from, checkpoints every
    N epochs, ``--save``, ``--json``. Ctrl-C lets the running step finish, writes a
    checkpoint when one was asked for, prints how to resume and returns 130; otherwise
    returns 0.
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
    seconds_before = 0.0
    if d.get("resume_state") is not None:
        with argtypes.checks():  # a checkpoint that does not fit this net: one line
            seconds_before = _runfiles.restore(d["resume_state"], net=net,
                                               optimizer=trainer.optimizer, trainer=trainer)
        d["resume_state"] = None  # (the arrays are in the net now; let them go)
        _say(f"resumed from {d['resume']} at iteration {trainer.current_iter} of "
             f"{trainer.max_iter}")
    every, ckpt_path = d.get("checkpoint_every"), d.get("checkpoint")
    if every:
        _say(f"checkpoint every {every} epoch{'s' if every > 1 else ''} to {ckpt_path}")

    # The Trainer evaluates inside its step; timing the net's accuracy separates the two.
    eval_seconds = [0.0]
    book_accuracy = net.accuracy

    def timed_accuracy(x, t):
        t0 = time.perf_counter()
        try:
            return book_accuracy(x, t)
        finally:
            eval_seconds[0] += time.perf_counter() - t0

    def checkpoint():
        with argtypes.checks():  # a full disk or a removed folder: one line, not a traceback
            _runfiles.write_checkpoint(ckpt_path, model=d["model"], settings=d, net=net,
                                       optimizer=trainer.optimizer, trainer=trainer,
                                       seconds=seconds_before + time.perf_counter() - start)

    net.accuracy = timed_accuracy
    first_iter = trainer.current_iter
    bar = tqdm(total=trainer.max_iter, initial=first_iter, unit="it", disable=not d["progress"],
               mininterval=0.5, dynamic_ncols=True)
    first_step, shown = 0.0, len(trainer.test_acc_list)
    batch, rows = d["batch"], trainer.train_size
    epochs_done = first_iter * batch // rows  # batch <= rows: at most one more per step
    interrupted = False
    start = time.perf_counter()
    with _runfiles.StopFlag() as ctrl_c, thread_policy.thread_limit():
        # --threads / FASTPROP_THREADS, SciPy's BLAS included
        for i in range(first_iter, trainer.max_iter):
            trainer.train_step()
            if i == first_iter:  # the first call compiles the kernels (or loads Numba's cache)
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
            if every and (i + 1) * batch // rows > epochs_done:
                epochs_done += 1
                if epochs_done % every == 0:
                    checkpoint()
            if ctrl_c.stop and i + 1 < trainer.max_iter:
                interrupted = True
                break
    bar.close()
    seconds = time.perf_counter() - start
    net.accuracy = book_accuracy
    done = trainer.current_iter
    steps = done - first_iter
    n_eval = len(trainer.test_acc_list)
    eval_iters = [it for it in range(done) if it % trainer.iter_per_epoch == 0]
    report = dict(iterations=done, max_iterations=trainer.max_iter,
                  seconds=seconds_before + seconds, seconds_this_session=seconds,
                  first_step_seconds=first_step, eval_seconds=eval_seconds[0],
                  epochs=_runfiles.epoch_rows(trainer.train_loss_list, eval_iters,
                                              trainer.train_acc_list, trainer.test_acc_list))
    if interrupted:
        if ckpt_path:
            checkpoint()
            how = (f"checkpoint written to {ckpt_path}; resume with: {_resume_command(d)}")
        else:
            how = ("nothing saved: run with --checkpoint-every N (or --checkpoint PATH) to be "
                   "able to resume")
        if d["json"]:
            with argtypes.checks():
                _runfiles.write_json(_runfiles.metrics(d["model"], d, status="interrupted",
                                                       **report), d["json"])
        print(f"fastprop: interrupted at iteration {done} of {trainer.max_iter}; {how}",
              file=sys.stderr, flush=True)
        return 130
    t0 = time.perf_counter()
    test_acc = net.accuracy(x_test, t_test)
    final_seconds = time.perf_counter() - t0
    # the steps after the first, evaluations left out (the first step's compile would
    # dominate a short run's average)
    later = steps - 1
    per_step = (f"{1e3 * (seconds - first_step - eval_seconds[0]) / later:.1f} ms/step after "
                "the first" if later > 0 else "one step")
    _say(f"final: test acc {test_acc:.4f} on all {x_test.shape[0]} test images"
         + (f" | last evaluated train acc {trainer.train_acc_list[-1]:.4f}" if n_eval else ""))
    _say(f"time: {seconds:.1f} s for {steps} iterations "
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
    if d["save"]:
        with argtypes.checks():
            _runfiles.save_params(net.params, d["save"])
        _say(f"parameters written to {d['save']} (the book's params.pkl format)")
    if d["json"]:
        ms = 1e3 * (seconds - first_step - eval_seconds[0]) / later if later > 0 else None
        with argtypes.checks():
            _runfiles.write_json(_runfiles.metrics(d["model"], d, status="completed",
                                                   final_test_acc=float(test_acc),
                                                   ms_per_step_after_first=ms, **report),
                                 d["json"])
        _say(f"metrics written to {d['json']}")
    return 0
