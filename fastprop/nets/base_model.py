"""vol. 2's ``BaseModel`` (``common/base_model.py``): ``params``/``grads`` and the book's
parameter files (a pickled list of float16 arrays, loaded back as float32).

Loading goes through :mod:`fastprop.safe_pickle`, which builds only NumPy arrays and plain
containers: a parameter file cannot run code. fastprop is CPU-only; the book's GPU branches
(``to_cpu``/``to_gpu``) have nothing to do here.
"""
from __future__ import annotations

import os
import pickle

import numpy as np

from .. import files, safe_pickle, validate

#: largest parameter file load_params reads (the book's BetterRnnlm at 650 units is ~20 MB)
MAX_PARAM_BYTES = 1 << 31


def _file_name(model, file_name) -> str:
    if file_name is None:
        return type(model).__name__ + ".pkl"
    validate.check_type(file_name, (str, os.PathLike), "file_name", "a path (str or os.PathLike)")
    return os.fspath(file_name)


class BaseModel:
    """Base of the language models: ``params``, ``grads``, ``save_params``, ``load_params``."""

    def __init__(self):
        self.params, self.grads = None, None

    def forward(self, *args):
        raise NotImplementedError

    def backward(self, *args):
        raise NotImplementedError

    def save_params(self, file_name=None) -> None:
        """Write ``params`` as a pickled list of float16 arrays (the book's format).

        Parameters
        ----------
        file_name : str or path-like, optional
            Default ``<ClassName>.pkl`` in the current folder.
        """
        file_name = _file_name(self, file_name)
        params = [np.asarray(p).astype(np.float16) for p in self.params]
        # pickled in memory, then written whole: a failed pickle or a full disk never
        # leaves a truncated file where the previous good one was
        files.replace_file(file_name, pickle.dumps(params), "parameter file")

    def load_params(self, file_name=None) -> None:
        """Read a file written by :meth:`save_params` (or the book's) into ``params`` in place,
        as float32 (the book's ``astype('f')``), then cast to each parameter's dtype.

        Raises
        ------
        OSError
            No such file (the book's ``IOError('No file: ...')``).
        ValueError
            Not a regular file (a FIFO, folder or device: refused before opening, so nothing
            blocks), not a data pickle (code, other classes), not a list of arrays, or arrays whose
            number or shapes do not match ``params``.
        """
        file_name = _file_name(self, file_name)
        if "/" in file_name:
            file_name = file_name.replace("/", os.sep)
        if not os.path.exists(file_name):
            raise OSError("No file: " + file_name)
        data = files.read_regular(file_name, MAX_PARAM_BYTES, "parameter file")
        loaded = safe_pickle.load(data, source=file_name, max_bytes=MAX_PARAM_BYTES)
        if not isinstance(loaded, (list, tuple)) or not all(isinstance(p, np.ndarray) for p in loaded):
            raise ValueError(f"{file_name}: expected a list of arrays, got {type(loaded).__name__}")
        if len(loaded) != len(self.params):
            raise ValueError(f"{file_name} holds {len(loaded)} arrays, the model has {len(self.params)} params")
        loaded = [p.astype("f") for p in loaded]
        for i, (param, value) in enumerate(zip(self.params, loaded)):
            if value.shape != param.shape:
                raise ValueError(f"{file_name}: array {i} has shape {value.shape}, params[{i}] has {param.shape}")
        for param, value in zip(self.params, loaded):  # all checked first: nothing half-loaded
            param[...] = value
