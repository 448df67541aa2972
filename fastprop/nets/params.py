"""A net's ``params`` dict, bound to its layers: one source of truth for every path.

The book's nets hand the same arrays to ``params`` and to their layers, so an in-place update
of ``params['W1']`` is what the next forward sees. Assigning a new array,
``net.params['W1'] = W``, would in the book leave the layers on the old one (the net's loss
and its training then disagree); here the assignment rebinds the layer's parameter too, so
``predict``, ``loss``, ``gradient`` and the fused steps all use the new array.
"""
from __future__ import annotations


class ParamDict(dict):
    """A dict of parameter arrays whose ``[key] = value`` also rebinds ``layer.params[i]``.

    Parameters
    ----------
    items : mapping of key to array
    bindings : mapping of key to ``(layer, index)``: where each array lives in the layers
    """

    def __init__(self, items, bindings):
        super().__init__(items)
        self._bindings = dict(bindings)
        for key, value in items.items():
            self._bind(key, value)

    def _bind(self, key, value):
        where = self._bindings.get(key)
        if where is not None:
            layer, i = where
            layer.params[i] = value

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self._bind(key, value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def __reduce__(self):  # pickles (the book's save_params) as a plain dict
        return (dict, (dict(self),))


class BoundParams:
    """The ``params`` property of a net whose layers hold its arrays: a :class:`ParamDict`
    over ``self._bindings`` (``{key: (layer, index)}``, set before ``params`` is)."""

    @property
    def params(self) -> ParamDict:
        """The layers' own arrays; ``params[key] = array`` (or a new dict) rebinds the layer."""
        return self._params

    @params.setter
    def params(self, value):
        self._params = ParamDict(value, self._bindings)
