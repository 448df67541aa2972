"""Per-process memo for benchmark setups.

asv runs each parameter combination in a fresh process; newer asv runners also call
``setup`` again before every timed call (asv#966). Building arrays and warming kernels
once per process, and handing the same objects back afterwards, keeps both cheap.
"""
_store = {}


def memo(key, build):
    """``build()`` the first time ``key`` is seen in this process, the same object after."""
    try:
        return _store[key]
    except KeyError:
        value = _store[key] = build()
        return value
