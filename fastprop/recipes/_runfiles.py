"""What ``fastprop train`` writes and reads besides the console: the trained parameters
(``--save``), checkpoints (``--checkpoint-every``, ``--checkpoint``, ``--resume``), the run's
metrics (``--json``), and the Ctrl-C flag that lets a step finish before the run stops.

Every file is written atomically: a temporary file in the target's folder, flushed and
synced, then ``os.replace``, so an interrupted write leaves the previous file whole. Files
are read back only through :mod:`fastprop.safe_pickle` (never ``pickle.load`` on a user's
file). Nothing heavy at import.
"""
import json
import os
import pickle
import signal
import sys
import tempfile

#: what a checkpoint's ``format`` entry says (the file is a pickled dict of plain data)
FORMAT = "fastprop-train-checkpoint"
VERSION = 1
#: keys of a recipe's settings dict that belong to this run, not to the training
RUN_KEYS = frozenset({"progress", "plot", "save", "checkpoint", "checkpoint_every", "json",
                      "resume", "resume_state"})


def _write_atomic(path, write, mode="wb"):
    """Call ``write(file)`` on a temporary file next to ``path``, then move it over ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".part")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def save_params(params, path) -> None:
    """``params`` as the book's ``save_params`` pickles them: a plain dict of NumPy arrays
    (what ch08/misclassified_mnist.py and the nets' ``load_params`` read)."""
    import numpy as np

    plain = {key: np.asarray(value) for key, value in params.items()}
    _write_atomic(path, lambda f: pickle.dump(plain, f))


def write_json(obj, path) -> None:
    """``obj`` as indented JSON (NaN written as null, so any JSON reader reads it)."""
    text = json.dumps(_jsonable(obj), indent=1, allow_nan=False) + "\n"
    _write_atomic(path, lambda f: f.write(text), mode="w")


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item") and getattr(x, "ndim", 1) == 0:  # NumPy scalars
        x = x.item()
    if isinstance(x, float) and x != x:
        return None
    return x


# ---------------------------------------------------------------- checkpoints


def _layer_state(net) -> dict:
    """Running statistics of the net's BatchNormalization layers (state that is not in
    ``params`` but changes the numbers of later steps)."""
    import numpy as np

    layers = getattr(net, "layers", None)
    out = {}
    if hasattr(layers, "items"):
        for name, layer in layers.items():
            if getattr(layer, "running_mean", None) is not None:
                out[name] = {"running_mean": np.array(layer.running_mean),
                             "running_var": np.array(layer.running_var)}
    return out


def write_checkpoint(path, *, model, settings, net, optimizer, trainer, seconds) -> None:
    """Everything a vol. 1 Trainer run needs to continue with the same numbers: the
    parameters, the BatchNorm running statistics, the optimizer's state arrays (and Adam's
    step count), the global NumPy RNG, the Trainer's counters and lists."""
    import numpy as np

    state = {name: {key: np.array(arr) for key, arr in getattr(optimizer, name).items()}
             for name in optimizer.state_names}
    ckpt = {
        "format": FORMAT, "version": VERSION, "model": model,
        "settings": {k: v for k, v in settings.items() if k not in RUN_KEYS},
        "params": {key: np.array(value) for key, value in net.params.items()},
        "layers": _layer_state(net),
        "optimizer": {"class": type(optimizer).__name__, "state": state,
                      "iter": getattr(optimizer, "iter", None)},
        "rng": np.random.get_state(),
        "trainer": {"current_iter": trainer.current_iter, "current_epoch": trainer.current_epoch,
                    "train_loss_list": [float(v) for v in trainer.train_loss_list],
                    "train_acc_list": [float(v) for v in trainer.train_acc_list],
                    "test_acc_list": [float(v) for v in trainer.test_acc_list]},
        "seconds": float(seconds),
    }
    _write_atomic(path, lambda f: pickle.dump(ckpt, f, protocol=pickle.HIGHEST_PROTOCOL))


def read_checkpoint(path, model) -> dict:
    """Read a checkpoint written by :func:`write_checkpoint` for ``--model model``.

    Raises
    ------
    OSError
        The file cannot be read.
    ValueError
        Not a data pickle (checked by :mod:`fastprop.safe_pickle`), not a fastprop
        checkpoint, a checkpoint of another model or of another format version.
    """
    from .. import safe_pickle

    path = os.fspath(path)
    limit = os.path.getsize(path) + (1 << 20)
    with open(path, "rb") as f:
        ckpt = safe_pickle.load(f, source=path, max_bytes=limit)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"--resume {path}: not a checkpoint of fastprop train (write one with "
                         "--checkpoint-every N or --checkpoint PATH)")
    if ckpt.get("version") != VERSION:
        raise ValueError(f"--resume {path}: checkpoint format version {ckpt.get('version')!r}, "
                         f"this fastprop reads version {VERSION}")
    if ckpt.get("model") != model:
        raise ValueError(f"--resume {path}: the checkpoint is of --model {ckpt.get('model')}, "
                         f"not --model {model}")
    return ckpt


