"""What the Penn Treebank recipes (``cbow``, ``rnnlm``) share: their settings, read the
same way from the command line's options."""


def settings(model: str, args, defaults: dict, keys) -> dict:
    """``defaults`` overridden by the options in ``keys`` that were given, plus ``seed`` and
    ``progress``; ValueError for a data set other than ptb."""
    dataset = getattr(args, "dataset", None)
    if dataset not in (None, "ptb"):
        raise ValueError(f"--model {model} trains on ptb (the book's Penn Treebank), got --dataset {dataset}")
    d = dict(defaults)
    for key in keys:
        value = getattr(args, key, None)
        if value is not None:
            d[key] = value
    d["seed"] = getattr(args, "seed", None)
    d["progress"] = getattr(args, "progress", True) is not False
    return d
