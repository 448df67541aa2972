"""The one decorator every kernel goes through: the project's Numba policy in one place.

* ``cache``: on unless ``FASTPROP_CACHE`` says ``0``/``false``/``no``/``off`` (read here, once,
  so that ``kernels/`` imports nothing from ``fastprop``; :mod:`fastprop.config` reads the
  same variable with the same rule for the rest of the library);
* ``error_model="numpy"``: division by zero gives inf/nan like NumPy instead of raising,
  and no per-division check is emitted;
* no blanket ``fastmath``: it would let LLVM drop the NaN/Inf handling that the
  max-shifted softmax and the log-loss rely on. A kernel may ask for the two flags that
  leave NaN/Inf alone, by name: ``contract`` (a * b + c as one FMA) and ``reassoc``
  (LLVM may reorder a sum, which is what lets it vectorise a reduction); the tests allow
  nothing else;
* ``nogil``: kernels never touch Python objects.
"""
import os

import numba

#: values of ``FASTPROP_CACHE`` that turn the on-disk cache off
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def cache_enabled(environ=os.environ):
    """Whether compiled kernels are cached on disk (``FASTPROP_CACHE``, default on)."""
    value = environ.get("FASTPROP_CACHE")
    return value is None or value.strip().lower() not in FALSE_WORDS


CACHE = cache_enabled()


def jit(func=None, **options):
    """``numba.njit`` with the project's policy; extra ``options`` override it."""
    policy = dict(cache=CACHE, error_model="numpy", nogil=True)
    policy.update(options)
    if func is None:
        return lambda f: numba.njit(**policy)(f)
    return numba.njit(**policy)(func)