def restore(ckpt, *, net, optimizer, trainer) -> float:
    """Put a checkpoint's state into a freshly built ``net``, ``optimizer`` and ``trainer``
    (in place: the layers keep their references to the parameter arrays). Returns the
    seconds the run had trained before. ValueError when the arrays do not fit the net."""
    import numpy as np

    def fit(name, saved, live):
        if not isinstance(saved, np.ndarray) or saved.shape != live.shape:
            got = saved.shape if isinstance(saved, np.ndarray) else type(saved).__name__
            raise ValueError(f"checkpoint: {name} has shape {got}, the net's is {live.shape}")
        return saved

    params = ckpt["params"]
    if set(params) != set(net.params):
        raise ValueError(f"checkpoint: parameters {sorted(params)}, the net has {sorted(net.params)}")
    for key, live in net.params.items():
        live[...] = fit(f"params[{key!r}]", params[key], live)
    for name, saved in ckpt["layers"].items():
        layer = net.layers[name]
        dt = net.params[next(iter(net.params))].dtype
        layer.running_mean = saved["running_mean"].astype(dt)
        layer.running_var = saved["running_var"].astype(dt)
    saved_opt = ckpt["optimizer"]
    if saved_opt["class"] != type(optimizer).__name__:
        raise ValueError(f"checkpoint: optimizer {saved_opt['class']}, this run's is "
                         f"{type(optimizer).__name__}")
    for name in optimizer.state_names:
        for key, arr in saved_opt["state"].get(name, {}).items():
            live = optimizer.kernel_state(key, net.params[key])[optimizer.state_names.index(name)]
            live[...] = fit(f"optimizer {name}[{key!r}]", arr, live)
    if saved_opt["iter"] is not None:
        optimizer.iter = saved_opt["iter"]
    state = ckpt["trainer"]
    trainer.current_iter = state["current_iter"]
    trainer.current_epoch = state["current_epoch"]
    trainer.train_loss_list[:] = state["train_loss_list"]
    trainer.train_acc_list[:] = state["train_acc_list"]
    trainer.test_acc_list[:] = state["test_acc_list"]
    rng = ckpt["rng"]
    np.random.set_state((rng[0], np.asarray(rng[1], dtype=np.uint32), *rng[2:]))
    return float(ckpt.get("seconds", 0.0))


# ---------------------------------------------------------------- Ctrl-C


class StopFlag:
    """Within the block, the first Ctrl-C (SIGINT) only sets :attr:`stop`: the loop checks
    it between steps, so the step running (maybe inside a compiled call, where a
    KeyboardInterrupt would surface as ``SystemError: CPUDispatcher(...) returned a result
    with an exception set``) finishes and the run can write its checkpoint. A second
    Ctrl-C raises KeyboardInterrupt at once. Outside the main thread it does nothing."""

    def __init__(self):
        self.stop = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.stop:
            raise KeyboardInterrupt
        self.stop = True
        print("\ninterrupt: finishing the current step (Ctrl-C again to quit at once)",
              file=sys.stderr, flush=True)

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: signals cannot be caught here
            self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


# ---------------------------------------------------------------- --json


def epoch_rows(losses, eval_iters, train_acc, test_acc) -> list:
    """One dict per evaluation: ``epoch``, ``iteration``, the ``loss`` of that iteration,
    the ``mean_loss`` of the iterations since the previous evaluation, ``train_acc``,
    ``test_acc``."""
    rows, prev = [], -1
    for k, (it, tr, te) in enumerate(zip(eval_iters, train_acc, test_acc)):
        window = [float(v) for v in losses[prev + 1:it + 1]]
        rows.append({"epoch": k, "iteration": int(it), "loss": float(losses[it]),
                     "mean_loss": sum(window) / len(window), "train_acc": float(tr),
                     "test_acc": float(te)})
        prev = it
    return rows


def threads_info() -> dict:
    """The thread policy and every BLAS loaded with its thread count."""
    from .. import threads

    return {"policy": threads.get_threads(),
            "blas": [{"library": lib, "threads": n, "api": api, "architecture": arch}
                     for lib, n, api, arch in threads.blas_info()]}


def metrics(model, settings, **fields) -> dict:
    """The ``--json`` document: version, model, settings (run options left out), threads,
    then ``fields`` (status, iterations, seconds, first_step_seconds, epochs, ...)."""
    from .. import __version__

    return {"fastprop_version": __version__, "command": "train", "model": model,
            "settings": {k: v for k, v in settings.items() if k not in RUN_KEYS},
            "threads": threads_info(), **fields}
